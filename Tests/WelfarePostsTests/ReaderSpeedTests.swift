import Testing
@testable import WelfarePosts

// Issue 17 made the readers find cells whole instead of byte by byte. These tests hold the fast
// readers to the simple ones they replaced, byte for byte, on every small text of the awkward
// characters (quotes inside and around cells, commas last, CR, LF, CRLF, empty lines, a
// multi-byte character), and on random longer ones.

/// The CSV reader as it was before issue 17: every byte appended to the cell.
private func simpleRecords(_ text: [UInt8]) -> [[String]]? {
    var out: [[String]] = []
    var index = 0, line = 1, recordLine = 1
    var field: [UInt8] = [], fields: [String] = [], quoted: [Bool] = []
    var fieldQuoted = false, inRecord = false
    func emit() { out.append(["\(recordLine)"] + fields + quoted.map { $0 ? "q" : "-" }) }
    while index < text.count {
        let byte = text[index]
        if byte == 0x22 && field.isEmpty {
            inRecord = true; fieldQuoted = true; index += 1
            var closed = false
            while index < text.count {
                let b = text[index]
                if b == 0x22 {
                    if index + 1 < text.count && text[index + 1] == 0x22 { field.append(b); index += 2; continue }
                    index += 1; closed = true; break
                }
                if b == 0x0A { line += 1 }
                field.append(b); index += 1
            }
            if !closed { return nil }
            continue
        }
        switch byte {
        case 0x2C:
            fields.append(String(decoding: field, as: UTF8.self)); quoted.append(fieldQuoted)
            fieldQuoted = false; field.removeAll(); inRecord = true
        case 0x0A, 0x0D:
            if byte == 0x0D && index + 1 < text.count && text[index + 1] == 0x0A { index += 1 }
            if inRecord || !field.isEmpty {
                fields.append(String(decoding: field, as: UTF8.self)); quoted.append(fieldQuoted); emit()
            }
            field.removeAll(); fields.removeAll(); quoted.removeAll(); fieldQuoted = false; inRecord = false
            line += 1; recordLine = line
        default:
            field.append(byte); inRecord = true
        }
        index += 1
    }
    if inRecord || !field.isEmpty { fields.append(String(decoding: field, as: UTF8.self)); quoted.append(fieldQuoted); emit() }
    return out
}

private func fastRecords(_ text: [UInt8]) -> [[String]]? {
    var out: [[String]] = []
    do {
        try CSVFile(utf8: text).forEachRecord { record in
            out.append(["\(record.line)"] + record.fields + record.quoted.map { $0 ? "q" : "-" })
        }
    } catch {
        return nil
    }
    return out
}

/// Every text of up to `length` pieces from `alphabet`.
private func allTexts(_ alphabet: [[UInt8]], length: Int) -> [[UInt8]] {
    var texts: [[UInt8]] = [[]]
    var layer: [[UInt8]] = [[]]
    for _ in 0..<length {
        layer = layer.flatMap { text in alphabet.map { text + $0 } }
        texts += layer
    }
    return texts
}

@Test func csvReaderReadsEveryShortTextAsTheSimpleOneDid() {
    let alphabet: [[UInt8]] = [[0x61], [0x2C], [0x22], [0x0A], [0x0D], Array("王".utf8), [0x20]]
    var differing: [String] = []
    for text in allTexts(alphabet, length: 6) where simpleRecords(text) != fastRecords(text) {
        differing.append(String(decoding: text, as: UTF8.self).debugDescription)
        if differing.count >= 5 { break }
    }
    #expect(differing.isEmpty, "read differently: \(differing)")
}

@Test func csvReaderReadsLongRandomTextsAsTheSimpleOneDid() {
    var generator = SystemRandomNumberGenerator()
    let pieces: [[UInt8]] = [[0x61], [0x62], [0x2C], [0x2C], [0x22], [0x0A], [0x0D], [0x0D, 0x0A], Array("王秀英".utf8), [0x20], Array("\"\"".utf8)]
    for _ in 0..<3_000 {
        let text = (0..<Int.random(in: 0...80, using: &generator)).flatMap { _ in pieces.randomElement(using: &generator)! }
        #expect(simpleRecords(text) == fastRecords(text), "\(String(decoding: text, as: UTF8.self).debugDescription)")
    }
}

@Test func csvReaderKeepsLineNumbersQuotesAndEmptyCells() throws {
    let text = Array("a,b,\r\n\"x\ny\",\"\"\"q\"\"\",z\"w\n\n,\nlast".utf8)
    var seen: [[String]] = []
    try CSVFile(utf8: text).forEachRecord { seen.append(["\($0.line)"] + $0.fields) }
    #expect(seen == [["1", "a", "b", ""], ["2", "x\ny", "\"q\"", "z\"w"], ["5", "", ""], ["6", "last"]])
}

/// COPY text rows as read before issue 17: byte by byte.
private func simpleCopyRows(_ bytes: [UInt8]) -> [[String?]] {
    var rows: [[String?]] = [], fields: [String?] = [], field: [UInt8] = []
    func end() { fields.append(field == [0x5C, 0x4E] ? nil : CopyText.unescape(field)); field.removeAll() }
    for byte in bytes {
        if byte == 0x09 { end() } else if byte == 0x0A { end(); rows.append(fields); fields = [] } else { field.append(byte) }
    }
    if !field.isEmpty || !fields.isEmpty { end(); rows.append(fields) }
    return rows
}

@Test func copyTextRowsReadEveryShortTextAsTheSimpleOneDid() {
    let alphabet: [[UInt8]] = [[0x61], [0x09], [0x0A], [0x5C], [0x4E], [0x74], Array("王".utf8)]
    var differing: [String] = []
    for text in allTexts(alphabet, length: 6) where simpleCopyRows(text) != CopyText.rows(text) {
        differing.append(String(decoding: text, as: UTF8.self).debugDescription)
        if differing.count >= 5 { break }
    }
    #expect(differing.isEmpty, "read differently: \(differing)")
}

@Test func residentIDsPackOneToOne() {
    #expect(PersonImport.packed("32032119690612107X") != PersonImport.packed("320321196906121070"))
    #expect(PersonImport.packed("320321196906121071") != PersonImport.packed("320321196906121070"))
    #expect(PersonImport.packed("32032119690612107X") == PersonImport.packed("32032119690612107X"))
    #expect(PersonImport.packed("999999999999999999") != nil)
    #expect(PersonImport.packed("99999999999999999X") != nil)
    // Nothing that is not 17 digits and a digit or X packs: such a row never reaches the check.
    #expect(PersonImport.packed("32032119690612107") == nil)
    #expect(PersonImport.packed("3203211969061210700") == nil)
    #expect(PersonImport.packed("32032119690612107x") == nil)
    #expect(PersonImport.packed("3203211969061210X0") == nil)
    // Distinct IDs differing anywhere pack to distinct numbers (the packing is positional).
    let base = Array("320321196906121070".utf8)
    var seen = Set<UInt64>()
    for position in 0..<18 {
        for digit in UInt8(0x30)...UInt8(0x39) {
            var id = base
            id[position] = digit
            seen.insert(PersonImport.packed(String(decoding: id, as: UTF8.self))!)
        }
    }
    #expect(seen.count == 18 * 9 + 1)
}

// Issue 17, session 21: the per-cell checks of a person row work on the cell's bytes. Each is
// held to the code it replaced on every short text of awkward characters and on random longer
// ones.

private enum OldChecks {
    /// The old phone check, said another way: at most 20 bytes, an optional leading '+', then
    /// groups of digits split by single spaces or hyphens.
    static func phone(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 20 else { return false }
        let body = bytes.first == 0x2B ? bytes.dropFirst() : bytes[...]
        let groups = body.split(omittingEmptySubsequences: false) { $0 == 0x20 || $0 == 0x2D }
        return groups.allSatisfy { !$0.isEmpty && $0.allSatisfy { (0x30...0x39).contains($0) } }
    }

    static func bank(_ text: String) -> Bool {
        (10...30).contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func village(_ text: String) -> String? {
        if let code = RegionCode(text), code.level == .village { return code.value }
        return nil
    }

    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{3000}" }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return String(text[first...last])
    }
}

private func shortTexts(_ alphabet: [String], upTo length: Int) -> [String] {
    var all = [""], layer = [""]
    for _ in 0..<length {
        layer = layer.flatMap { prefix in alphabet.map { prefix + $0 } }
        all += layer
    }
    return all
}

@Test func personCellChecksDecideAsTheOldOnesDid() {
    let alphabet = ["0", "1", "9", "+", "-", " ", "=", "@", "\t", "X", "中", "\u{3000}", "\r", "\n", "\u{301}", "\u{200B}", "\u{7F}"]
    var generator = SystemRandomNumberGenerator()
    var texts = shortTexts(alphabet, upTo: 4)
    // Longer ones: mostly digits (accounts, phones, village codes with zero segments).
    let digitish = ["0", "0", "0", "1", "5", "9", "-", " ", "+", "中", "a"]
    for _ in 0..<20_000 {
        let length = Int.random(in: 8...32, using: &generator)
        texts.append((0..<length).map { _ in digitish.randomElement(using: &generator)! }.joined())
    }
    for _ in 0..<20_000 {
        texts.append((0..<12).map { _ in ["0", "0", "1", "7"].randomElement(using: &generator)! }.joined())
    }
    texts += ["320311111218", "320311111000", "320311000218", "320300111218", "000311111218", "3203111112180", "32031111121", "３２0311111218"]
    // Session 22: Chinese names take the fast path; the characters around its range do not.
    let edges = ["\u{2FFF}", "\u{3000}", "\u{3001}", "\u{4E2D}", "\u{9FA5}", "\u{D7FF}", "\u{E000}", "\u{EFFF}", "\u{F000}", "\u{FEFF}",
                 "\u{FFFB}", "\u{2028}", "\u{202E}", "\u{2069}", "\u{85}", "\u{A0}", "\u{1F600}", "=", "a", " ", "\t"]
    for _ in 0..<20_000 {
        let length = Int.random(in: 0...70, using: &generator)
        texts.append((0..<length).map { _ in edges.randomElement(using: &generator)! }.joined())
    }
    for length in [0, 1, 49, 50, 51, 63, 64, 65, 200, 201] { texts.append(String(repeating: "中", count: length)) }
    var failures: [String] = []
    for text in texts {
        if PhoneNumber.isValid(text) != OldChecks.phone(text) { failures.append("phone \(text.debugDescription)") }
        if BankAccount.isValid(text) != OldChecks.bank(text) { failures.append("bank \(text.debugDescription)") }
        if (RegionCode.isVillage(text) ? text : nil) != OldChecks.village(text) { failures.append("village \(text.debugDescription)") }
        if text.trimmingWhitespace() != OldChecks.trimmed(text) { failures.append("trim \(text.debugDescription)") }
        if !text.mayNeedTrimming && OldChecks.trimmed(text) != text { failures.append("mayNeedTrimming \(text.debugDescription)") }
        for kind in [TextKind.name, .freeText, .code(maxLength: 3), .code] {
            for formula in [true, false] {
                let now = TextValue.problem(text, kind: kind, quoted: false, formulaCheck: formula)
                let slow = TextValue.slowProblem(text, kind: kind, quoted: false, formulaCheck: formula)
                if now != slow { failures.append("problem \(text.debugDescription) \(kind) \(formula)") }
            }
        }
    }
    #expect(failures.isEmpty, "\(failures.prefix(20))")
    #expect(failures.count == 0)
}

@Test func vocabularySetsAreFoundAtTheirPlace() {
    for (offset, set) in Vocabulary.Set.allCases.enumerated() { #expect(set.slot == offset, "\(set)") }
}

// Issue 17, session 22: the direct path's whole-file UTF-8 check passes over ASCII eight bytes at
// a time, and a resident ID is checked in place. Each is held to what it replaced.

@Test func wholeFileUTF8CheckFindsWhatTheByteCheckFinds() {
    var generator = SystemRandomNumberGenerator()
    // Bytes around every boundary of UTF-8: ASCII, continuation bytes, every kind of lead, the
    // overlong, surrogate and past-U+10FFFF leads, and the invalid leads.
    let pieces: [[UInt8]] = [[0x41], [0x0A], [0x7F], [0x80], [0xBF], [0xC0], [0xC1], [0xC2], [0xDF], [0xE0], [0xE0, 0xA0],
                             [0xED], [0xED, 0x9F], [0xED, 0xA0], [0xEF], [0xF0], [0xF0, 0x90], [0xF4], [0xF4, 0x8F], [0xF4, 0x90],
                             [0xF5], [0xFF], Array("中".utf8), Array("é".utf8), Array("😀".utf8), Array("ABCDEFGH".utf8),
                             [0xE1], [0xEC], [0xEE], [0xEF, 0xBF], [0xE1, 0x80], Array("\u{1000}".utf8), Array("\u{FFFD}".utf8)]
    var texts = allTexts(pieces, length: 3)
    for _ in 0..<20_000 {
        let length = Int.random(in: 0...40, using: &generator)
        texts.append((0..<length).flatMap { _ in pieces.randomElement(using: &generator)! })
    }
    var failures: [[UInt8]] = []
    for text in texts {
        let whole = text.withUnsafeBufferPointer { CSVFile.firstInvalidUTF8(whole: $0) }
        if whole != CSVFile.firstInvalidUTF8(text, from: 0, to: text.count) { failures.append(text) }
    }
    #expect(failures.isEmpty, "\(failures.prefix(10))")
}

/// ResidentID's check as it was before session 22 (an array of the bytes, Character lookups).
private func oldResidentID(_ text: String, today: Day) -> Result<String, ResidentIDProblem> {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    let checkTable: [Character] = Array("10X98765432")
    var bytes = Array(text.utf8)
    guard bytes.count == 18 else {
        let count = text.count
        return .failure(count == 18 ? .notDigits : .wrongLength(count))
    }
    var sum = 0
    for index in 0..<17 {
        let digit = bytes[index] &- 0x30
        guard digit < 10 else { return .failure(.notDigits) }
        sum += Int(digit) * weights[index]
    }
    let lowerX = bytes[17] == UInt8(ascii: "x")
    if lowerX { bytes[17] = UInt8(ascii: "X") }
    guard bytes[17] == UInt8(ascii: "X") || bytes[17] &- 0x30 < 10 else { return .failure(.notDigits) }
    let expected = checkTable[sum % 11]
    guard bytes[17] == expected.asciiValue else { return .failure(.badCheckCharacter(expected: expected)) }
    func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }
    guard let birth = Day(year: number(6..<10), month: number(10..<12), day: number(12..<14)) else { return .failure(.impossibleBirthDate) }
    guard birth <= today else { return .failure(.futureBirthDate) }
    return .success(lowerX ? String(decoding: bytes, as: UTF8.self) : text)
}

@Test func residentIDsAreCheckedAsBefore() {
    var generator = SystemRandomNumberGenerator()
    let today = Day(year: 2026, month: 6, day: 15)!
    var texts = ["32032119690612107X", "32032119690612107x", "320321196906121070", "320321202606161234", "320321199902301234",
                 "32032119690612107", "3203211969061210700", "32032119690612107Ｘ", "３20321196906121070", "32032119690612107é",
                 "", "X", "320321196906121 07X"]
    let characters = Array("0123456789Xx -é中")
    for _ in 0..<60_000 {
        // Mostly 17 digits of a plausible birth date and any last character, so every check is reached.
        let year = Int.random(in: 1890...2030, using: &generator), month = Int.random(in: 0...13, using: &generator)
        let day = Int.random(in: 0...32, using: &generator)
        var text = "320321" + String(year) + (month < 10 ? "0" : "") + String(month) + (day < 10 ? "0" : "") + String(day)
            + String(Int.random(in: 100...999, using: &generator))
        text.append(characters.randomElement(using: &generator)!)
        if Int.random(in: 0..<10, using: &generator) == 0 {
            var all = Array(text)
            all[Int.random(in: 0..<all.count, using: &generator)] = characters.randomElement(using: &generator)!
            text = String(all)
        }
        texts.append(text)
    }
    var failures: [String] = []
    var accepted = 0
    for text in texts {
        let now: Result<String, ResidentIDProblem>
        do { now = .success(try ResidentID(text, today: today).value) } catch { now = .failure(error) }
        if now != oldResidentID(text, today: today) { failures.append(text) }
        if case .success = now { accepted += 1 }
    }
    #expect(failures.isEmpty, "\(failures.prefix(10))")
    #expect(accepted > 1_000)
}
