import Foundation  // only for the system clock in `today()`

/// A calendar date (proleptic Gregorian, no time zone), the unit of every record date.
/// Years are limited to 1...9999 so the ISO text form is always `YYYY-MM-DD`.
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Internal unchecked init for values already known to be valid.
    init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year; self.month = month; self.day = day
    }

    /// Validating init: nil unless the date really exists.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Day.daysIn(year: year, month: month)).contains(day) else { return nil }
        self.init(unchecked: year, month, day)
    }

    /// Strict `YYYY-MM-DD`: exactly 10 ASCII characters, real date.
    public init?(iso: String) {
        let b = Array(iso.utf8)
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D,
              let y = parseASCIIDigits(b[0..<4]), let m = parseASCIIDigits(b[5..<7]), let d = parseASCIIDigits(b[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var iso: String { zeroPadded(year, 4) + "-" + zeroPadded(month, 2) + "-" + zeroPadded(day, 2) }
    public var description: String { iso }

    /// Today in Asia/Shanghai (UTC+8 all year, no DST), so no tz database is needed.
    public static func today() -> Day {
        let seconds = Int(Date().timeIntervalSince1970.rounded(.down)) + 8 * 3600
        return Day(ordinal: flooredDivision(seconds, 86_400))
    }

    public static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days in the month; 0 for an invalid month so callers' range checks fail safely.
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeap(year) ? 29 : 28
        default: return 0
        }
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil), for day arithmetic and differences.
    public var ordinal: Int {
        let y = month <= 2 ? year - 1 : year
        let era = flooredDivision(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Inverse of `ordinal` (Hinnant's civil_from_days).
    public init(ordinal: Int) {
        let z = ordinal + 719_468
        let era = flooredDivision(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func adding(days: Int) -> Day { Day(ordinal: ordinal + days) }

    /// Same month/day in `year`; 29 Feb falls on 1 Mar in a non-leap year (statutory convention).
    public func anniversary(inYear year: Int) -> Day {
        if month == 2 && day == 29 && !Day.isLeap(year) { return Day(unchecked: year, 3, 1) }
        return Day(unchecked: year, month, day)
    }

    /// Anniversary one year on; a contract end is valid iff start <= end < start.nextAnniversary().
    public func nextAnniversary() -> Day { anniversary(inYear: year + 1) }

    /// Completed years on `day`, counted by anniversary (born 29 Feb ages on 1 Mar in common years).
    public func age(on day: Day) -> Int {
        let years = day.year - year
        return day < anniversary(inYear: day.year) ? years - 1 : years
    }

    public var monthValue: Month { Month(unchecked: year, month) }

    public static func < (a: Day, b: Day) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// Floor division (Swift `/` truncates toward zero, wrong for pre-1970 ordinals).
func flooredDivision(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Parses ASCII digits only (rejects signs, spaces and non-ASCII digits that `Int(_:)` might allow).
func parseASCIIDigits<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
    guard !bytes.isEmpty else { return nil }
    var n = 0
    for c in bytes {
        guard (0x30...0x39).contains(c) else { return nil }
        n = n * 10 + Int(c - 0x30)
    }
    return n
}

/// Zero-pads a non-negative number to `width` digits.
func zeroPadded(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
