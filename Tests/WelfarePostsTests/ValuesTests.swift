import Testing
@testable import WelfarePosts

private let fixedToday = Day(year: 2025, month: 6, day: 15)!

/// Builds a valid ID from 17 digits with the production algorithm; only used alongside
/// the hard-coded known-valid IDs below (verified independently).
private func validID(_ first17: String) -> String {
    first17 + String(ResidentID.checkCharacter(for: first17)!)
}

// MARK: Resident ID

@Test(arguments: [
    ("11010519491231002X", "11010519491231002X"),  // well-known sample, ends in X
    ("11010519491231002x", "11010519491231002X"),  // lower-case x normalised
    ("110101199003077475", "110101199003077475"),
    ("320321198001041234", "320321198001041234"),
    ("44030819900103051X", "44030819900103051X"),
    ("44030819900103051x", "44030819900103051X"),
])
func residentIDAccepted(_ input: String, _ stored: String) throws {
    let id = try ResidentID(input, today: fixedToday)
    #expect(id.value == stored)
    #expect(id.description == stored)
}

@Test(arguments: [
    ("1101051949123100", ResidentIDProblem.wrongLength(16)),
    ("11010519491231002", .wrongLength(17)),
    ("11010519491231002X1", .wrongLength(19)),
    ("", .wrongLength(0)),
    (" 11010519491231002X", .wrongLength(19)),       // no trimming
    ("11010519491231A02X", .notDigits),
    ("1101051949123100２X", .notDigits),              // full-width digit
    ("11010519491231002Y", .notDigits),
    ("110105194912310021", .badCheckCharacter(expected: "X")),
    ("11010519491231002 ", .notDigits),
    ("110101199003077470", .badCheckCharacter(expected: "5")),
    ("11010119900307747X", .badCheckCharacter(expected: "5")),
])
func residentIDRefused(_ input: String, _ problem: ResidentIDProblem) {
    #expect(throws: problem) { try ResidentID(input, today: fixedToday) }
}

@Test(arguments: [
    ("32032119900230123", ResidentIDProblem.impossibleBirthDate),  // 30 Feb
    ("32032120230229123", .impossibleBirthDate),                   // 29 Feb, common year
    ("32032119901301123", .impossibleBirthDate),
    ("32032119900100123", .impossibleBirthDate),
    ("32032120250616123", .futureBirthDate),                       // tomorrow
    ("32032130000101123", .futureBirthDate),
])
func residentIDBadBirthDate(_ first17: String, _ problem: ResidentIDProblem) {
    #expect(throws: problem) { try ResidentID(validID(first17), today: fixedToday) }
}

@Test func residentIDBornTodayAndDerivedFields() throws {
    let born = try ResidentID(validID("32032120250615123"), today: fixedToday)
    #expect(born.birthDate == fixedToday)
    let id = try ResidentID("320321198001041234", today: fixedToday)
    #expect(id.masked == "320321********1234")
    #expect(id.birthDate == Day(year: 1980, month: 1, day: 4))
    #expect(try ResidentID("11010519491231002x").birthDate.iso == "1949-12-31")  // default today
}

@Test(arguments: [
    ("11010519491231002", Character("X")), ("11010119900307747", "5"), ("32032119800104123", "4"),
])
func checkCharacterKnown(_ first17: String, _ expected: Character) {
    #expect(ResidentID.checkCharacter(for: first17) == expected)
}

@Test(arguments: ["", "1101051949123100", "110105194912310021", "1101051949123100A"])
func checkCharacterRejectsBadInput(_ text: String) {
    #expect(ResidentID.checkCharacter(for: text) == nil)
}

// MARK: Region codes

@Test(arguments: [
    ("32", "320000000000", RegionLevel.province, "32"),
    ("320000000000", "320000000000", .province, "32"),
    ("3203", "320300000000", .city, "3203"),
    ("320321", "320321000000", .county, "320321"),
    ("320321100", "320321100000", .township, "320321100"),
    ("320321100200", "320321100200", .village, "320321100200"),
    ("3200", "320000000000", .province, "32"),
    ("320300", "320300000000", .city, "3203"),
    ("110101001001", "110101001001", .village, "110101001001"),
])
func regionForms(_ input: String, _ value: String, _ level: RegionLevel, _ prefix: String) throws {
    let r = try #require(RegionCode(input))
    #expect(r.value == value)
    #expect(r.description == value)
    #expect(r.level == level)
    #expect(r.significantPrefix == prefix)
}

@Test(arguments: [
    "", "3", "320", "32032", "3203211", "32032110", "3203211002", "32032110020", "3203211002001",
    "000000000000", "00", "001100000000", "320003000000", "320300001000", "320321000001",
    "3203a1", " 320321", "32-321", "３２",
])
func regionInvalid(_ input: String) {
    #expect(RegionCode(input) == nil)
}

@Test(arguments: [
    ("320321100200", ["320321100000", "320321000000", "320300000000", "320000000000"], "320321"),
    ("320321100", ["320321000000", "320300000000", "320000000000"], "320321"),
    ("320321", ["320300000000", "320000000000"], "320321"),
    ("3203", ["320000000000"], nil),
    ("32", [], nil),
])
func regionAncestors(_ input: String, _ ancestors: [String], _ county: String?) throws {
    let r = try #require(RegionCode(input))
    #expect(r.ancestors.map(\.value) == ancestors)
    #expect(r.parent?.value == ancestors.first)
    #expect(r.countyCode == county)
    #expect(r.county?.value == county.map { $0 + "000000" })
}

@Test(arguments: [
    ("32", "320321100200", true), ("3203", "320321", true), ("320321", "320321100200", true),
    ("320321100", "320321100200", true), ("320321100200", "320321100200", true),
    ("320321", "320321", true), ("320321100200", "320321100", false), ("320321", "3203", false),
    ("3203", "3204", false), ("320321", "320322100200", false), ("32", "33", false),
    ("320321100", "320321101200", false),
])
func regionContains(_ a: String, _ b: String, _ expected: Bool) throws {
    let x = try #require(RegionCode(a)), y = try #require(RegionCode(b))
    #expect(x.contains(y) == expected)
}

@Test func regionLevelOrderAndCodes() {
    #expect(RegionLevel.province < .village)
    #expect([RegionLevel.province, .city, .county, .township, .village].map(\.code)
            == ["province", "city", "county", "township", "village"])
    #expect(RegionCode("32")! < RegionCode("320321")!)
}

// MARK: Days and months

@Test(arguments: [
    (2023, 2, 28), (2024, 2, 29), (1900, 2, 28), (2000, 2, 29), (2100, 2, 28),
    (2025, 4, 30), (2025, 6, 30), (2025, 9, 30), (2025, 11, 30),
    (2025, 1, 31), (2025, 3, 31), (2025, 7, 31), (2025, 8, 31), (2025, 12, 31),
])
func daysInMonth(_ year: Int, _ month: Int, _ count: Int) {
    #expect(Day.daysIn(year: year, month: month) == count)
    #expect(Month(year: year, month: month)!.dayCount == count)
    #expect(Day(year: year, month: month, day: count) != nil)
    #expect(Day(year: year, month: month, day: count + 1) == nil)
}

@Test(arguments: [(1900, false), (2000, true), (2024, true), (2023, false), (2100, false), (1600, true)])
func leapYears(_ year: Int, _ leap: Bool) { #expect(Day.isLeap(year) == leap) }

@Test(arguments: [
    ("1970-01-01", 0), ("1970-01-02", 1), ("1969-12-31", -1), ("2000-03-01", 11_017),
    ("2024-02-29", 19_782), ("1900-01-01", -25_567), ("0001-01-01", -719_162), ("9999-12-31", 2_932_896),
])
func ordinals(_ iso: String, _ ordinal: Int) throws {
    let d = try #require(Day(iso: iso))
    #expect(d.ordinal == ordinal)
    #expect(Day(ordinal: ordinal) == d)
    #expect(d.iso == iso)
}

@Test func ordinalRoundTripRange() {
    var previous = Day(ordinal: -800_000)
    for n in -799_999...800_000 where n % 7 == 0 || abs(n) < 800 {
        let d = Day(ordinal: n)
        #expect(d.ordinal == n)
        #expect(previous < d)
        previous = d
    }
}

@Test(arguments: [
    "2025-1-01", "2025-01-1", "25-01-01", "2025/01/01", "2025-02-29", "2025-13-01", "2025-00-10",
    "2025-01-00", "2025-01-32", " 2025-01-01", "2025-01-01 ", "2025-01-01T00", "+025-01-01", "",
    "0000-01-01", "２０２５-01-01",
])
func strictISODayRejected(_ text: String) { #expect(Day(iso: text) == nil) }

@Test(arguments: [("2025-01", true), ("2025-12", true), ("2025-13", false), ("2025-1", false),
                  ("2025-01-01", false), ("202501", false), ("2025-00", false), ("", false)])
func strictISOMonth(_ text: String, _ ok: Bool) {
    #expect((Month(iso: text) != nil) == ok)
    if ok { #expect(Month(iso: text)!.iso == text) }
}

@Test(arguments: [
    ("2025-01-31", 1, "2025-02-01"), ("2024-02-28", 1, "2024-02-29"), ("2023-02-28", 1, "2023-03-01"),
    ("2025-12-31", 1, "2026-01-01"), ("2025-01-01", -1, "2024-12-31"), ("2024-01-01", 366, "2025-01-01"),
])
func addingDays(_ from: String, _ n: Int, _ to: String) {
    #expect(Day(iso: from)!.adding(days: n).iso == to)
}

@Test(arguments: [
    ("2025-01", 1, "2025-02"), ("2025-12", 1, "2026-01"), ("2025-01", -1, "2024-12"),
    ("2025-06", 19, "2027-01"), ("2025-06", -18, "2023-12"), ("2025-06", -30, "2022-12"),
    ("2025-03", 0, "2025-03"), ("2025-03", 120, "2035-03"),
])
func monthArithmetic(_ from: String, _ n: Int, _ to: String) {
    #expect(Month(iso: from)!.adding(months: n).iso == to)
}

@Test func monthBounds() {
    let feb = Month(iso: "2024-02")!
    #expect(feb.firstDay.iso == "2024-02-01")
    #expect(feb.lastDay.iso == "2024-02-29")
    #expect(Day(iso: "2024-02-17")!.monthValue == feb)
    #expect(Month(iso: "2024-12")! < Month(iso: "2025-01")!)
    #expect(Month(year: 2025, month: 0) == nil)
}

@Test(arguments: [
    ("2024-02-29", 2025, "2025-03-01"), ("2024-02-29", 2028, "2028-02-29"),
    ("2025-06-15", 2030, "2030-06-15"), ("2023-03-01", 2024, "2024-03-01"),
])
func anniversaries(_ d: String, _ year: Int, _ expected: String) {
    #expect(Day(iso: d)!.anniversary(inYear: year).iso == expected)
}

@Test(arguments: [
    ("2026-01-01", "2027-01-01"), ("2024-02-29", "2025-03-01"), ("2027-03-01", "2028-03-01"),
    ("2027-02-28", "2028-02-28"), ("2028-02-29", "2029-03-01"), ("2025-12-31", "2026-12-31"),
])
func nextAnniversaries(_ d: String, _ expected: String) {
    #expect(Day(iso: d)!.nextAnniversary().iso == expected)
}

@Test(arguments: [
    ("2008-06-15", "2024-06-15", 16), ("2008-06-15", "2024-06-14", 15),
    ("2008-02-29", "2024-02-29", 16), ("2008-02-29", "2024-02-28", 15),
    ("2008-02-29", "2025-02-28", 16), ("2008-02-29", "2025-03-01", 17),
    ("2008-03-01", "2025-03-01", 17), ("2008-03-01", "2025-02-28", 16),
    ("1965-12-31", "2025-12-30", 59), ("1965-12-31", "2025-12-31", 60),
    ("2025-06-15", "2025-06-15", 0),
])
func ages(_ birth: String, _ on: String, _ age: Int) {
    #expect(Day(iso: birth)!.age(on: Day(iso: on)!) == age)
}

@Test func contractTermRule() {
    let start = Day(iso: "2024-02-29")!
    let ok = { (end: String) in start <= Day(iso: end)! && Day(iso: end)! < start.nextAnniversary() }
    #expect(ok("2025-02-28"))
    #expect(!ok("2025-03-01"))
    #expect(ok("2024-02-29"))
    #expect(!ok("2024-02-28"))
}

@Test func todayIsPlausible() {
    let t = Day.today()
    #expect(t.year >= 2025 && t.year < 2200)
    #expect(Day(iso: t.iso) == t)
}

// MARK: Money

@Test(arguments: [
    ("800", 80_000 as Int64), ("800.5", 80_050), ("800.50", 80_050), ("0.01", 1), ("0.5", 50),
    ("0", 0), ("0.00", 0), ("007", 700), ("3000", 300_000), ("92233720368547758.07", Int64.max),
])
func yuanParsed(_ text: String, _ fen: Int64) {
    #expect(Fen(yuan: text)?.value == fen)
}

@Test(arguments: [
    "-1", "1.234", "abc", "", "1,000", ".5", "5.", ".", "1.2.3", "+1", " 1", "1 ", "１",
    "92233720368547758.08", "99999999999999999999", "1e3", "0x10",
])
func yuanRejected(_ text: String) { #expect(Fen(yuan: text) == nil) }

@Test(arguments: [
    (80_050 as Int64, "800.50"), (-1234, "-12.34"), (0, "0.00"), (1, "0.01"), (-5, "-0.05"),
    (80_000, "800.00"), (100, "1.00"), (Int64.max, "92233720368547758.07"),
    (Int64.min, "-92233720368547758.08"),
])
func yuanFormatted(_ fen: Int64, _ text: String) {
    #expect(Fen(fen).yuanText == text)
    #expect(Fen(fen).description == text)
}

private let halfUpCases: [(Int64, Int64, Int64)] = [
    (45_000_000, 31, 1_451_613),  // 3000000*15/31 = 1451612.90…
    (5, 2, 3), (-5, 2, -3), (7, 2, 4), (-7, 2, -4), (4, 2, 2), (1, 3, 0), (2, 3, 1), (-1, 3, 0),
    (-2, 3, -1), (15, 10, 2), (14, 10, 1), (-15, 10, -2), (-14, 10, -1), (0, 7, 0), (1, 2, 1), (-1, 2, -1),
    (Int64.max, Int64.max, 1), (Int64.max, 2, Int64.max / 2 + 1), (Int64.min, 2, Int64.min / 2),
]

@Test(arguments: halfUpCases)
func halfUp(_ n: Int64, _ d: Int64, _ q: Int64) {
    #expect(Fen.divideRoundingHalfUp(n, by: d) == q)
}
