/// Administrative level of a statistical division code, ordered from broadest to narrowest.
public enum RegionLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case province = 1, city, county, township, village

    /// Stable text form for storage and APIs.
    public var code: String {
        switch self {
        case .province: "province"
        case .city: "city"
        case .county: "county"
        case .township: "township"
        case .village: "village"
        }
    }

    public var description: String { code }
    public static func < (a: RegionLevel, b: RegionLevel) -> Bool { a.rawValue < b.rawValue }
}

/// A 12-digit statistical division code (PP CC DD TTT VVV); the hierarchy is implied by the
/// digits, so parent/ancestors/containment need no lookup table.
public struct RegionCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Always 12 ASCII digits.
    public let value: String

    /// End offsets of the segments PP, CC, DD, TTT, VVV.
    private static let ends = [2, 4, 6, 9, 12]

    /// Accepts the 2/4/6/9/12-digit forms (right-padded with zeros); refuses a zero province
    /// and any zero segment followed by a non-zero one.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard RegionCode.ends.contains(b.count), b.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let full = b + Array(repeating: UInt8(0x30), count: 12 - b.count)
        var start = 0, sawZero = false
        for (i, end) in RegionCode.ends.enumerated() {
            let zero = full[start..<end].allSatisfy { $0 == 0x30 }
            if zero { if i == 0 { return nil }; sawZero = true } else if sawZero { return nil }
            start = end
        }
        value = String(decoding: full, as: UTF8.self)
    }

    private var digits: [UInt8] { Array(value.utf8) }

    /// True exactly when `RegionCode(text)?.level == .village` (and then its `value` is `text`):
    /// 12 ASCII digits with no segment all zeros. Told from the bytes, without making a code.
    public static func isVillage(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isVillage($0) }
    }

    /// `isVillage` of a text's UTF-8 bytes.
    static func isVillage(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count == 12, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        var start = 0
        for end in [2, 4, 6, 9, 12] {
            var zero = true
            for index in start..<end where b[index] != 0x30 { zero = false }
            if zero { return false }
            start = end
        }
        return true
    }

    /// Level = the last non-zero segment.
    public var level: RegionLevel {
        let d = digits
        var start = 0, last = 1
        for (i, end) in RegionCode.ends.enumerated() {
            if d[start..<end].contains(where: { $0 != 0x30 }) { last = i + 1 }
            start = end
        }
        return RegionLevel(rawValue: last)!
    }

    /// The code without its zero padding: 2, 4, 6, 9 or 12 digits.
    public var significantPrefix: String { String(value.prefix(RegionCode.ends[level.rawValue - 1])) }

    /// The code truncated to `level` (must be at or above self's level).
    private func truncated(to level: RegionLevel) -> RegionCode {
        RegionCode(String(value.prefix(RegionCode.ends[level.rawValue - 1])))!
    }

    public var parent: RegionCode? {
        level == .province ? nil : truncated(to: RegionLevel(rawValue: level.rawValue - 1)!)
    }

    /// Nearest first, excluding self.
    public var ancestors: [RegionCode] {
        Array(sequence(first: self) { $0.parent }.dropFirst())
    }

    public var county: RegionCode? { level >= .county ? truncated(to: .county) : nil }
    public var countyCode: String? { level >= .county ? String(value.prefix(6)) : nil }

    /// True when self is `other` or one of its ancestors (prefix test works because codes are valid).
    public func contains(_ other: RegionCode) -> Bool { other.value.hasPrefix(significantPrefix) }

    public var description: String { value }
    public static func < (a: RegionCode, b: RegionCode) -> Bool { a.value < b.value }
}
