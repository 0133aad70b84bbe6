import Foundation
import Postgres

/// The person import's direct path (issue 17): the rows of new persons go straight into
/// `person` by one `COPY` as the file streams, and an unchanged row is dropped in the client,
/// so neither is staged. What it gives the same as the staged path: every refusal (line, column,
/// wording, exit code), the rows written, their history, the journal's rows. What differs: the
/// new persons are inserted before the changed ones are updated (the journal's entries of one
/// import come in that order), and `person` is locked from before the file is read.
extension PersonImport {
    /// The migration owner (or any role row-level security does not apply to) outside a dry
    /// run: an operator's import keeps the staged path, whose set-wise checks name the rows
    /// outside their region and the persons registered in another. And only for a file that is
    /// not a small part of the persons stored: the direct path fetches every stored person
    /// first, which for a few rows into a province of a million would cost a second where the
    /// staged path costs milliseconds. The file's rows are bounded from its size (a row has at
    /// least 40 bytes), the stored persons estimated by the planner's statistics.
    static func mayWriteDirectly(_ connection: Connection, fileBytes: Int) throws -> Bool {
        try connection.query("""
            SELECT operator_role() IS NULL AND NOT row_security_active('person')
                   AND (SELECT greatest(c.reltuples, 0) FROM pg_class c WHERE c.oid = 'person'::regclass) <= $1::float8 * $2 AS direct
            """, [String(fileBytes / 40 + 1), String(directShare)])[0].decode("direct", as: Bool.self)
    }

    /// The direct path is taken when the stored persons are at most this many times the rows
    /// the file can hold.
    static let directShare = 20

    /// Imports the file by the direct path; nil when it cannot (a stored resident ID it cannot
    /// read as one), before anything is written, and the staged path runs instead.
    ///
    /// Before the file is read, every stored person is fetched once (`COPY … TO`) as a 128-bit
    /// fingerprint of the values an import compares, with the first day of its current facts;
    /// and the codes of the known villages. Each row then, checked as in the staged path:
    /// - a resident ID not stored: written into `person` by the running COPY;
    /// - stored, with the same values (the optional columns left out of the file not compared:
    ///   they keep what is stored) and dated on or after the current facts' first day: dropped,
    ///   as the staged path's comparison would find it unchanged;
    /// - any other (a change, or dated before the current facts began): staged after the file,
    ///   and compared and recorded by the same statements as the staged path (`findChanges`,
    ///   `record`).
    /// A fingerprint that differs only sends a row to that exact comparison, so a collision of
    /// 128-bit hashes is the only way a change could be dropped; the fingerprints are made in
    /// this process, from the stored values, each time, and kept nowhere.
    /// Once a row of the file has a problem nothing more is sent, and at the end the COPY is
    /// aborted with the staged path's refusal listing every problem.
    static func runDirect(_ connection: Connection, file: CSVFile, header: HeaderMap, vocabulary: Vocabulary,
                          from: String, today: Day) throws -> ImportOutcome? {
        try connection.execute("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE")
        let keep = [header.position["bank_account"] == nil, header.position["phone"] == nil]
        // The file is read and checked on two other threads while this one fetches the stored
        // persons (the server prints them meanwhile); the connection is used by this thread only.
        let reading = CheckedRows.start(file: file, keep: keep, vocabulary: vocabulary, from: from, today: today)
        defer { reading.stop() }
        guard let stored = try StoredPersons(connection, keep: keep) else { return nil }
        var villages = Set<String>()
        try connection.copyOut("COPY (SELECT code FROM region WHERE length(code) = 12) TO STDOUT") { chunk in
            StoredPersons.lines(chunk) { line in villages.insert(String(decoding: line, as: UTF8.self)) }
        }
        try Database.tuneForBulk(connection)
        // As the staged path plans a file of more than `Staging.bulkRows` rows, the COPY's
        // triggers are planned without nested loops (person_village_known probing region's index
        // once per row took 0.3–0.4 s for 200,000 rows, against 0.06 s hashed). The rows are not
        // counted yet: a text file of that many persons has at least 40 bytes a row.
        if file.bytes.count > Staging.bulkRows * 40 { try connection.execute("SET LOCAL enable_nestloop = off") }

        var repeats = RepeatedIDs()
        var unknownVillages: [FileProblem] = []
        var changed: [UInt8] = []
        var changedRows = 0
        var read: (header: HeaderMap, rows: Int, problems: [FileProblem])?
        let inserted = try connection.copyIn("""
            COPY person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone) FROM STDIN
            """) { writer in
            // As `Staging.readRows` gathers them: each row's problems in file order, and whether
            // every row before one was accepted.
            var problems: [FileProblem] = []
            while let batch = try reading.next() {
                for row in batch {
                    guard let values = row.values, row.problems.isEmpty else {
                        problems += row.problems
                        continue
                    }
                    let acceptedSoFar = problems.isEmpty
                    guard values[0] != nil, let village = values[3] else { continue }
                    // As the staged path's `clean` notes each accepted row's ID before it is staged.
                    let key = row.key
                    if let key { repeats.note(line: row.line, key: key, header: header) }
                    guard villages.contains(village) else {
                        let index = header.index(of: "village_code")
                        unknownVillages.append(FileProblem(line: row.line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                                                           problem: unknownVillage(village)))
                        continue
                    }
                    guard acceptedSoFar, repeats.problems.isEmpty, unknownVillages.isEmpty, let key else { continue }
                    if let person = stored.entries[key] {
                        if let compared = row.compared, person.isUnchanged(compared) { continue }
                        // Staged as the staged path stages it: line, then the values.
                        StoredPersons.append(decimal: row.line, to: &changed)
                        for value in values {
                            changed.append(UInt8(ascii: "\t"))
                            if let value { StoredPersons.append(field: value, to: &changed) } else { changed += [0x5C, 0x4E] }
                        }
                        changed.append(UInt8(ascii: "\n"))
                        changedRows += 1
                    } else {
                        try writer.write(field: String(village.prefix(6)))
                        for value in values.prefix(8) {
                            try writer.write(byte: UInt8(ascii: "\t"))
                            if let value { try writer.write(field: value) } else { try writer.write("\\N") }
                        }
                        try writer.write(byte: UInt8(ascii: "\n"))
                    }
                }
            }
            let result = try reading.result()
            // As the staged path lists them: the rows' own problems, repeated IDs, unknown villages.
            let all = problems + repeats.problems + unknownVillages
            guard all.isEmpty else { throw Staging.refusal(all) }
            read = (result.header, result.rows, problems)
        }
        guard let read else { preconditionFailure("readRows returns or throws") }
        var updated = 0
        if changedRows > 0 {
            try connection.execute("CREATE TEMP TABLE person_stage (line int NOT NULL, "
                + staged.map { "\($0) text" }.joined(separator: ", ") + ") ON COMMIT DROP")
            try connection.copyIn("COPY person_stage FROM STDIN") { writer in try writer.write(bytes: changed) }
            changed = []
            try findChanges(connection, keep: keep)
            updated = Int(try connection.query("SELECT count(*) AS n FROM person_change")[0].decode("n", as: Int64.self))
            if updated > 0 { try record(connection) }
        }
        return ImportOutcome(rows: read.rows, inserted: inserted, updated: updated, dryRun: false)
    }

    static func unknownVillage(_ code: String) -> Text {
        Text(en: "\(code) is not a known village: import it with `region import` first",
             zh: "\(code) 不是已登记的村：请先用 `region import` 导入区划")
    }
}

/// A resident ID twice in the file: found as the rows stream, each ID packed into a number (17
/// digits and the check character), so no pass over the staged rows is needed for it. The
/// repeated row is still checked like the rest.
struct RepeatedIDs {
    private var firstLine: [UInt64: Int32] = [:]
    private(set) var problems: [FileProblem] = []

    mutating func note(_ row: ImportRow, _ values: [String?]?) {
        guard let values, row.problems.isEmpty, let id = values[0], let key = PersonImport.packed(id) else { return }
        note(line: row.line, key: key, header: row.header)
    }

    /// `note` of a row without problems whose resident ID packs to `key`.
    mutating func note(line: Int, key: UInt64, header: HeaderMap) {
        if let first = firstLine[key] {
            let index = header.index(of: "id_number")
            problems.append(FileProblem(
                line: line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                problem: Text(en: "this resident ID is already on line \(first) of the file",
                              zh: "该身份证号已在文件第 \(first) 行出现")))
        } else {
            firstLine[key] = Int32(truncatingIfNeeded: line)
        }
    }
}

/// The stored persons as the direct path compares them: by packed resident ID, a fingerprint of
/// name, household, village, category, labour capacity and (unless left out of the file) bank
/// account and phone, and the first day of the current facts.
struct StoredPersons {
    struct Entry {
        var first: Int
        var second: Int
        /// The current facts' first day as yyyymmdd; 0 when they hold from the start; `.max`
        /// when a row for this person is always compared on the server.
        var from: Int32

        /// True when the staged path would find `values` (a cleaned row: id, name, household,
        /// village, category, capacity, account, phone, effective day) unchanged: the same
        /// values, dated on or after the current facts began.
        func isUnchanged(by values: [String?], keep: [Bool]) -> Bool {
            isUnchanged(StoredPersons.Compared(values, keep: keep))
        }

        /// `isUnchanged(by:keep:)` of a row's values compared beforehand.
        func isUnchanged(_ row: Compared) -> Bool {
            guard from != .max, let day = row.day, day >= from else { return false }
            return row.print.0 == first && row.print.1 == second
        }
    }

    /// What a row is compared by: its values' fingerprint (name, household, village, category,
    /// capacity, and the account and phone unless `keep` leaves them out) and its effective day
    /// as yyyymmdd (nil when it is not one).
    struct Compared {
        let print: (Int, Int)
        let day: Int32?

        init(_ values: [String?], keep: [Bool]) {
            var print = Fingerprint()
            for index in 1...5 { print.add(values[index]) }
            if !keep[0] { print.add(values[6]) }
            if !keep[1] { print.add(values[7]) }
            self.print = print.result
            if var text = values[8] { day = text.withUTF8 { StoredPersons.yyyymmdd($0) } } else { day = nil }
        }
    }

    /// Two 64-bit FNV-1a streams with different primes, each started from a seed drawn at
    /// random for this process and finished by MurmurHash3's mixer: 128 bits, made byte by byte
    /// (a String's own hash would equate canonically equivalent texts the server tells apart, and
    /// SipHash cost five times as much here). Each field is framed by whether it is NULL and by
    /// its length.
    struct Fingerprint {
        static let seeds: (UInt64, UInt64) = {
            var generator = SystemRandomNumberGenerator()
            return (generator.next(), generator.next())
        }()
        var first = Fingerprint.seeds.0
        var second = Fingerprint.seeds.1

        @inline(__always) mutating func mix(_ byte: UInt8) {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second ^ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
        }

        mutating func add(_ value: String?) {
            guard var value else {
                mix(0)
                return
            }
            value.withUTF8 { add(bytes: $0) }
        }

        mutating func add(bytes: UnsafeBufferPointer<UInt8>) {
            mix(1)
            var count = bytes.count
            repeat {
                mix(UInt8(truncatingIfNeeded: count))
                count >>= 8
            } while count > 0
            for byte in bytes { mix(byte) }
        }

        static func finish(_ value: UInt64) -> Int {
            var h = value
            h ^= h >> 33
            h = h &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 33
            h = h &* 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 33
            return Int(truncatingIfNeeded: h)
        }

        var result: (Int, Int) { (Fingerprint.finish(first), Fingerprint.finish(second)) }
    }

    var entries: [UInt64: Entry] = [:]

    /// Fetches every stored person; nil when a stored resident ID cannot be packed (then the
    /// direct path cannot tell a new person from a stored one by its packed ID).
    init?(_ connection: Connection, keep: [Bool]) throws {
        var readable = true
        var entries: [UInt64: Entry] = [:]
        try connection.copyOut("""
            COPY (SELECT id_number, to_char(facts_from, 'YYYYMMDD'), name, household_id, village_code, category, labour_capacity,
                         bank_account, phone FROM person) TO STDOUT
            """) { chunk in
            // One row a chunk: its nine fields in COPY's text format, hashed as they are found.
            // A field with a backslash (an escape) makes the row one always compared on the
            // server; \N is NULL.
            chunk.withUnsafeBufferPointer { all in
                let bytes = UnsafeBufferPointer(rebasing: all[0..<(all.last == 0x0A ? all.count - 1 : all.count)])
                var print = Fingerprint()
                var key: UInt64?
                var from: Int32 = .max
                var escaped = false
                var field = 0
                var start = 0
                var index = 0
                while index <= bytes.count {
                    guard index == bytes.count || bytes[index] == 0x09 else { index += 1; continue }
                    let value = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    let null = value.count == 2 && value[0] == 0x5C && value[1] == 0x4E
                    switch field {
                    case 0:
                        key = PersonImport.packed(value)
                    case 1:
                        if null {
                            from = 0
                        } else if value.count == 8 && value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                            from = value.reduce(Int32(0)) { $0 * 10 + Int32($1 - 0x30) }
                        }
                    case 2...8:
                        // Bank account (7) and phone (8) only when the file has their column.
                        guard field < 7 || !keep[field - 7] else { break }
                        if null {
                            print.add(nil)
                        } else {
                            if value.contains(0x5C) { escaped = true }
                            print.add(bytes: value)
                        }
                    default:
                        break
                    }
                    field += 1
                    index += 1
                    start = index
                }
                guard field == 9, let key else {
                    readable = false
                    return
                }
                let (a, b) = print.result
                entries[key] = Entry(first: a, second: b, from: escaped ? .max : from)
            }
        }
        guard readable else { return nil }
        self.entries = entries
    }

    /// An ISO day (YYYY-MM-DD) as yyyymmdd, or nil.
    static func yyyymmdd(_ text: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard text.count == 10, text[4] == 0x2D, text[7] == 0x2D else { return nil }
        var value: Int32 = 0
        for (index, byte) in text.enumerated() where index != 4 && index != 7 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int32(byte - 0x30)
        }
        return value
    }

    /// The lines of a chunk of `COPY … TO` text (libpq hands over one row a chunk), each
    /// without its line break.
    static func lines(_ chunk: [UInt8], _ body: ([UInt8]) -> Void) {
        var start = 0
        for index in 0..<chunk.count where chunk[index] == 0x0A {
            body(Array(chunk[start..<index]))
            start = index + 1
        }
        if start < chunk.count { body(Array(chunk[start...])) }
    }

    /// A value as a field of COPY's text format, as `CopyWriter.write(field:)` writes it.
    static func append(field text: String, to buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case 0x5C: buffer += [0x5C, 0x5C]
            case 0x09: buffer += [0x5C, UInt8(ascii: "t")]
            case 0x0A: buffer += [0x5C, UInt8(ascii: "n")]
            case 0x0D: buffer += [0x5C, UInt8(ascii: "r")]
            default: buffer.append(byte)
            }
        }
    }

    static func append(decimal value: Int, to buffer: inout [UInt8]) {
        buffer += Array(String(value).utf8)
    }
}

/// The rows of a person file read and checked on two threads of their own, handed to the
/// thread that writes them in batches, in file order. One thread reads the records (header,
/// second header row, empty file: as `Staging.readRows`) and checks one batch in three; the
/// other checks the rest (`Staging.check` with `PersonImport.clean`, as the staged path checks each
/// row). The writer gathers the rows' problems in file order and finds repeated resident IDs as
/// it takes them, as `readRows` and the staged path's `clean` do. The reading threads touch
/// nothing but the file, the vocabulary, the header and this object; everything handed over is
/// a value (strings, arrays), and every access to the shared state is under `condition`'s lock.
/// At most `maximumBatches` batches are ahead of the writer, so readers far ahead of it do not
/// hold the whole file twice in memory.
final class CheckedRows: @unchecked Sendable {
    /// A checked row: its values when `clean` accepted it, and its problems.
    struct Row {
        let line: Int
        let values: [String?]?
        let problems: [FileProblem]
        /// For an accepted row: its resident ID packed, and what it is compared by.
        let key: UInt64?
        let compared: StoredPersons.Compared?
    }

    static let batchSize = 512
    static let maximumBatches = 128

    private let condition = NSCondition()
    /// Batches of records for the helper thread, with their sequence numbers.
    private var inbox: [(sequence: Int, records: [CSVFile.Record], header: HeaderMap)] = []
    /// Checked batches by sequence number, until the writer takes them.
    private var checked: [Int: [Row]] = [:]
    /// Batches handed out so far; the writer's next one.
    private var handed = 0
    private var taken = 0
    /// The reader's outcome: the header and the count of data rows, or what it threw.
    private var outcome: Result<(header: HeaderMap, rows: Int), Error>?
    private var stopped = false
    private var running = 2

    private let file: CSVFile
    private let keep: [Bool]
    private let vocabulary: Vocabulary
    private let from: String
    private let today: Day

    private init(file: CSVFile, keep: [Bool], vocabulary: Vocabulary, from: String, today: Day) {
        self.file = file
        self.keep = keep
        self.vocabulary = vocabulary
        self.from = from
        self.today = today
    }

    /// Starts reading and checking `file` on two new threads.
    static func start(file: CSVFile, keep: [Bool], vocabulary: Vocabulary, from: String, today: Day) -> CheckedRows {
        let rows = CheckedRows(file: file, keep: keep, vocabulary: vocabulary, from: from, today: today)
        for body in [{ rows.read() }, { rows.help() }] as [@Sendable () -> Void] {
            let thread = Thread(block: body)
            thread.stackSize = 8 << 20
            thread.start()
        }
        return rows
    }

    private struct Stopped: Error {}

    private func check(_ records: [CSVFile.Record], _ header: HeaderMap) -> [Row] {
        records.map { record in
            let (values, problems) = Staging.check(record, header: header) { row in
                PersonImport.clean(&row, vocabulary: vocabulary, from: from, today: today)
            }
            guard let values, problems.isEmpty else { return Row(line: record.line, values: values, problems: problems, key: nil, compared: nil) }
            return Row(line: record.line, values: values, problems: problems, key: values[0].flatMap(PersonImport.packed),
                       compared: StoredPersons.Compared(values, keep: keep))
        }
    }

    /// The reading thread: every record in order, as `Staging.readRows` reads them.
    private func read() {
        var header: HeaderMap?
        var rows = 0
        var batch: [CSVFile.Record] = []
        let result = Result { () throws -> (header: HeaderMap, rows: Int) in
            try file.forEachRecord { record in
                guard let map = header else {
                    header = try HeaderMap(record, columns: PersonImport.columns)
                    return
                }
                rows += 1
                if rows == 1 { try Staging.refuseSecondHeader(record, columns: PersonImport.columns) }
                batch.append(record)
                if batch.count == CheckedRows.batchSize {
                    try hand(batch, map)
                    batch = []
                }
            }
            guard let header else { throw Staging.emptyFile }
            guard rows > 0 else { throw Staging.noDataRows }
            if !batch.isEmpty { try hand(batch, header) }
            return (header, rows)
        }
        condition.lock()
        outcome = result
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Hands a batch of records on: two in three to the helper, the rest checked here.
    private func hand(_ records: [CSVFile.Record], _ header: HeaderMap) throws {
        condition.lock()
        while handed - taken >= CheckedRows.maximumBatches && !stopped { condition.wait() }
        if stopped {
            condition.unlock()
            throw Stopped()
        }
        let sequence = handed
        handed += 1
        // The reader also finds the records: it checks one batch in three, the helper the rest.
        if sequence % 3 != 0 {
            inbox.append((sequence, records, header))
            condition.broadcast()
            condition.unlock()
            return
        }
        condition.unlock()
        let rows = check(records, header)
        condition.lock()
        checked[sequence] = rows
        condition.broadcast()
        condition.unlock()
    }

    /// The helper thread: checks the batches handed to it until the reader is done.
    private func help() {
        condition.lock()
        while true {
            while inbox.isEmpty && outcome == nil && !stopped { condition.wait() }
            if stopped || inbox.isEmpty { break }
            let (sequence, records, header) = inbox.removeFirst()
            condition.unlock()
            let rows = check(records, header)
            condition.lock()
            checked[sequence] = rows
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch of checked rows in file order; nil once every row was handed over.
    /// Throws what reading the file threw (a refused header, an empty file…).
    func next() throws -> [Row]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .failure(let error) = outcome { throw error }
            if let rows = checked.removeValue(forKey: taken) {
                taken += 1
                condition.broadcast()
                return rows
            }
            if outcome != nil && taken == handed { return nil }
            condition.wait()
        }
    }

    /// What reading returned, once `next` returned nil: the header and the count of data rows.
    func result() throws -> (header: HeaderMap, rows: Int) {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return try outcome!.get()
    }

    /// Stops the reading threads (if they still work) and waits until both have ended.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
