import Testing
@testable import WelfarePosts

// MARK: Bounded amounts (SPEC §10)

@Test(arguments: [
    ("0", Int64(0)), ("800", 80_000), ("800.5", 80_050), ("1000000", 100_000_000), ("1000000.00", 100_000_000), ("-0", 0),
])
func boundedAmountAccepted(_ text: String, _ fen: Int64) throws {
    #expect(try Fen(yuan: text, atMost: Fen.fileMaximum).value == fen)
}

@Test(arguments: [
    ("1000000.01", Fen.Problem.tooLarge), ("92233720368547758.00", .tooLarge), ("99999999999999999999999", .tooLarge),
    ("-800", .negative), ("-0.01", .negative), ("abc", .notAnAmount), ("", .notAnAmount), ("1,000", .notAnAmount),
    ("800.123", .notAnAmount), ("+800", .notAnAmount), ("--800", .notAnAmount), ("８００", .notAnAmount), (".5", .notAnAmount),
])
func boundedAmountRefused(_ text: String, _ problem: Fen.Problem) {
    #expect(throws: problem) { try Fen(yuan: text, atMost: Fen.fileMaximum) }
}

@Test func standardBound() throws {
    #expect(try Fen(yuan: "100000", atMost: Fen.standardMaximum).value == 10_000_000)
    #expect(throws: Fen.Problem.tooLarge) { try Fen(yuan: "10000000000", atMost: Fen.standardMaximum) }
    #expect(Fen(100_000_000).groupedYuanText == "1,000,000.00")
    #expect(Fen(-123_456).groupedYuanText == "-1,234.56")
    #expect(Fen(5).groupedYuanText == "0.05")
}

// MARK: Text values

@Test(arguments: [
    ("王秀英", TextKind.name), ("首羡镇人民政府", .freeText), ("H-001", .code), ("a\tb", .freeText),
    (String(repeating: "名", count: 50), .name), (String(repeating: "x", count: 200), .freeText), ("E=mc2", .name),
])
func textAccepted(_ text: String, _ kind: TextKind) {
    #expect(TextValue.problem(text, kind: kind, quoted: true) == nil)
}

@Test(arguments: [
    ("=1+1", TextKind.name), ("+1", .freeText), ("-2+3", .code), ("@SUM(A1)", .name), ("王\u{0}", .name), ("王\u{1B}[2J", .freeText),
    ("a\nb", .freeText), ("a\rb", .freeText), ("a\u{7F}", .name), ("a\u{85}", .name), ("a\u{9B}2J", .name), ("a\u{202E}b", .name),
    ("a\u{200B}b", .name), ("a\u{FEFF}", .name), ("a\u{2028}b", .freeText), ("a\tb", .name), ("a\tb", .code),
    (String(repeating: "名", count: 51), .name), (String(repeating: "x", count: 201), .freeText), (String(repeating: "1", count: 65), .code),
])
func textRefused(_ text: String, _ kind: TextKind) {
    #expect(TextValue.problem(text, kind: kind, quoted: true) != nil)
}

@Test func tabOutsideQuotesOrOnTheCommandLine() {
    #expect(TextValue.problem("a\tb", kind: .freeText, quoted: false) != nil)
    #expect(TextValue.problem("a\tb", kind: .freeText) != nil)
    #expect(TextValue.problem("a\tb", kind: .freeText, quoted: true) == nil)
}

@Test(arguments: [
    ("王秀英", "王秀英"), ("\u{1B}[2J", "\\e[2J"), ("a\nb\tc\r", "a\\nb\\tc\\r"), ("a\u{202E}b", "a\\u{202E}b"), ("\u{0}", "\\u{0}"),
    ("\u{9B}", "\\u{9B}"),
])
func displayedEscapes(_ text: String, _ shown: String) {
    #expect(TextValue.displayed(text) == shown)
}

@Test func quotedIsCut() {
    let long = String(repeating: "H", count: 10 << 20)
    #expect(TextValue.quoted(long).unicodeScalars.count == 41)
}

@Test(arguments: [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("@SUM(A1)", "'@SUM(A1)"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("\tx", "'\tx"),
    ("-12.50", "-12.50"), ("+8613800000000", "+8613800000000"), ("王秀英", "王秀英"), ("", ""), ("-", "'-"),
])
func spreadsheetSafe(_ text: String, _ cell: String) {
    #expect(TextValue.spreadsheetSafe(text) == cell)
}

@Test(arguments: [("13852160001", true), ("+86 138-5216-0001", true), ("0516-8888 1234", true), ("-1", false), ("+", false),
                  ("1--2", false), ("=1", false), ("1 ", false), (String(repeating: "1", count: 21), false)])
func phoneNumbers(_ text: String, _ valid: Bool) {
    #expect(PhoneNumber.isValid(text) == valid)
}

// MARK: The file reader

@Test func utf8AndGBKFilesDecode() throws {
    let text = "姓名\n王秀英\n"
    #expect(try CSVFile(data: Array(text.utf8)).bytes == Array(text.utf8))
    #expect(try CSVFile(data: [0xEF, 0xBB, 0xBF] + Array(text.utf8)).bytes == Array(text.utf8))
    // 姓名 王秀英 in GBK.
    let gbk: [UInt8] = [0xD0, 0xD5, 0xC3, 0xFB, 0x0A, 0xCD, 0xF5, 0xD0, 0xE3, 0xD3, 0xA2, 0x0A]
    #expect(try CSVFile(data: gbk).bytes == Array(text.utf8))
}

@Test func mixedEncodingsNameTheLine() {
    // A UTF-8 file with the GBK row "王秀英" on line 3, column 2.
    let mixed: [UInt8] = Array("id,姓名\n1,李四\n2,".utf8) + [0xCD, 0xF5, 0xD0, 0xE3, 0xD3, 0xA2] + Array("\n3,张三\n".utf8)
    do {
        _ = try CSVFile(data: mixed)
        Issue.record("a mixed file was read")
    } catch let error as AppError {
        #expect(error.code == "MIXED_ENCODING")
        #expect(error.problems.map { $0.render(.en) } == ["line 3, column 2 (姓名): this line is not UTF-8 like the rest of the file (GBK?)"])
    } catch {
        Issue.record("\(error)")
    }
}

@Test func recordsKnowWhichFieldsWereQuoted() throws {
    var seen: [[Bool]] = []
    try CSVFile(data: Array("a,\"b\",c\n\"x\ty\",z,\n".utf8)).forEachRecord { seen.append($0.quoted) }
    #expect(seen == [[false, true, false], [true, false, false]])
}
