/// One fuzzing input through the file reader and the value parsers (issue 12), checking what
/// must hold for any bytes at all. Called by the libFuzzer target `fuzz-values` (and by its
/// replay of the committed corpus); a broken promise stops the process, which is what the
/// fuzzer reports.
///
/// What it promises: no input traps (overflow, out-of-range index, allocation of everything);
/// a file the reader accepts is valid UTF-8 and splits into records whose cells know whether
/// they were quoted; every value a parser accepts prints back as it was read; a value held to
/// a kind is within its length and has no forbidden character or formula start; what is shown
/// (`displayed`, `quoted`) holds no control character; a spreadsheet cell never starts a formula.
public enum Fuzzing {
    static let columns = PersonImport.columns + Disbursements.columns(withMonth: true)
        + [ImportColumn("insurer", "保险公司", required: false, kind: .name), ImportColumn("need", "设岗需求", required: false, kind: .freeText)]

    public static func exercise(_ data: [UInt8]) {
        let today = Day(year: 2026, month: 6, day: 30)!
        // The whole input as a file.
        if let file = try? CSVFile(data: data) {
            check(String(validating: file.bytes, as: UTF8.self) != nil, "the reader let through text that is not UTF-8")
            var header: HeaderMap?
            var lastLine = 0
            try? file.forEachRecord { record in
                check(record.fields.count == record.quoted.count, "a record's quoted flags do not match its fields")
                check(record.line > lastLine, "records went back in lines")
                lastLine = record.line
                guard let map = header else {
                    header = try? HeaderMap(record, columns: columns.uniqued())
                    for field in record.fields { values(field, today: today) }
                    return
                }
                var row = ImportRow(line: record.line, fields: record.fields, header: map)
                row.checkCells(quoted: record.quoted)
                for (key, index) in map.position where !row.refused.contains(key) {
                    if let value = row.value(key), let column = map.columns[key] {
                        check(TextValue.problem(value, kind: column.kind, quoted: record.quoted[index], formulaCheck: column.formulaCheck) == nil,
                              "a cell that breaks the rules was read")
                    }
                }
                for field in record.fields.prefix(16) { values(field, today: today) }
            }
        }
        // Each line of the input as a row of a person file: the reading thread's lane may drop
        // it unread only if the checks accept it and find it unchanged.
        laneDropsOnlyWhatTheChecksAccept(data, today: today)
        // The input as one value, and each of its lines as a value.
        let text = String(decoding: data, as: UTF8.self)
        values(text, today: today)
        for line in text.split(separator: "\n", maxSplits: 64).prefix(64) { values(String(line), today: today) }
    }

    static func values(_ raw: String, today: Day) {
        let text = raw.trimmingWhitespace()
        for kind in [TextKind.name, .freeText, .code] {
            if TextValue.problem(text, kind: kind, quoted: true) == nil {
                check(text.unicodeScalars.count <= kind.maxLength, "a value longer than its kind was accepted")
                // A tab only in (quoted) free text.
                check(!text.unicodeScalars.contains { ($0 != "\t" || kind != .freeText) && TextValue.forbiddenName($0) != nil },
                      "a forbidden character was accepted")
                check(text.unicodeScalars.first.map { !TextValue.formulaStarts.contains($0) } ?? true, "a formula was accepted")
            }
        }
        let shown = TextValue.displayed(raw)
        check(!shown.unicodeScalars.contains { $0 == "\t" || TextValue.forbiddenName($0) != nil }, "displayed text holds a control character")
        check(TextValue.quoted(raw).unicodeScalars.count <= 41, "a quoted value was not cut")
        let cell = TextValue.spreadsheetSafe(raw)
        if let first = cell.unicodeScalars.first, TextValue.formulaStarts.contains(first) || first == "\t" || first == "\r" {
            check(TextValue.isPlainNumber(cell), "a spreadsheet cell starts a formula")
        }
        for maximum in [Fen.fileMaximum, Fen.standardMaximum] {
            if let fen = try? Fen(yuan: text, atMost: maximum) {
                check(fen.value >= 0 && fen.value <= maximum.value, "an amount out of bounds was accepted")
                check(Fen(yuan: fen.yuanText) == fen, "an amount does not print back as itself")
            }
        }
        _ = Fen(yuan: text)?.groupedYuanText
        if let day = Day(iso: text) {
            check(day.iso == text, "a date does not print back as itself")
            check(Day(ordinal: day.ordinal) == day, "a date does not survive its ordinal")
            _ = day.adding(days: 3660).iso
            _ = day.nextAnniversary()
        }
        if let month = Month(iso: text) {
            check(month.iso == text, "a month does not print back as itself")
            _ = month.adding(months: 1200).lastDay
        }
        if let id = try? ResidentID(text, today: today) {
            check(id.value.utf8.count == 18 && id.birthDate <= today, "a resident ID was accepted that is not one")
            _ = id.masked
        }
        if let code = RegionCode(text) {
            check(code.value.utf8.count == 12 && code.value.utf8.allSatisfy { (0x30...0x39).contains($0) }, "a region code is not 12 digits")
        }
        if PhoneNumber.isValid(text) {
            check(TextValue.problem(text, kind: .code(maxLength: 20), formulaCheck: false) == nil, "a phone number breaks the text rules")
        }
        if BankAccount.isValid(text) { _ = BankAccount.masked(text) }
        if Disbursements.isReference(text) {
            check(TextValue.problem(text, kind: .code) == nil, "a bank reference breaks the text rules")
        }
    }

    /// `UnchangedLines` (person import, same file again) checks a line on its bytes and drops
    /// it when the stored person is the same. For each of the input's first lines as the one
    /// row under a person file's header, with the person stored as the line's cells read naively (so only the checks stand
    /// between the line and its being dropped) or, where the checks accept it, as they read it:
    /// a dropped line must be one the checks accept and find unchanged.
    static func laneDropsOnlyWhatTheChecksAccept(_ data: [UInt8], today: Day) {
        for line in data.prefix(1 << 14).split(separator: 0x0A, maxSplits: 16, omittingEmptySubsequences: true).prefix(16) {
            laneDropsOnlyWhatTheChecksAccept(line: Array(line), today: today)
        }
    }

    static func laneDropsOnlyWhatTheChecksAccept(line: [UInt8], today: Day) {
        let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone,effective_from"
        let from = "2026-01-01"
        let vocabulary = Vocabulary.of([
            .personCategory: [("poverty-alleviated", "脱贫户"), ("monitored", "监测户"), ("other", "其他")],
            .labourCapacity: [("full", "全劳力"), ("half", "半劳力"), ("weak", "弱劳力"), ("none", "无劳力")],
        ])
        guard let headerFile = try? CSVFile(utf8: Array((header + "\n").utf8)),
              let map = try? Staging.header(of: headerFile, columns: PersonImport.columns) else { return }
        let keep = [false, false]
        var accepted: [String?]?
        if let file = try? CSVFile(data: Array((header + "\n").utf8) + line),
           let read = try? Staging.readRows(file: file, columns: PersonImport.columns, clean: { row in
               PersonImport.clean(&row, vocabulary: vocabulary, from: from, today: today)
           }, accept: { _, values, _ in accepted = values }), read.rows == 1, read.problems.isEmpty {
        } else {
            accepted = nil
        }
        let stored = PackedTable(expected: 4, empty: StoredPersons.Entry(first: 0, second: 0, from: .max))
        let villages = PackedTable(expected: 4, empty: false)
        let naive: [String?] = {
            let cells = String(decoding: line, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == map.headers.count else { return [] }
            var values: [String?] = ["id_number", "name", "household_id", "village_code", "category", "labour_capacity",
                                     "bank_account", "phone", "effective_from"].map { key in
                map.position[key].map { cells[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            }
            values[4] = values[4].map { vocabulary.code(.personCategory, $0) ?? $0 }
            values[5] = values[5].map { vocabulary.code(.labourCapacity, $0) ?? $0 }
            return values
        }()
        let person = accepted ?? naive
        guard person.count == 9, var id = person[0], let key = id.withUTF8({ PersonImport.packed($0) }) else { return }
        var effective = person[8] ?? from
        let day = effective.withUTF8 { StoredPersons.yyyymmdd($0) } ?? 20260101
        let print = StoredPersons.Fingerprint.of(person, keep: keep)
        stored.set(key, StoredPersons.Entry(first: print.0, second: print.1, from: accepted == nil ? 0 : day))
        if var village = person[3], let code = village.withUTF8({ UnchangedLines.packed(village: $0) }) { villages.set(code, true) }
        let setup = UnchangedLines.Setup(header: map, vocabulary: vocabulary, from: from, today: today, keep: keep)
        let lane = UnchangedLines(setup, stored: stored, villages: villages)
        var repeats = RepeatedIDs()
        let bytes = Array("x,y\n".utf8) + line + Array("\nz".utf8)
        let end = bytes.withUnsafeBufferPointer { lane.take(line: 2, text: $0, start: 4, repeats: &repeats) }
        guard end != nil else { return }
        check(accepted != nil, "the lane dropped a line the checks refuse")
        if let accepted {
            check(stored[key]?.isUnchanged(print: StoredPersons.Fingerprint.of(accepted, keep: keep), day: day) == true,
                  "the lane dropped a line the checks read as a change")
        }
        check(end == bytes.count - 1, "the lane ended a line elsewhere than at its newline")
    }

    static func check(_ condition: Bool, _ promise: StaticString) {
        if !condition { fatalError("fuzzing: \(promise)") }
    }
}

extension Array where Element == ImportColumn {
    /// The first column of each key.
    func uniqued() -> [ImportColumn] {
        var seen = Swift.Set<String>()
        return filter { seen.insert($0.key).inserted }
    }
}
