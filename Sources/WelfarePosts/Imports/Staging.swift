import Postgres

/// One data row of an import file, read by column key, collecting problems as it is checked.
public struct ImportRow {
    public let line: Int
    /// The cells, trimmed once (whitespace around a value is never part of it).
    let fields: [String]
    let header: HeaderMap
    public internal(set) var problems: [FileProblem] = []
    /// Columns whose cell was refused before the import read it (a control character, too
    /// long, a formula): read as absent, so no second problem is told about them.
    var refused: Set<String> = []

    public init(line: Int, fields: [String], header: HeaderMap) {
        self.line = line
        // Most rows have nothing to trim: then the array is shared, not copied.
        self.fields = fields.contains(where: \.mayNeedTrimming) ? fields.map { $0.trimmingWhitespace() } : fields
        self.header = header
    }

    /// The trimmed value of a column; nil when the file has no such column, the cell is empty,
    /// or the cell was refused.
    public func value(_ key: String) -> String? {
        guard let index = header.index(of: key), index < fields.count, refused.isEmpty || !refused.contains(key) else { return nil }
        let text = fields[index]
        return text.isEmpty ? nil : text
    }

    public func has(_ key: String) -> Bool { header.position[key] != nil }

    /// Records a problem with this row's cell of `key`.
    public mutating func problem(_ key: String, _ text: Text) {
        let index = header.position[key]
        problems.append(FileProblem(line: line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] }, problem: text))
    }

    /// The cell's value, or a "required" problem and nil.
    public mutating func required(_ key: String, _ zh: String) -> String? {
        if let text = value(key) { return text }
        if refused.contains(key) { return nil }
        problem(key, Text(en: "\(key) is empty", zh: "\(zh)不能为空"))
        return nil
    }

    /// An amount cell in yuan held to 0...`maximum` (SPEC §10), as fen; nil with a problem when
    /// it is not one, and nil without one when the cell is empty (`required` says so if needed).
    public mutating func amount(_ key: String, _ zh: String, required isRequired: Bool = true, maximum: Fen = Fen.fileMaximum) -> Fen? {
        guard let text = isRequired ? required(key, zh) : value(key) else { return nil }
        do {
            return try Fen(yuan: text, atMost: maximum)
        } catch {
            problem(key, error.explanation(text, maximum: maximum))
            return nil
        }
    }

    /// Holds every cell of the row to its column's kind (SPEC §10): control characters, length,
    /// a leading formula character. Refused cells are then read as absent.
    mutating func checkCells(quoted: [Bool]) {
        for (slot, cell) in header.present.enumerated() where cell.index < fields.count {
            let text = fields[cell.index]
            guard !text.isEmpty else { continue }
            if let text = TextValue.problem(text, kind: cell.kind, quoted: cell.index < quoted.count && quoted[cell.index],
                                            formulaCheck: cell.formulaCheck) {
                let key = header.presentKeys[slot]
                problem(key, text)
                refused.insert(key)
            }
        }
    }
}

/// Reads a file into a temporary staging table with `COPY`: each row checked in Swift as it
/// streams (values: IDs, codes, dates), then the whole set checked in SQL (duplicates,
/// references), every problem collected with its line and column.
public struct Staging {
    public let header: HeaderMap
    public let rowCount: Int
    /// The temporary table the rows are staged in.
    public let table: String
    public private(set) var problems: [FileProblem]

    /// - Parameters:
    ///   - table: name of the temporary table, created here with `line int` first, then
    ///     `columns` (all text), and dropped at commit.
    ///   - clean: checks one row and returns the values for `columns`, or nil when the row has
    ///     problems (which it records on the row).
    public init(file: CSVFile, columns: [ImportColumn], connection: Connection, table: String,
                stagingColumns: [String], clean: (inout ImportRow) -> [String?]?) throws {
        self.table = table
        try connection.execute("CREATE TEMP TABLE \(table) (line int NOT NULL, "
            + stagingColumns.map { "\($0) text" }.joined(separator: ", ") + ") ON COMMIT DROP")
        var read: (header: HeaderMap, rows: Int, problems: [FileProblem])?
        try connection.copyIn("COPY \(table) FROM STDIN") { writer in
            read = try Staging.readRows(file: file, columns: columns, clean: clean) { line, values, _ in
                try writer.write(decimal: line)
                for value in values {
                    try writer.write(byte: UInt8(ascii: "\t"))
                    if let value { try writer.write(field: value) } else { try writer.write("\\N") }
                }
                try writer.write(byte: UInt8(ascii: "\n"))
            }
        }
        guard let read else { preconditionFailure("readRows returns or throws") }
        let rows = read.rows
        self.header = read.header
        self.rowCount = rows
        self.problems = read.problems
        // A big file's statements are planned without nested loops. The target's statistics may
        // say it is empty (a new or truncated table, VACUUM ANALYZE before the first import):
        // the planner then scans it once per staged row, and an INSERT that fills it as it goes
        // turns quadratic, hours for a county's file. A hash join instead reads the target's
        // rows (of the operator's region) once, about 0.25 s per statement for a million; a
        // small file keeps the planner's index lookups.
        // The set-wise checks and the upsert hash the file's rows: in memory, in one batch.
        if rows > Staging.bulkRows {
            try connection.execute("SET LOCAL enable_nestloop = off")
            try Database.tuneForBulk(connection)
        }
    }

    /// Reads every record of `file`, holds each row to the checks every import shares (the
    /// header, cells, the count of cells, a second header row) and `clean`'s own, and hands each
    /// row `clean` accepts to `accept` with its line and values, and whether every row before it
    /// was accepted too. Returns the header, the count of data rows and the problems found;
    /// throws for a file without a header or without data rows.
    ///
    /// `skip` is offered every data line after the first where a record begins
    /// (`CSVFile.forEachRecord(line:)`): when it takes the line (returns the index past its line
    /// feed) the line is counted as a row every check accepts and is not read further (the caller
    /// has checked it as these checks and `clean` would, and has no use for its values).
    static func readRows(file: CSVFile, columns: [ImportColumn], clean: (inout ImportRow) -> [String?]?,
                         skip: (_ line: Int, _ text: UnsafeBufferPointer<UInt8>, _ start: Int) throws -> Int? = { _, _, _ in nil },
                         accept: (_ line: Int, _ values: [String?], _ allAcceptedSoFar: Bool) throws -> Void)
        throws -> (header: HeaderMap, rows: Int, problems: [FileProblem]) {
        var header: HeaderMap?
        var problems: [FileProblem] = []
        var rows = 0
        try file.forEachRecord(line: { line, text, start in
            // Not the header, nor the first data row (which may be a second header).
            guard rows > 0, header != nil, let end = try skip(line, text, start) else { return nil }
            rows += 1
            return end
        }) { record in
            guard let map = header else {
                header = try HeaderMap(record, columns: columns)
                return
            }
            rows += 1
            if rows == 1 { try Staging.refuseSecondHeader(record, columns: columns) }
            var row = ImportRow(line: record.line, fields: record.fields, header: map)
            row.checkCells(quoted: record.quoted)
            // A row with more or fewer cells than the header is refused: a cell left out
            // shifts the others (and an empty one would clear what is stored).
            if record.fields.count != map.headers.count {
                let more = record.fields.count > map.headers.count
                let column = more ? map.headers.count + 1 : record.fields.count + 1
                row.problems.append(FileProblem(
                    line: record.line, column: column, header: more ? nil : map.headers[column - 1], problem: more
                    ? Text(en: "the row has \(record.fields.count) cells but the header only \(map.headers.count): remove the extra cells (is a comma inside a value not quoted?)",
                           zh: "该行有 \(record.fields.count) 个单元格，但表头只有 \(map.headers.count) 列：请删除多余的单元格（值中的逗号是否未加引号？）")
                    : Text(en: "the row has \(record.fields.count) cells but the header has \(map.headers.count): a cell is missing from here on (an empty value still needs its comma)",
                           zh: "该行只有 \(record.fields.count) 个单元格，但表头有 \(map.headers.count) 列：从此列起缺少单元格（空值也需保留逗号）")))
                problems += row.problems
                return
            }
            guard let values = clean(&row), row.problems.isEmpty else {
                problems += row.problems
                return
            }
            try accept(record.line, values, problems.isEmpty)
        }
        guard let header else {
            throw AppError(.input, code: "BAD_FILE", Text(en: "the file is empty: it needs a header row and at least one data row",
                                                           zh: "文件为空：需要表头行和至少一行数据"),
                           problems: [FileProblem(line: 1, problem: Text(en: "no header row", zh: "没有表头行"))])
        }
        guard rows > 0 else {
            throw AppError(.input, code: "BAD_FILE", Text(en: "the file has a header but no data rows; nothing was imported",
                                                           zh: "文件只有表头没有数据，未导入任何数据"),
                           problems: [FileProblem(line: 2, problem: Text(en: "no data rows", zh: "没有数据行"))])
        }
        return (header, rows, problems)
    }

    /// The file's header row alone, mapped (throwing as `readRows` does for a bad one), or nil
    /// when the file has no record at all.
    static func header(of file: CSVFile, columns: [ImportColumn]) throws -> HeaderMap? {
        struct Stop: Error {}
        var header: HeaderMap?
        do {
            try file.forEachRecord { record in
                header = try HeaderMap(record, columns: columns)
                throw Stop()
            }
        } catch is Stop {}
        return header
    }

    /// A second header row (the English names under the Chinese ones, a two-row heading from a
    /// ledger's template): the first data row names columns of the import in half or more of
    /// its cells. Refused whole (exit 2): it is not data, and a row below it may be one too.
    static func refuseSecondHeader(_ record: CSVFile.Record, columns: [ImportColumn]) throws {
        let cells = record.fields.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        let named = cells.filter { cell in columns.contains { $0.key == cell.lowercased() || $0.zh == cell } }
        guard cells.count >= 2, named.count * 2 >= cells.count else { return }
        throw AppError(.input, code: "BAD_FILE", Text(
            en: "the file has more than one header row: an import reads one header row, then data; delete the extra header rows; nothing was imported",
            zh: "文件有多行表头：导入只读取一行表头，其后均为数据；请删除多余的表头行；未导入任何数据"),
            problems: [FileProblem(line: record.line, problem: Text(en: "a second header row (\(named.prefix(3).joined(separator: ", ")) …)",
                                                                   zh: "第二行表头（\(named.prefix(3).joined(separator: "、")) …）"))])
    }

    /// Files longer than this are planned for bulk (no nested loops).
    public static let bulkRows = 1_000

    /// Adds the problems a set-wise SQL check finds. The query returns `line`, `key` (the column
    /// key) and whatever `describe` reads to word the problem.
    public mutating func check(_ connection: Connection, _ sql: String, _ parameters: [any PostgresEncodable] = [],
                               describe: (Row) -> Text) throws {
        for row in try connection.query(sql, parameters) {
            let line = Int(row["line"] ?? "") ?? 0
            let index = row["key"].flatMap { header.position[$0] }
            problems.append(FileProblem(line: line, column: index.map { $0 + 1 },
                                        header: index.map { header.headers[$0] }, problem: describe(row)))
        }
    }

    /// Adds problems found beside the staging (e.g. while the rows streamed).
    public mutating func add(_ found: [FileProblem]) {
        problems += found
    }

    /// Throws the bad-file error listing every problem in line order, if there are any.
    public func requireNoProblems() throws {
        guard !problems.isEmpty else { return }
        throw Staging.refusal(problems)
    }

    /// The bad-file error listing `problems` (not empty) in line order.
    static func refusal(_ problems: [FileProblem]) -> AppError {
        let sorted = problems.sorted { ($0.line, $0.column ?? 0) < ($1.line, $1.column ?? 0) }
        let lines = Set(problems.map(\.line)).count
        return AppError(.input, code: "BAD_FILE", Text(
            en: "\(lines) row(s) of the file are not right; nothing was imported. Correct them and import the file again:",
            zh: "文件中有 \(lines) 行有误，未导入任何数据。请改正后重新导入："), problems: sorted)
    }

    /// Refuses the whole file (exit 1, `OUTSIDE_REGION`) when rows lie outside the operator's
    /// region, listing each. The query returns `line`, `key` and what `describe` reads. Row-level
    /// security would refuse the write anyway; this says which rows and why.
    public func refuseOutsideRegion(_ connection: Connection, _ sql: String, describe: (Row) -> Text) throws {
        let rows = try connection.query(sql)
        guard !rows.isEmpty else { return }
        let problems = rows.map { row in
            let line = Int(row["line"] ?? "") ?? 0
            let index = row["key"].flatMap { header.position[$0] }
            return FileProblem(line: line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] }, problem: describe(row))
        }.sorted { ($0.line, $0.column ?? 0) < ($1.line, $1.column ?? 0) }
        throw AppError(.rule, code: "OUTSIDE_REGION", Text(
            en: "\(Set(problems.map(\.line)).count) row(s) of the file are outside your region; nothing was imported. Leave them to their own region's operator:",
            zh: "文件中有 \(Set(problems.map(\.line)).count) 行不在您的管辖区域内，未导入任何数据。请交由所属区域的操作员办理："), problems: problems)
    }

    /// SQL true when staged row `s` names a person registered outside the operator's region.
    /// Row-level security hides such a person, so a check that looks them up finds nothing;
    /// excluding them there keeps "not registered" for persons who really are not.
    public var personOutsideRegion: String {
        "s.id_number IN (SELECT persons_outside_region(array_agg(id_number)) FROM \(table))"
    }

    /// Refuses the file (exit 1, `OUTSIDE_REGION`) when rows for which `condition` (SQL on
    /// staged row `s`) holds, e.g. "the person is not visible", name a person registered in
    /// another region: they exist, but are another region's to manage.
    public func refusePersonsOutsideRegion(_ connection: Connection, where condition: String) throws {
        try refuseOutsideRegion(connection, """
            SELECT s.line, 'id_number' AS key FROM \(table) s WHERE (\(condition)) AND \(personOutsideRegion)
            """) { _ in Text(en: "this person is registered in another region", zh: "该人员已在其他区域登记") }
    }
}

/// What an import did, or under `--dry-run` would do.
public struct ImportOutcome: Sendable {
    public let rows: Int
    public let inserted: Int
    public let updated: Int
    public let dryRun: Bool

    public var unchanged: Int { rows - inserted - updated }
}
