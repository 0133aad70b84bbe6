/// A calendar month, the unit of payroll periods.
public struct Month: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    init(unchecked year: Int, _ month: Int) { self.year = year; self.month = month }

    public init?(year: Int, month: Int) {
        guard (1...9999).contains(year), (1...12).contains(month) else { return nil }
        self.init(unchecked: year, month)
    }

    /// Strict `YYYY-MM`.
    public init?(iso: String) {
        let b = Array(iso.utf8)
        guard b.count == 7, b[4] == 0x2D,
              let y = parseASCIIDigits(b[0..<4]), let m = parseASCIIDigits(b[5..<7]) else { return nil }
        self.init(year: y, month: m)
    }

    public var iso: String { zeroPadded(year, 4) + "-" + zeroPadded(month, 2) }
    public var description: String { iso }
    public var firstDay: Day { Day(unchecked: year, month, 1) }
    public var lastDay: Day { Day(unchecked: year, month, dayCount) }
    public var dayCount: Int { Day.daysIn(year: year, month: month) }

    /// Month arithmetic across year boundaries (negative goes back).
    public func adding(months: Int) -> Month {
        let total = year * 12 + (month - 1) + months
        return Month(unchecked: flooredDivision(total, 12), total - flooredDivision(total, 12) * 12 + 1)
    }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
