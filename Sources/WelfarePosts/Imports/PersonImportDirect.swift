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
        // The file is read and checked on a second thread while this one fetches the stored
        // persons (the server prints them meanwhile); the connection is used by this thread only.
        let reading = CheckedRows.start(file: file, vocabulary: vocabulary, from: from, today: today)
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
            while let batch = try reading.next() {
                for row in batch {
                    let values = row.values
                    guard let id = values[0], let village = values[3] else { continue }
                    // As the staged path's `clean` notes each accepted row's ID before it is staged.
                    let key = packed(id)
                    if let key { repeats.note(line: row.line, key: key, header: header) }
                    guard villages.contains(village) else {
                        let index = header.index(of: "village_code")
                        unknownVillages.append(FileProblem(line: row.line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                                                           problem: unknownVillage(village)))
                        continue
                    }
                    guard row.acceptedSoFar, repeats.problems.isEmpty, unknownVillages.isEmpty, let key else { continue }
                    if let person = stored.entries[key] {
                        if person.isUnchanged(by: values, keep: keep) { continue }
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
            let problems = result.problems + repeats.problems + unknownVillages
            guard problems.isEmpty else { throw Staging.refusal(problems) }
            read = result
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
            guard from != .max, var text = values[8], let day = text.withUTF8({ StoredPersons.yyyymmdd($0) }), day >= from else { return false }
            var print = Fingerprint()
            for index in 1...5 { print.add(values[index]) }
            if !keep[0] { print.add(values[6]) }
            if !keep[1] { print.add(values[7]) }
            let (a, b) = print.result
            return a == first && b == second
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

/// The rows of a person file read and checked on a thread of their own (`Staging.readRows` with
/// `PersonImport.clean`, exactly as the staged path reads them; the writer checks for repeated
/// resident IDs as it takes the rows, in the same order), handed to the thread that writes them
/// in batches, in file order. The reading thread touches nothing but the file, the vocabulary and
/// this object; everything handed over is a value (strings, arrays), and every access to the
/// shared state is under `condition`'s lock. At most `maximumQueued` rows wait (about 45 MB), so
/// a reader far ahead of the writer does not hold the whole file twice in memory.
///
/// One reading thread, not more: a version with a second thread checking every other batch split
/// the instructions better (the longest thread 193 million of 570 against 248 of 524, callgrind,
/// 20,000 rows) but took a third more CPU time (rows made on one core and released on another),
/// and on this shared 2-core machine it was no faster than the code before it.
final class CheckedRows: @unchecked Sendable {
    struct Row {
        let line: Int
        /// line's values as `PersonImport.clean` returns them.
        let values: [String?]
        /// No row before it had a problem.
        let acceptedSoFar: Bool
    }

    typealias Read = (header: HeaderMap, rows: Int, problems: [FileProblem])

    static let batchSize = 1_024
    static let maximumQueued = 128 * 1_024

    private let condition = NSCondition()
    private var batches: [[Row]] = []
    private var first = 0
    private var queued = 0
    private var outcome: Result<Read, Error>?
    private var stopped = false
    private var exited = false

    private let file: CSVFile
    private let vocabulary: Vocabulary
    private let from: String
    private let today: Day

    private init(file: CSVFile, vocabulary: Vocabulary, from: String, today: Day) {
        self.file = file
        self.vocabulary = vocabulary
        self.from = from
        self.today = today
    }

    /// Starts reading `file` on a new thread.
    static func start(file: CSVFile, vocabulary: Vocabulary, from: String, today: Day) -> CheckedRows {
        let rows = CheckedRows(file: file, vocabulary: vocabulary, from: from, today: today)
        let thread = Thread { rows.read() }
        thread.stackSize = 8 << 20
        thread.start()
        return rows
    }

    private struct Stopped: Error {}

    /// The reading thread's work.
    private func read() {
        var batch: [Row] = []
        batch.reserveCapacity(CheckedRows.batchSize)
        let result = Result { () throws -> Read in
            let read = try Staging.readRows(file: file, columns: PersonImport.columns, clean: { row in
                PersonImport.clean(&row, vocabulary: vocabulary, from: from, today: today)
            }) { line, values, acceptedSoFar in
                batch.append(Row(line: line, values: values, acceptedSoFar: acceptedSoFar))
                if batch.count == CheckedRows.batchSize {
                    try push(batch)
                    batch = []
                    batch.reserveCapacity(CheckedRows.batchSize)
                }
            }
            if !batch.isEmpty { try push(batch) }
            return read
        }
        condition.lock()
        outcome = result
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    private func push(_ batch: [Row]) throws {
        condition.lock()
        defer { condition.unlock() }
        while queued >= CheckedRows.maximumQueued && !stopped { condition.wait() }
        if stopped { throw Stopped() }
        batches.append(batch)
        queued += batch.count
        condition.broadcast()
    }

    /// The next batch of rows in file order; nil once every row was handed over. Throws what
    /// reading the file threw (a refused header, an empty file…).
    func next() throws -> [Row]? {
        condition.lock()
        defer { condition.unlock() }
        while first == batches.count && outcome == nil { condition.wait() }
        if first < batches.count {
            let batch = batches[first]
            batches[first] = []
            first += 1
            if first == batches.count {
                batches.removeAll(keepingCapacity: true)
                first = 0
            }
            queued -= batch.count
            condition.broadcast()
            return batch
        }
        if case .failure(let error) = outcome { throw error }
        return nil
    }

    /// What reading returned, once `next` returned nil: the header, the count of rows and their
    /// problems.
    func result() throws -> Read {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return try outcome!.get()
    }

    /// Stops the reading thread (if it still reads) and waits until it has ended.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }
}
