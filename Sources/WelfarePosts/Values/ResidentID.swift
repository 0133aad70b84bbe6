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
        // Bytes, not Characters, and in place (no array made): imports check a million of these.
        var text = text
        guard text.utf8.count == 18 else {
            let count = text.count
            throw count == 18 ? .notDigits : .wrongLength(count)
        }
        let read = text.withUTF8 { ResidentID.read($0) }
        switch read {
        case .notDigits:
            throw .notDigits
        case .badCheck(let expected):
            throw .badCheckCharacter(expected: Character(Unicode.Scalar(expected)))
        case .read(let lowerX, let year, let month, let day):
            guard let birth = Day(year: year, month: month, day: day) else { throw .impossibleBirthDate }
            guard birth <= today else { throw .futureBirthDate }
            // The text itself when nothing was normalised (no second string made).
            value = lowerX ? String(text.dropLast()) + "X" : text
        }
    }

    enum Read { case notDigits, badCheck(UInt8), read(lowerX: Bool, year: Int, month: Int, day: Int) }

    /// The digits, check character and birth date of an ID's 18 bytes, as `init` reads them.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Read {
        var sum = 0
        for index in 0..<17 {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { return .notDigits }
            sum += Int(digit) * ResidentID.weight(index)
        }
        let lowerX = bytes[17] == UInt8(ascii: "x")
        let last = lowerX ? UInt8(ascii: "X") : bytes[17]
        guard last == UInt8(ascii: "X") || last &- 0x30 < 10 else { return .notDigits }
        let expected = ResidentID.checkByte(sum % 11)
        guard last == expected else { return .badCheck(expected) }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }
        return .read(lowerX: lowerX, year: number(6..<10), month: number(10..<12), day: number(12..<14))
    }

    /// `PersonImport.packed` of the ID whose UTF-8 bytes these are, when `ResidentID(text, today:)`
    /// accepts it and its `value` is the text itself (no lower-case x); else nil. One pass.
    static func packedIfValid(_ bytes: UnsafeBufferPointer<UInt8>, today: Day) -> UInt64? {
        guard bytes.count == 18, let p = bytes.baseAddress, let value = decimalValue(UnsafeBufferPointer(start: p, count: 17)) else { return nil }
        @inline(__always) func d(_ index: Int) -> Int { Int(p[index] &- 0x30) }
        // `weights`, written out.
        let sum = 7 * d(0) + 9 * d(1) + 10 * d(2) + 5 * d(3) + 8 * d(4) + 4 * d(5) + 2 * d(6) + d(7) + 6 * d(8) + 3 * d(9)
            + 7 * d(10) + 9 * d(11) + 10 * d(12) + 5 * d(13) + 8 * d(14) + 4 * d(15) + 2 * d(16)
        let last = p[17]
        guard last == ResidentID.checkByte(sum % 11) else { return nil }
        guard let birth = Day(year: d(6) * 1000 + d(7) * 100 + d(8) * 10 + d(9), month: d(10) * 10 + d(11), day: d(12) * 10 + d(13)),
              birth <= today else { return nil }
        return value * 11 + (last == UInt8(ascii: "X") ? 10 : UInt64(last - 0x30))
    }

    /// GB 11643's weight of digit `index` (0...16) and check character of a sum modulo 11, as
    /// `weights` and `checkTable` hold them, without an array's bounds and reference counting.
    @inline(__always) static func weight(_ index: Int) -> Int {
        // The weights repeat after ten digits.
        let weights: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3)
        switch index % 10 {
        case 0: return weights.0
        case 1: return weights.1
        case 2: return weights.2
        case 3: return weights.3
        case 4: return weights.4
        case 5: return weights.5
        case 6: return weights.6
        case 7: return weights.7
        case 8: return weights.8
        default: return weights.9
        }
    }

    @inline(__always) static func checkByte(_ remainder: Int) -> UInt8 {
        // "10X98765432"
        switch remainder {
        case 0: return 0x31
        case 1: return 0x30
        case 2: return UInt8(ascii: "X")
        default: return UInt8(0x30 + 12 - remainder)
        }
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

/// The number ASCII digits spell (at most 19 of them), or nil when a byte is not a digit.
@inline(__always) func decimalValue(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
    var value: UInt64 = 0
    for byte in bytes {
        let digit = byte &- 0x30
        guard digit < 10 else { return nil }
        value = value * 10 + UInt64(digit)
    }
    return value
}
