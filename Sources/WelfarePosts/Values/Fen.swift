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

    /// The most a single amount of a file may be (SPEC §10): 1,000,000 yuan.
    public static let fileMaximum = Fen(100_000_000)
    /// The most a monthly pay standard (post or social-insurance subsidy) may be (SPEC §10):
    /// 100,000 yuan a month.
    public static let standardMaximum = Fen(10_000_000)

    /// Why a text is not an amount of 0 to `maximum`.
    public enum Problem: Error, Sendable, Equatable {
        /// Not yuan with at most two decimals at all.
        case notAnAmount
        /// A well-formed amount below zero (`-800`).
        case negative
        /// A well-formed amount above the maximum (or beyond any integer).
        case tooLarge
    }

    /// Parses yuan text and holds it to 0...`maximum`, telling a malformed amount from one out
    /// of bounds. Never traps: digits beyond Int64 are `tooLarge`.
    public init(yuan text: String, atMost maximum: Fen) throws(Problem) {
        var body = Substring(text)
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        let parts = body.utf8.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.count == 1 || (1...2).contains(parts[1].count),
              parts.allSatisfy({ $0.allSatisfy { (0x30...0x39).contains($0) } }) else { throw .notAnAmount }
        guard let fen = Fen(yuan: String(body)) else { throw .tooLarge }
        if negative && fen.value != 0 { throw .negative }
        guard fen.value <= maximum.value else { throw .tooLarge }
        self = fen
    }

    /// `1,000,000.00`: yuan with thousands separated, for messages.
    public var groupedYuanText: String {
        let plain = yuanText
        let sign = plain.hasPrefix("-") ? "-" : ""
        let digits = Array(plain.dropFirst(sign.count).prefix { $0 != "." })
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return sign + grouped + plain.drop { $0 != "." }
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

extension Fen.Problem {
    /// What is wrong with `text` as an amount of at most `maximum`, in words a township
    /// administrator understands. `perMonth`: the bound is a monthly pay standard's.
    public func explanation(_ text: String, maximum: Fen, perMonth: Bool = false) -> Text {
        let shown = TextValue.quoted(text)
        let bound = maximum.groupedYuanText
        switch self {
        case .notAnAmount:
            return Text(en: "'\(shown)' is not an amount in yuan with at most two decimals, e.g. 800 or 800.50",
                        zh: "“\(shown)”不是金额：以元为单位，最多两位小数，例如 800 或 800.50")
        case .negative:
            return Text(en: "'\(shown)' is below zero: an amount is 0 to \(bound) yuan\(perMonth ? " a month" : "")",
                        zh: "“\(shown)”小于零：金额应为 0 至 \(bound) 元\(perMonth ? "/月" : "")")
        case .tooLarge:
            return perMonth
                ? Text(en: "'\(shown)' is more than \(bound) yuan a month, the most a pay standard may be: check for extra digits",
                       zh: "“\(shown)”超过每月 \(bound) 元，即待遇标准的上限：请检查是否多输了数字")
                : Text(en: "'\(shown)' is more than \(bound) yuan, the most one amount may be: check for extra digits",
                       zh: "“\(shown)”超过 \(bound) 元，即单笔金额的上限：请检查是否多输了数字")
        }
    }
}
