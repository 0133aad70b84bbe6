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
