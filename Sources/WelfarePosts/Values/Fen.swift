/// Money in integer fen (0.01 yuan) so sums and pay formulas never suffer binary rounding.
public struct Fen: Sendable, Hashable, CustomStringConvertible {
    public let value: Int64

    public init(_ value: Int64) { self.value = value }

    /// Parses non-negative yuan text `digits[.d|.dd]`; refuses signs, separators, `.5`, `5.`,
    /// more than two decimals and anything that overflows Int64 fen.
    public init?(yuan text: String) {
        let parts = text.utf8.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
              parts.allSatisfy({ $0.allSatisfy { (0x30...0x39).contains($0) } }) else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard (1...2).contains(f.count) else { return nil }
            frac = Int64(parseASCIIDigits(f)!) * (f.count == 1 ? 10 : 1)
        }
        var fen: Int64 = 0
        for c in parts[0] {
            let (m, o1) = fen.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return nil }
            fen = s
        }
        let (m, o1) = fen.multipliedReportingOverflow(by: 100)
        let (s, o2) = m.addingReportingOverflow(frac)
        guard !o1, !o2 else { return nil }
        value = s
    }

    /// Yuan with exactly two decimals, e.g. `800.50`, `-12.34`.
    public var yuanText: String {
        let mag = value.magnitude
        let cents = mag % 100
        return (value < 0 ? "-" : "") + String(mag / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
    }

    public var description: String { yuanText }

    /// Integer division rounding half away from zero (the pay rule), e.g. divide(45000000, 31).
    public static func divideRoundingHalfUp(_ numerator: Int64, by denominator: Int64) -> Int64 {
        precondition(denominator > 0, "denominator must be positive")
        let q = numerator / denominator
        let r = (numerator % denominator).magnitude
        // r >= denominator - r  ⇔  2r >= denominator, without overflow.
        guard r >= denominator.magnitude - r else { return q }
        return numerator < 0 ? q - 1 : q + 1
    }
}
