import Postgres

/// Export by bank profile and resubmission of failures (SPEC §15).
///
/// Only money goes to the bank: each person-post's lines of the month (the regular line and
/// the adjustments it carries) are netted into one row; a net of zero is left out, a negative
/// net is paid nothing and is on the recovery list (`recovery`, written when the month is
/// approved). Files hold at most the profile's rows; each is one batch, numbered
/// `COUNTY-YYYYMM-NNN`, and named with its batch number, row count and total; a control sheet
/// beside them lists every file with its rows and total. A draft (`--draft`) says 草稿 DRAFT in
/// every file name and every row, and records no batch.
public enum BankExport {
    public struct File: Sendable {
        public let county: String
        public let batch: String
        public let name: String
        public let rows: Int
        public let totalFen: Int64
    }

    public struct Outcome: Sendable {
        public let files: [File]
        public let control: String?
        public let draft: Bool
        /// Person-posts left out because they net to zero, and those netting below zero (on the
        /// recovery list once the month is approved), with what they owe.
        public let zeroNets: Int
        public let negativeNets: Int
        public let negativeFen: Int64
        public var rows: Int { files.reduce(0) { $0 + $1.rows } }
        public var totalFen: Int64 { files.reduce(0) { $0 + $1.totalFen } }
    }

    /// The draft mark: in a draft's file names and, as a last column, in every row.
    public static let draftMark = "草稿DRAFT"

    /// Whether an export of the month in the region includes a county whose payroll is a draft.
    public static func includesDraft(_ connection: Connection, month: Month, region: String?) throws -> Bool {
        let counties = try Payroll.counties(connection, region: region)
        return try Database.mapped {
            try !connection.query("SELECT 1 FROM payroll_run WHERE county_code = ANY ($1::text[]) AND month = $2::date AND state = 'draft' LIMIT 1",
                                  [counties, month.firstDay.iso]).isEmpty
        }
    }

    /// A file name with the draft mark before its extension (`payroll_草稿DRAFT.csv`), unless
    /// it says so already.
    public static func draftName(_ path: String) -> String {
        let base = SafeFile.baseName(path)
        guard !base.contains(draftMark) else { return path }
        let folder = String(path.dropLast(base.count))
        if let dot = base.lastIndex(of: "."), dot != base.startIndex {
            return folder + base[..<dot] + "_" + draftMark + base[dot...]
        }
        return folder + base + "_" + draftMark
    }

    /// Writes the month's netted rows of the region's counties by `profileName` into `folder`.
    public static func export(_ connection: Connection, month: Month, region: String?, profileName: String, folder: String,
                              includeDraft: Bool, lang: Lang) throws -> Outcome {
        try checkFolder(folder)
        let counties = try Payroll.counties(connection, region: region)
        var pending: [(writer: BankFileWriter, file: File)] = []
        defer { for item in pending { item.writer.discard() } }
        let outcome: Outcome = try Database.mapped {
            try connection.transaction(.repeatableRead) {
                // Only finance may read the export (sql/0010): refused here, before a byte is written.
                try connection.query("SELECT 1 FROM payroll_export_line LIMIT 0")
                let runs = try connection.query("""
                    SELECT county_code, state FROM payroll_run WHERE county_code = ANY ($1::text[]) AND month = $2::date ORDER BY county_code
                    """, [counties, month.firstDay.iso])
                guard !runs.isEmpty else {
                    throw AppError.notFound(Text(en: "there is no payroll of \(month) in that region: run `payroll run \(month)` first",
                                                 zh: "该区划没有 \(month) 的工资表：请先运行 `payroll run \(month)`"))
                }
                let drafts = runs.filter { $0["state"] == "draft" }.count
                if drafts > 0 && !includeDraft {
                    throw AppError(.rule, code: "PAYROLL_NOT_APPROVED", Text(
                        en: "\(drafts) county payroll(s) of \(month) in that region are drafts: approve them first, or give --draft to export a preview",
                        zh: "该区划有 \(drafts) 个县 \(month) 的工资表尚未审核：请先审核，或加 --draft 导出预览"))
                }
                try Database.tuneForWholeMonth(connection)
                // Each county's profile and batch numbers, before a row is read.
                var setups: [String: (profile: BankProfile, numbers: BatchNumbers, draft: Bool)] = [:]
                for run in runs {
                    let county = run["county_code"]!
                    let draft = run["state"] == "draft"
                    setups[county] = (try BankProfile.load(connection, county: county, name: profileName),
                                      try BatchNumbers(connection, county: county, month: month, profile: profileName, draft: draft), draft)
                }
                // One pass over the month's lines of every county, in the files' order; a
                // person-post's lines are adjacent and netted as they stream.
                let writer = BatchWriter(folder: folder, month: month)
                var zero = 0, negative = 0, negativeFen: Int64 = 0
                var net = NetRow()
                func flush() throws {
                    guard let fields = net.fields else { return }
                    if net.total > 0 {
                        let county = fields[1] ?? ""
                        if writer.county != county, let setup = setups[county] {
                            try finishCounty()
                            writer.start(county: county, profile: setup.profile, numbers: setup.numbers, draft: setup.draft)
                        }
                        try writer.add(net.fields ?? [], amounts: net.sums)
                    } else if net.total == 0 {
                        zero += 1
                    } else {
                        negative += 1
                        negativeFen -= net.total
                    }
                    net = NetRow()
                }
                // Recorded once the COPY has ended: nothing else may be sent on the connection during it.
                var finished: [(numbers: BatchNumbers, files: [File])] = []
                func finishCounty() throws {
                    guard let county = writer.county, let setup = setups[county] else { return }
                    let files = try writer.finish()
                    if !setup.draft { finished.append((setup.numbers, files)) }
                }
                let profiles = Array(setups.values.map(\.profile))
                // The counties whose profile filters accounts by prefix (looked up per row only
                // when there are any: a profile copied out of `setups` per row cost a tenth of the export).
                let prefixes = setups.compactMapValues { $0.profile.accountPrefixes.isEmpty ? nil : $0.profile.accountPrefixes }
                try connection.copyOut(orderedQuery(month: month, counties: runs.compactMap { $0["county_code"] }, profiles: profiles, lang: lang)) { chunk in
                    try CopyText.forEachRow(chunk) { fields in
                        // A prefix filter of the county's profile: rows of other banks' accounts are not this file's.
                        if !prefixes.isEmpty, let accepted = prefixes[fields[1] ?? ""],
                           !accepted.contains(where: { (fields[9] ?? "").hasPrefix($0) }) { return }
                        if !net.sameKey(fields) { try flush() }
                        net.add(fields)
                    }
                }
                try flush()
                try finishCounty()
                for (numbers, files) in finished { try numbers.record(connection, files, kind: "payroll") }
                pending = writer.pending
                writer.pending = []
                let control = try writeControl(folder: folder, profileName: profileName, month: month, files: pending.map(\.file),
                                               draft: drafts > 0, format: pending.first?.writer.profile, lang: lang, pending: &pending)
                // Every file on the disk before the batches are committed.
                try BankFileWriter.sync(pending.map(\.writer))
                return Outcome(files: pending.filter { $0.file.batch != "" }.map(\.file), control: control, draft: drafts > 0,
                               zeroNets: zero, negativeNets: negative, negativeFen: negativeFen)
            }
        }
        // The database has recorded the batches: now the files take their names.
        for item in pending { try item.writer.commit(folder: folder, name: item.file.name) }
        pending = []
        SafeFile.syncFolder(folder)
        return outcome
    }

    /// The month's lines of the counties, in the export's order with a person-post's lines
    /// together (its regular line first): the fifteen export columns (§10), amounts in fen,
    /// days counted on the regular line only. `COPY` text. A column no profile writes is sent
    /// as NULL (the month, township, village, labels, name: formatted, sent and read for
    /// nothing otherwise); the keys, the account (a profile's prefix filter) and the amounts
    /// always come.
    static func orderedQuery(month: Month, counties: [String], profiles: [BankProfile], lang: Lang) -> String {
        // Literals checked by their types (a month, six-digit counties): COPY takes no parameters.
        let checked = counties.filter { $0.utf8.count == 6 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        let written = Set(profiles.flatMap(\.columns))
        let known = Set(Payroll.exportColumns.map(\.key) + ["seq", "batch"])
        // BatchWriter reads an unknown column as the first (the month).
        func column(_ key: String, _ expression: String) -> String {
            written.contains(key) || (key == "month" && !written.isSubset(of: known)) ? expression : "NULL"
        }
        let labels = "\(column("post_type", lang == .zh ? "post_type_zh" : "post_type")), \(column("funding_channel", lang == .zh ? "funding_channel_zh" : "funding_channel"))"
        return """
            COPY (
              SELECT \(column("month", "to_char(month, 'YYYY-MM')")), county_code, \(column("township", "township")), \(column("village", "village")), post_id, \(labels), \(column("name", "name")), id_number, bank_account,
                     CASE WHEN kind = 'regular' THEN days_in_post ELSE 0 END, post_subsidy_fen, social_insurance_fen, adjustment_fen, total_fen
              FROM payroll_export_line
              WHERE month = '\(month.firstDay.iso)'::date AND county_code IN (\(checked.map { "'\($0)'" }.joined(separator: ",")))
              ORDER BY county_code, region_code, post_id, id_number, kind DESC, for_month
            ) TO STDOUT
            """
    }

    /// The failures' rows, or any query giving the fifteen export columns: written as batches
    /// of one county.
    static func writeBatches(_ connection: Connection, query: String, profile: BankProfile, folder: String, month: Month,
                             county: String, draft: Bool, numbers: BatchNumbers,
                             pending: inout [(writer: BankFileWriter, file: File)]) throws -> [File] {
        let writer = BatchWriter(folder: folder, month: month)
        writer.start(county: county, profile: profile, numbers: numbers, draft: draft)
        defer { pending += writer.pending }
        try connection.copyOut(query) { chunk in
            for fields in CopyText.rows(chunk) { try writer.add(fields, amounts: (10...14).map { Int64(fields[$0] ?? "0") ?? 0 }) }
        }
        return try writer.finish()
    }

    /// `一卡通_320321-202601-001_500笔_400000.00元.csv` (草稿DRAFT before the extension for a draft).
    static func fileName(_ profile: String, batch: String, rows: Int, totalFen: Int64, draft: Bool, ext: String) -> String {
        let safe = String(profile.unicodeScalars.map { $0 == "/" || $0 == "\\" || $0.value < 0x20 ? "_" : Character($0) })
        return "\(safe)_\(batch)_\(rows)笔_\(Fen(totalFen).yuanText)元\(draft && !batch.contains(draftMark) ? "_" + draftMark : "").\(ext)"
    }

    /// The control sheet beside the files: each file's batch, name, rows and total, and the sum.
    static func writeControl(folder: String, profileName: String, month: Month, files: [File], draft: Bool, format: BankProfile?,
                             lang: Lang, pending: inout [(writer: BankFileWriter, file: File)]) throws -> String? {
        guard let base = format, !files.isEmpty else { return nil }
        let profile = BankProfile(control: base)
        let writer = try BankFileWriter(profile: profile, folder: folder, sheet: "控制表", extraHeader: draft ? draftMark : nil)
        let mark: [BankValue] = draft ? [.text(draftMark + " 不得发放")] : []
        for (index, file) in files.enumerated() {
            try writer.row([.text(file.batch), .text(file.name), .integer(Int64(file.rows)), .fen(file.totalFen)] + mark, amount: file.totalFen, line: index + 2)
        }
        let rows = files.reduce(0) { $0 + $1.rows }
        try writer.row([.text("合计"), .text("\(files.count) 个文件"), .integer(Int64(rows)), .fen(writer.totalFen)] + mark, amount: 0, line: files.count + 2)
        let name = "\(fileName(profileName, batch: month.iso.replacingOccurrences(of: "-", with: "") + "_控制表", rows: rows, totalFen: writer.totalFen, draft: draft, ext: profile.fileExtension))"
        pending.append((writer, File(county: "", batch: "", name: name, rows: rows, totalFen: writer.totalFen)))
        return name
    }

    /// A folder the files go into: it must exist and be a folder (exit 2 `BAD_OUTPUT`).
    static func checkFolder(_ folder: String) throws {
        var status = stat()
        guard !folder.isEmpty, lstat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw AppError.badInput(Text(
                en: "--output '\(TextValue.quoted(folder))' is not a folder: an export by profile writes several files (one per batch and a control sheet), named by the tool; give an existing folder",
                zh: "--output“\(TextValue.quoted(folder))”不是文件夹：按模板导出会生成多个文件（每个批次一个及一个控制表），由本工具命名；请给出已存在的文件夹"), code: "BAD_OUTPUT")
        }
    }
}

extension BankProfile {
    /// The control sheet's shape: the profile's format and encoding, its own four columns.
    init(control base: BankProfile) {
        county = base.county
        name = base.name
        columns = ["batch", "file", "rows", "total"]
        headers = ["批次号", "文件名", "笔数", "金额"]
        encoding = base.encoding
        format = base.format
        separator = base.separator
        maxRows = nil
        accountPrefixes = []
    }

    /// The export's own columns (SPEC §10) with the batch number and a sequence number first: a
    /// resubmission written without a profile.
    init(standardFor county: String, lang: Lang, xlsx: Bool) {
        self.county = county
        name = "resubmission"
        columns = ["batch", "seq"] + Payroll.exportColumns.map(\.key)
        headers = lang == .zh ? ["批次号", "序号"] + Payroll.exportColumns.map(\.zh) : columns
        encoding = "utf-8"
        format = xlsx ? "xlsx" : "csv"
        separator = ","
        maxRows = nil
        accountPrefixes = []
    }
}

/// Batch numbers of one county-month: `COUNTY-YYYYMM-NNN`, NNN counting every batch of that
/// county-month. An approved month exported again by the same profile gets the numbers its
/// files had; a draft's are `草稿DRAFT-NNN` and recorded nowhere.
final class BatchNumbers {
    let county: String
    let month: Month
    let profile: String?
    let draft: Bool
    private var earlier: [String]
    private var nextSerial: Int
    private(set) var issued: [String] = []

    init(_ connection: Connection, county: String, month: Month, profile: String?, draft: Bool, reuse: Bool = true) throws {
        self.county = county
        self.month = month
        self.profile = profile
        self.draft = draft
        // One numbering at a time per county-month.
        try connection.query("SELECT pg_advisory_xact_lock(hashtext('bank-batch/' || $1 || '/' || $2))", [county, month.iso])
        earlier = draft || !reuse ? [] : try connection.query("""
            SELECT batch_no FROM bank_batch WHERE county_code = $1 AND month = $2::date AND profile = $3 AND kind = 'payroll' ORDER BY position
            """, [county, month.firstDay.iso, profile]).compactMap { $0["batch_no"] }
        let highest = try connection.query("""
            SELECT coalesce(max(right(batch_no, 3)::int), 0) AS n FROM bank_batch WHERE county_code = $1 AND month = $2::date
            """, [county, month.firstDay.iso])[0]["n"].flatMap(Int.init) ?? 0
        nextSerial = highest + 1
    }

    func next() -> String {
        let number: String
        if draft {
            number = BankExport.draftMark + "-" + String(format3(issued.count + 1))
        } else if issued.count < earlier.count {
            number = earlier[issued.count]
        } else {
            number = "\(county)-\(month.iso.replacingOccurrences(of: "-", with: ""))-\(format3(nextSerial))"
            nextSerial += 1
        }
        issued.append(number)
        return number
    }

    private func format3(_ value: Int) -> String {
        let text = String(value)
        return text.count >= 3 ? text : String(repeating: "0", count: 3 - text.count) + text
    }

    /// Records the batches not recorded before: one statement for all of them (a county's
    /// hundred files were a hundred round trips), in their order.
    func record(_ connection: Connection, _ files: [BankExport.File], kind: String) throws {
        let chosen = files.enumerated().filter { kind != "payroll" || $0.offset >= earlier.count }
        guard !chosen.isEmpty else { return }
        try connection.command("""
            INSERT INTO bank_batch (county_code, batch_no, month, profile, kind, position, rows, total_fen, file_name)
            SELECT $1, u.batch_no, $3::date, $4, $5, u.position, u.rows, u.total_fen, u.file_name
            FROM unnest($2::text[], $6::int[], $7::int[], $8::bigint[], $9::text[]) AS u(batch_no, position, rows, total_fen, file_name)
            ORDER BY u.position
            """, [county, chosen.map(\.element.batch), month.firstDay.iso, profile, kind, chosen.map { String($0.offset + 1) },
                  chosen.map { String($0.element.rows) }, chosen.map { String($0.element.totalFen) }, chosen.map(\.element.name)])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BankExport {
    /// `payroll resubmit` (SPEC §15): the month's failed transfers not sent again yet, to the
    /// account now in force (`person_account_on`), as new batches; each failure is recorded as
    /// resubmitted (once: a unique key), so a second run finds nothing to send.
    public static func resubmit(_ connection: Connection, month: Month, region: String?, profileName: String?, output: String,
                                xlsx: Bool, lang: Lang) throws -> Outcome {
        let folder = profileName == nil ? SafeFile.folderOf(output) : output
        if profileName != nil { try checkFolder(folder) } else { try SafeFile.check(output) }
        var pending: [(writer: BankFileWriter, file: File)] = []
        defer { for item in pending { item.writer.discard() } }
        let outcome: Outcome = try Database.mapped {
            try connection.transaction(.repeatableRead) {
                let county = try BankProfile.countyOf(connection, region)
                let profile = try profileName.map { try BankProfile.load(connection, county: county, name: $0) }
                    ?? BankProfile(standardFor: county, lang: lang, xlsx: xlsx)
                let numbers = try BatchNumbers(connection, county: county, month: month, profile: profileName, draft: false, reuse: false)
                let waiting = """
                    FROM bank_failure f JOIN person pe ON pe.id_number = f.id_number LEFT JOIN post p ON p.id = f.post_id
                    WHERE f.county_code = '\(county)' AND f.month = '\(month.firstDay.iso)'::date
                      AND NOT EXISTS (SELECT 1 FROM bank_resubmission r WHERE r.failure_id = f.id)
                    """
                let missing = try connection.query("SELECT count(*) AS n, min(mask_id(f.id_number)) AS first \(waiting) AND coalesce(person_account_on(f.id_number, current_date), '') = ''")[0]
                if let count = Int(missing["n"] ?? "0"), count > 0 {
                    throw AppError(rule: .accountMissing, Text(
                        en: "\(count) failed transfer(s) have no account in force to send them to (the first: \(missing["first"] ?? "")): record the corrected accounts first",
                        zh: "有 \(count) 笔失败的转账没有现行账号可重发（首个：\(missing["first"] ?? "")）：请先登记更正后的账号"))
                }
                let labels = lang == .zh ? "pt.label_zh, fc.label_zh" : "p.post_type, p.funding_channel"
                let query = """
                    COPY (
                      SELECT to_char(f.month, 'YYYY-MM'), f.county_code, t.name, CASE WHEN v.level = 5 THEN v.name END, f.post_id, \(labels),
                             pe.name, f.id_number, person_account_on(f.id_number, current_date), 0, 0, 0, 0, f.amount_fen
                      \(waiting.replacingOccurrences(of: "LEFT JOIN post p ON p.id = f.post_id", with: """
                        LEFT JOIN post p ON p.id = f.post_id LEFT JOIN post_type pt ON pt.code = p.post_type
                        LEFT JOIN funding_channel fc ON fc.code = p.funding_channel
                        JOIN region v ON v.code = coalesce(p.region_code, pe.village_code)
                        JOIN region t ON t.code = rpad(left(coalesce(p.region_code, pe.village_code), 9), 12, '0')
                        """))
                      ORDER BY f.id
                    ) TO STDOUT
                    """
                var written = try writeBatches(connection, query: query, profile: profile, folder: folder, month: month, county: county,
                                               draft: false, numbers: numbers, pending: &pending)
                guard !written.isEmpty else {
                    throw AppError.notFound(Text(en: "there is no failed transfer of \(month) left to resubmit in county \(county): each is sent again once",
                                                 zh: "县 \(county) \(month) 没有待重发的失败转账：每笔失败只重发一次"))
                }
                if profileName == nil, let last = pending.indices.last {
                    // Without a profile: one file, under the name --output gives.
                    let file = pending[last].file
                    let named = File(county: file.county, batch: file.batch, name: SafeFile.baseName(output), rows: file.rows, totalFen: file.totalFen)
                    pending[last] = (pending[last].writer, named)
                    written = [named]
                }
                try BankFileWriter.sync(pending.map(\.writer))
                try numbers.record(connection, written, kind: "resubmission")
                // Failure i (in id order) went in batch i / cap.
                let cap = profile.maxRows ?? Int(Int32.max)
                try connection.command("""
                    INSERT INTO bank_resubmission (county_code, failure_id, batch_no, bank_account)
                    SELECT f.county_code, f.id, ($1::text[])[((row_number() OVER (ORDER BY f.id)) - 1) / $2 + 1],
                           person_account_on(f.id_number, current_date)
                    FROM bank_failure f
                    WHERE f.county_code = $3 AND f.month = $4::date AND NOT EXISTS (SELECT 1 FROM bank_resubmission r WHERE r.failure_id = f.id)
                    """, [written.map(\.batch), cap, county, month.firstDay.iso])
                return Outcome(files: written, control: nil, draft: false, zeroNets: 0, negativeNets: 0, negativeFen: 0)
            }
        }
        for item in pending { try item.writer.commit(folder: folder, name: item.file.name) }
        pending = []
        SafeFile.syncFolder(folder)
        return outcome
    }
}

/// A person-post's lines of the month, netted as they stream.
struct NetRow {
    var fields: [String?]?
    var total: Int64 = 0
    var sums: [Int64] = [0, 0, 0, 0, 0]

    func sameKey(_ row: [String?]) -> Bool {
        guard let fields else { return true }
        return fields[1] == row[1] && fields[4] == row[4] && fields[8] == row[8]
    }

    mutating func add(_ row: [String?]) {
        if fields == nil { fields = row }
        for index in 0..<5 { sums[index] += Int64(row[10 + index] ?? "0") ?? 0 }
        total = sums[4]
    }

}

/// Rows of one county at a time into files of at most the profile's rows, each a batch.
final class BatchWriter {
    let folder: String
    let month: Month
    private(set) var county: String?
    private var profile: BankProfile?
    private var numbers: BatchNumbers?
    private var draft = false
    private var current: BankFileWriter?
    private var batch = ""
    private var written: [BankExport.File] = []
    var pending: [(writer: BankFileWriter, file: BankExport.File)] = []
    private var columns: [Int] = []

    init(folder: String, month: Month) {
        self.folder = folder
        self.month = month
    }

    func start(county: String, profile: BankProfile, numbers: BatchNumbers, draft: Bool) {
        self.county = county
        self.profile = profile
        self.numbers = numbers
        self.draft = draft
        written = []
        let index = Dictionary(uniqueKeysWithValues: Payroll.exportColumns.enumerated().map { ($1.key, $0) })
        // -1: seq, -2: batch.
        columns = profile.columns.map { $0 == "seq" ? -1 : $0 == "batch" ? -2 : index[$0] ?? 0 }
    }

    /// One row: the fifteen export fields, of which days and amounts (fen) are `amounts`.
    func add(_ fields: [String?], amounts: [Int64]) throws {
        let total = amounts[4]
        guard let profile, let numbers, let county else { return }
        if let writer = current, let cap = profile.maxRows, writer.rows >= cap { try close() }
        if current == nil {
            batch = numbers.next()
            current = try BankFileWriter(profile: profile, folder: folder, sheet: batch, extraHeader: draft ? BankExport.draftMark : nil)
        }
        let writer = current!
        let seq = writer.rows + 1
        // One array kept from row to row (taken out of the property while it is filled).
        var values = self.values
        self.values = []
        values.removeAll(keepingCapacity: true)
        for column in columns {
            switch column {
            case -1: values.append(.integer(Int64(seq)))
            case -2: values.append(.text(batch))
            case 10: values.append(.integer(amounts[0]))
            case 11, 12, 13, 14: values.append(.fen(amounts[column - 10]))
            default: values.append(.text(fields[column] ?? ""))
            }
        }
        if draft { values.append(.text(BankExport.draftMark + " 不得发放")) }
        _ = county
        try writer.row(values, amount: total, line: seq + 1)
        self.values = values
    }
    private var values: [BankValue] = []

    private func close() throws {
        guard let writer = current, let profile else { return }
        try writer.seal()
        let name = BankExport.fileName(profile.name, batch: batch, rows: writer.rows, totalFen: writer.totalFen, draft: draft, ext: profile.fileExtension)
        let file = BankExport.File(county: county ?? "", batch: batch, name: name, rows: writer.rows, totalFen: writer.totalFen)
        pending.append((writer, file))
        written.append(file)
        current = nil
    }

    /// Ends the county: its files (not yet named: `pending` holds them).
    func finish() throws -> [BankExport.File] {
        try close()
        let files = written
        written = []
        county = nil
        return files
    }
}
