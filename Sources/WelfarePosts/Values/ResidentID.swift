/// Why a resident ID text was refused; carried to the user as a precise message.
public enum ResidentIDProblem: Error, Equatable, Sendable {
    case wrongLength(Int)
    case notDigits
    case badCheckCharacter(expected: Character)
    case impossibleBirthDate
    case futureBirthDate
}

/// An 18-character PRC resident identity number (GB 11643-1999), validated on construction
/// so every stored ID has a correct check character and a plausible birth date.
public struct ResidentID: Sendable, Hashable, CustomStringConvertible {
    /// Normalised form: upper-case `X` as check character.
    public let value: String

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkTable: [Character] = Array("10X98765432")

    /// Validates `text` as-is (no trimming: the caller decides what input cleanup is allowed).
    public init(_ text: String, today: Day = .today()) throws(ResidentIDProblem) {
        // Bytes, not Characters: imports check a million of these.
        var bytes = Array(text.utf8)
        guard bytes.count == 18 else {
            let count = text.count
            throw count == 18 ? .notDigits : .wrongLength(count)
        }
        var sum = 0
        let weights = ResidentID.weights
        for index in 0..<17 {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { throw .notDigits }
            sum += Int(digit) * weights[index]
        }
        let lowerX = bytes[17] == UInt8(ascii: "x")
        if lowerX { bytes[17] = UInt8(ascii: "X") }
        guard bytes[17] == UInt8(ascii: "X") || bytes[17] &- 0x30 < 10 else { throw .notDigits }
        let expected = ResidentID.checkTable[sum % 11]
        guard bytes[17] == expected.asciiValue else { throw .badCheckCharacter(expected: expected) }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }
        guard let birth = Day(year: number(6..<10), month: number(10..<12), day: number(12..<14)) else { throw .impossibleBirthDate }
        guard birth <= today else { throw .futureBirthDate }
        // The text itself when nothing was normalised (no second string made).
        value = lowerX ? String(decoding: bytes, as: UTF8.self) : text
    }

    public static func checkCharacter(for first17: String) -> Character? {
        let b = Array(first17.utf8)
        guard b.count == 17, b.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let sum = zip(b, weights).reduce(0) { $0 + Int($1.0 - 0x30) * $1.1 }
        return checkTable[sum % 11]
    }

    private static func birthDate(of text: String) -> Day? {
        let b = Array(text.utf8)
        guard let y = parseASCIIDigits(b[6..<10]), let m = parseASCIIDigits(b[10..<12]), let d = parseASCIIDigits(b[12..<14])
        else { return nil }
        return Day(year: y, month: m, day: d)
    }

    /// Birth date encoded in digits 7–14 (validated at init, so never nil).
    public var birthDate: Day { ResidentID.birthDate(of: value)! }

    /// Display form for lists and logs: region prefix + 8 asterisks + last 4.
    public var masked: String { String(value.prefix(6)) + "********" + String(value.suffix(4)) }

    /// The full normalised value (use `masked` for display to limit exposure).
    public var description: String { value }
}
