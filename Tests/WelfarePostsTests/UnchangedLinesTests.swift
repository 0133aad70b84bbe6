import Foundation
import Testing
@testable import WelfarePosts

// Issue 17, session 23: on the person import's direct path the reading thread drops a line of
// plain cells that changes nothing without making strings of it (`UnchangedLines`). It must drop
// only a row that the checks (`Staging.readRows`, `PersonImport.clean`) accept and that the
// writer would find unchanged, and must find the ordinary ones. Held here to the checks
// themselves on every line made by putting an awkward cell into an ordinary row.

private let today = Day(year: 2026, month: 11, day: 28)!
private let from = "2026-01-01"
private let vocabulary = Vocabulary.of([
    .personCategory: [("poverty-alleviated", "脱贫户"), ("monitored", "监测户"), ("other", "其他"),
                      // A label Swift calls equal to a code (U+212A KELVIN SIGN is K): `code` returns the text.
                      ("K", "\u{212A}")],
    .labourCapacity: [("full", "全劳力"), ("half", "半劳力"), ("weak", "弱劳力"), ("none", "无劳力"),
                      // Two labels equal as Swift compares them (NFC and NFD): the first one's code.
                      ("x1", "caf\u{E9}"), ("x2", "cafe\u{301}")],
])

private func residentID(_ body: String) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    let sum = zip(body.utf8, weights).reduce(0) { $0 + Int($1.0 - 0x30) * $1.1 }
    return body + String(Array("10X98765432")[sum % 11])
}

/// The slow path's verdict on `line` under `header`: the cleaned values, or nil when refused.
private func checked(_ header: String, _ line: String) throws -> [String?]? {
    let file = try CSVFile(utf8: Array((header + "\n" + line).utf8))
    var values: [String?]?
    let read = try Staging.readRows(file: file, columns: PersonImport.columns, clean: { row in
        PersonImport.clean(&row, vocabulary: vocabulary, from: from, today: today)
    }) { _, accepted, _ in values = accepted }
    return read.rows == 1 && read.problems.isEmpty ? values : nil
}

@Test(arguments: [
    "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone,effective_from",
    "id_number,name,household_id,village_code,category,labour_capacity",
    "phone,labour_capacity,category,village_code,household_id,name,id_number,bank_account",
    "身份证号,姓名,户编号,村代码,人员类别,劳动能力,联系电话",
])
func unchangedLinesDropOnlyWhatTheCheckedRowsWouldDrop(header: String) throws {
    let headerFile = try CSVFile(utf8: Array((header + "\n").utf8))
    let map = try #require(try Staging.header(of: headerFile, columns: PersonImport.columns))
    let keep = [map.position["bank_account"] == nil, map.position["phone"] == nil]
    let keys = ["id_number", "name", "household_id", "village_code", "category", "labour_capacity", "bank_account", "phone", "effective_from"]
    let ordinary = [residentID("32031119700315001"), "王秀英", "H001", "320311111218", "poverty-alleviated", "weak",
                    "6228480312345678", "13852160001", "2026-03-01"]
    // Awkward values for each cell, put in one at a time (and a few two at a time below).
    let awkward: [String] = [
        "", " ", "a", " 王秀英", "王秀英 ", "\u{3000}王秀英", "王秀英\u{3000}", "王\u{3000}秀", "王秀英\t", "\"王秀英\"", "\"a,b\"", "王\"秀",
        "=1+1", "+86 138", "-5", "@x", "cafe\u{301}", "caf\u{E9}", "\u{212A}", "K", "k", "\u{200B}x", "x\u{7F}", "é", "😀", "\u{FEFF}",
        "\u{3099}", "x\u{3099}", "\u{3000}\u{3099}",
        String(repeating: "中", count: 50), String(repeating: "中", count: 51), String(repeating: "a", count: 32), String(repeating: "a", count: 33),
        String(repeating: "1", count: 20), String(repeating: "1", count: 21), String(repeating: "a", count: 64), String(repeating: "a", count: 65),
        residentID("32031119700315001"), residentID("32031119700315001").lowercased(), residentID("32031120270315001"),
        residentID("32031119700230001"), "320311197003150012", "32031119700315001x", "32031119700315001X",
        "320311111218", "320311111000", "320311000218", "000311111218", "32031111121", "3203111112180", "３２0311111218", "420311111218",
        "poverty-alleviated", "脱贫户", "monitored", "Monitored", "full", "全劳力", "weak", "无劳力", "x1", "x2",
        "6228480312345678", "622848031", "62284803123456789012345678901", "6228 4803", "13852160001", "+86 138-5216-0001", "+86  138",
        "138-", "2026-03-01", "2025-12-31", "2026-01-01", "2026-02-29", "2024-02-29", "2026-13-01", "2026-3-01", "20260301", "0000-01-01",
        "9999-12-31", "2026-03-01 ",
    ]
    var lines: [String] = []
    func line(_ values: [String]) -> String {
        map.headers.indices.map { index in
            let key = map.presentKeys[map.present.firstIndex { $0.index == index }!]
            return values[keys.firstIndex(of: key)!]
        }.joined(separator: ",")
    }
    lines.append(line(ordinary))
    for slot in keys.indices {
        for value in awkward {
            var values = ordinary
            values[slot] = value
            lines.append(line(values))
        }
    }
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<3_000 {
        var values = ordinary
        for _ in 0..<2 { values[Int.random(in: 0..<keys.count, using: &generator)] = awkward.randomElement(using: &generator)! }
        lines.append(line(values))
    }
    // Lines that are not one row of plain cells as they stand.
    let plain = line(ordinary)
    lines += [plain + ",", String(plain.dropLast()), plain.replacingOccurrences(of: ",", with: ";"), "", ",,,,,,,", plain + "\r"]

    var dropped = 0, ordinaryDropped = 0
    var failures: [String] = []
    for (number, text) in lines.enumerated() {
        let values = (try? checked(header, text)) ?? nil
        // The stored person as the writer would compare it: the same values (the fingerprint of
        // what the checks return), dated from before the row; every other one a change.
        let stored = PackedTable(expected: 4, empty: StoredPersons.Entry(first: 0, second: 0, from: .max))
        let villages = PackedTable(expected: 4, empty: false)
        var day: Int32 = 20260101
        if let values {
            var id = values[0]!, village = values[3]!, effective = values[8]!
            day = effective.withUTF8 { StoredPersons.yyyymmdd($0) }!
            let print = StoredPersons.Fingerprint.of(values, keep: keep)
            let key = id.withUTF8 { PersonImport.packed($0) }!
            stored.set(key, StoredPersons.Entry(first: print.0, second: print.1, from: number % 7 == 0 ? day + 1 : day))
            if let code = village.withUTF8({ UnchangedLines.packed(village: $0) }) { villages.set(code, true) }
        } else {
            // A refused row: a stored person with the values its cells would give taken as they
            // stand, so only the checks stand between the row and its being dropped.
            let cells = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if cells.count == map.headers.count {
                var naive: [String?] = keys.map { key in map.position[key].map { cells[$0] }.flatMap { $0.isEmpty ? nil : $0 } }
                naive[4] = naive[4].map { vocabulary.code(.personCategory, $0) ?? $0 }
                naive[5] = naive[5].map { vocabulary.code(.labourCapacity, $0) ?? $0 }
                let print = StoredPersons.Fingerprint.of(naive, keep: keep)
                if var id = naive[0], let key = id.withUTF8({ PersonImport.packed($0) }) {
                    stored.set(key, StoredPersons.Entry(first: print.0, second: print.1, from: 0))
                }
                if var village = naive[3], let code = village.withUTF8({ UnchangedLines.packed(village: $0) }) { villages.set(code, true) }
            }
        }
        let setup = UnchangedLines.Setup(header: map, vocabulary: vocabulary, from: from, today: today, keep: keep)
        let lane = UnchangedLines(setup, stored: stored, villages: villages)
        var repeats = RepeatedIDs()
        for ending in ["\n", "\r\n", ""] {
            let bytes = Array(("x,y\n" + text + ending + "z").utf8)
            let end = bytes.withUnsafeBufferPointer { lane.take(line: 2, text: $0, start: 4, repeats: &repeats) }
            guard let end else { continue }
            dropped += 1
            if text == plain { ordinaryDropped += 1 }
            let unchanged = values.map { values in
                stored[PersonImport.packed(values[0]!)!]!.isUnchanged(print: StoredPersons.Fingerprint.of(values, keep: keep),
                                                                        day: day)
            } ?? false
            if !unchanged || ending.isEmpty || end != bytes.count - 1 {
                failures.append("\(text.debugDescription) + \(ending.debugDescription): dropped, checked \(values.debugDescription)")
            }
        }
    }
    #expect(failures.isEmpty, "\(failures.prefix(10))")
    // The ordinary row is dropped (with either line ending), and so are many of the others.
    #expect(ordinaryDropped >= 2)
    #expect(dropped > 300, "\(dropped) of \(lines.count)")
}

@Test func packedIDsAndVillagesAreTheChecksOwn() {
    var generator = SystemRandomNumberGenerator()
    var texts: [String] = []
    for _ in 0..<50_000 {
        let body = (0..<17).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
        texts.append(residentID(body))
        texts.append(body + ["X", "x", "0", "5", "a"].randomElement(using: &generator)!)
        var birth = Array(residentID("320311" + String(Int.random(in: 1890...2030, using: &generator)) + "0229001").utf8)
        if Bool.random(using: &generator) { birth[10] = UInt8(ascii: "1"); birth[11] = UInt8(ascii: "3") }
        texts.append(String(decoding: birth, as: UTF8.self))
    }
    for text in texts {
        let expected = (try? ResidentID(text, today: today).value).flatMap { $0 == text ? PersonImport.packed($0) : nil }
        var copy = text
        #expect(copy.withUTF8 { ResidentID.packedIfValid($0, today: today) } == expected, "\(text)")
    }
    for _ in 0..<50_000 {
        let text = (0..<Int.random(in: 11...13, using: &generator)).map { _ in ["0", "0", "1", "9", "a"].randomElement(using: &generator)! }.joined()
        var copy = text
        let packed = copy.withUTF8 { UnchangedLines.village($0) }
        #expect((packed != nil) == RegionCode.isVillage(text), "\(text)")
        if let packed { #expect(packed == UInt64(text)) }
    }
}
