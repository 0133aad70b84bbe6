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
    /// Once the stored persons are fetched, the reading thread itself drops each line of plain
    /// cells that every check accepts and that is stored unchanged, without making a string of
    /// it (`UnchangedLines`); the rows read before, and any other row, come here as before.
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
        let reading = CheckedRows.start(file: file, vocabulary: vocabulary, from: from, today: today, keep: keep,
                                        lines: UnchangedLines.Setup(header: header, vocabulary: vocabulary, from: from, today: today, keep: keep))
        defer { reading.stop() }
        guard let stored = try StoredPersons(connection, keep: keep) else { return nil }
        let villages = PackedTable(expected: 1_024, empty: false)
        try connection.copyOut(raw: "COPY (SELECT code FROM region WHERE length(code) = 12) TO STDOUT") { chunk in
            chunk.withMemoryRebound(to: UInt8.self) { bytes in
                StoredPersons.lines(bytes) { line in
                    if let code = UnchangedLines.packed(village: line) { villages.set(code, true) }
                }
            }
        }
        // From here the reading thread drops an unchanged row of plain cells itself, unread.
        reading.provide(stored: stored.entries, villages: villages)
        try Database.tuneForBulk(connection)
        // As the staged path plans a file of more than `Staging.bulkRows` rows, the COPY's
        // triggers are planned without nested loops (person_village_known probing region's index
        // once per row took 0.3–0.4 s for 200,000 rows, against 0.06 s hashed). The rows are not
        // counted yet: a text file of that many persons has at least 40 bytes a row.
        if file.bytes.count > Staging.bulkRows * 40 { try connection.execute("SET LOCAL enable_nestloop = off") }

        var unknownVillages: [FileProblem] = []
        var changed: [UInt8] = []
        var changedRows = 0
        var read: CheckedRows.Read?
        let inserted = try connection.copyIn("""
            COPY person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account, phone) FROM STDIN
            """) { writer in
            while let batch = try reading.next() {
                for row in batch {
                    let values = row.values
                    guard let village = values[3] else { continue }
                    guard villages.contains(row.village) else {
                        let index = header.index(of: "village_code")
                        unknownVillages.append(FileProblem(line: row.line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                                                           problem: unknownVillage(village)))
                        continue
                    }
                    guard row.acceptedSoFar, unknownVillages.isEmpty, let key = row.key else { continue }
                    if let person = stored.entries[key] {
                        if person.isUnchanged(print: row.print, day: row.day) { continue }
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
            let problems = result.problems + result.repeats + unknownVillages
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
    private var firstLine = PackedTable(expected: 1_024, empty: Int32(0))
    private(set) var problems: [FileProblem] = []

    init() {}

    /// For a file of about `rows` rows.
    init(rows: Int) {
        firstLine = PackedTable(expected: rows, empty: 0)
    }

    mutating func note(_ row: ImportRow, _ values: [String?]?) {
        guard let values, row.problems.isEmpty, let id = values[0], let key = PersonImport.packed(id) else { return }
        note(line: row.line, key: key, header: row.header)
    }

    /// `note` of a row without problems whose resident ID packs to `key`.
    mutating func note(line: Int, key: UInt64, header: HeaderMap) {
        if let first = firstLine.valueOrSet(key, Int32(truncatingIfNeeded: line)) {
            let index = header.index(of: "id_number")
            problems.append(FileProblem(
                line: line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                problem: Text(en: "this resident ID is already on line \(first) of the file",
                              zh: "该身份证号已在文件第 \(first) 行出现")))
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

        /// True when the staged path would find a cleaned row unchanged whose values (name,
        /// household, village, category, capacity and the optional columns the file has) make
        /// `print` (`Fingerprint.of`) and whose effective day is `day` (yyyymmdd): the same
        /// values, dated on or after the current facts began.
        func isUnchanged(print: (Int, Int), day: Int32?) -> Bool {
            guard from != .max, let day, day >= from else { return false }
            return print.0 == first && print.1 == second
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

        /// The fingerprint of a cleaned row's values (id, name, household, village, category,
        /// capacity, account, phone, effective day) as the stored persons' are made: name to
        /// capacity, then the account and phone unless the file leaves their column out.
        static func of(_ values: [String?], keep: [Bool]) -> (Int, Int) {
            var print = Fingerprint()
            for index in 1...5 { print.add(values[index]) }
            if !keep[0] { print.add(values[6]) }
            if !keep[1] { print.add(values[7]) }
            return print.result
        }
    }

    let entries: PackedTable<Entry>

    /// Fetches every stored person; nil when a stored resident ID cannot be packed (then the
    /// direct path cannot tell a new person from a stored one by its packed ID).
    init?(_ connection: Connection, keep: [Bool]) throws {
        var readable = true
        // Room for the persons the planner counts, so the table is not grown and rehashed as it fills.
        let estimate = try connection.query("SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = 'person'::regclass")
        let entries = PackedTable(expected: Int(min(try estimate[0].decode("n", as: Int64.self), 8_000_000)),
                                  empty: Entry(first: 0, second: 0, from: .max))
        try connection.copyOut(raw: """
            COPY (SELECT id_number, to_char(facts_from, 'YYYYMMDD'), name, household_id, village_code, category, labour_capacity,
                         bank_account, phone FROM person) TO STDOUT
            """) { chunk in
            // One row a chunk: its nine fields in COPY's text format, hashed as they are found.
            // A field with a backslash (an escape) makes the row one always compared on the
            // server; \N is NULL.
            chunk.withMemoryRebound(to: UInt8.self) { all in
                let bytes = UnsafeBufferPointer(rebasing: all[0..<(all.last == 0x0A ? all.count - 1 : all.count)])
                var print = Fingerprint()
                var key: UInt64?
                var from: Int32 = .max
                var escaped = false
                var field = 0
                var start = 0
                while start <= bytes.count, let base = bytes.baseAddress {
                    // The field's end: the next tab (found by memchr) or the row's end.
                    let index = memchr(base + start, 0x09, bytes.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
                        ?? bytes.count
                    let value = UnsafeBufferPointer(start: base + start, count: index - start)
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
                            if memchr(base + start, 0x5C, value.count) != nil { escaped = true }
                            print.add(bytes: value)
                        }
                    default:
                        break
                    }
                    field += 1
                    start = index + 1
                }
                guard field == 9, let key else {
                    readable = false
                    return
                }
                let (a, b) = print.result
                entries.set(key, Entry(first: a, second: b, from: escaped ? .max : from))
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
    static func lines(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var start = 0
        for index in 0..<chunk.count where chunk[index] == 0x0A {
            body(UnsafeBufferPointer(rebasing: chunk[start..<index]))
            start = index + 1
        }
        if start < chunk.count { body(UnsafeBufferPointer(rebasing: chunk[start...])) }
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
/// `PersonImport.clean`, exactly as the staged path reads them, repeated resident IDs found in
/// file order), handed to the thread that writes them in batches, in file order; once that
/// thread has fetched the stored persons (`provide`), a line that changes nothing is dropped
/// here, unread (`UnchangedLines`). The reading thread touches nothing but the file, the
/// vocabulary, this object and the stored persons' and villages' tables handed to it, which no
/// one writes after; everything handed over is a value (strings, arrays), and every access to
/// the shared state is under `condition`'s lock. At most `maximumQueued` rows wait (about 45 MB), so
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
        /// No row before it had a problem, and its resident ID is not on an earlier row.
        let acceptedSoFar: Bool
        /// The resident ID packed (`PersonImport.packed`), the village code as a number
        /// (`UnchangedLines.packed(village:)`), the values' fingerprint (`Fingerprint.of`) and
        /// the effective day as yyyymmdd: what the writer compares, made on this thread.
        let key: UInt64?
        let village: UInt64
        let print: (Int, Int)
        let day: Int32?
    }

    /// The header, the count of rows, their problems and the repeated resident IDs.
    typealias Read = (header: HeaderMap, rows: Int, problems: [FileProblem], repeats: [FileProblem])

    static let batchSize = 1_024
    static let maximumQueued = 128 * 1_024

    private let condition = NSCondition()
    private var batches: [[Row]] = []
    private var first = 0
    private var queued = 0
    private var outcome: Result<Read, Error>?
    private var stopped = false
    private var exited = false

    /// The stored persons and known villages, once the writer has fetched them.
    private var known: (stored: PackedTable<StoredPersons.Entry>, villages: PackedTable<Bool>)?

    private let file: CSVFile
    private let vocabulary: Vocabulary
    private let from: String
    private let today: Day
    private let keep: [Bool]
    private let setup: UnchangedLines.Setup

    private init(file: CSVFile, vocabulary: Vocabulary, from: String, today: Day, keep: [Bool], lines: UnchangedLines.Setup) {
        self.file = file
        self.vocabulary = vocabulary
        self.from = from
        self.today = today
        self.keep = keep
        self.setup = lines
    }

    /// Starts reading `file` on a new thread.
    static func start(file: CSVFile, vocabulary: Vocabulary, from: String, today: Day, keep: [Bool],
                      lines: UnchangedLines.Setup) -> CheckedRows {
        let rows = CheckedRows(file: file, vocabulary: vocabulary, from: from, today: today, keep: keep, lines: lines)
        let thread = Thread { rows.read() }
        thread.stackSize = 8 << 20
        thread.start()
        return rows
    }

    private struct Stopped: Error {}

    /// Hands the reading thread the stored persons and the known villages: from then on it drops
    /// each row of plain cells that every check accepts and that changes nothing
    /// (`UnchangedLines`), and hands over only the others.
    func provide(stored: PackedTable<StoredPersons.Entry>, villages: PackedTable<Bool>) {
        condition.lock()
        known = (stored, villages)
        condition.unlock()
    }

    /// The reading thread's work.
    private func read() {
        var batch: [Row] = []
        batch.reserveCapacity(CheckedRows.batchSize)
        // Resident IDs repeated in the file, noted here in file order for the rows handed over
        // and the rows dropped alike (as the staged path notes each accepted row's ID).
        var repeats = RepeatedIDs(rows: min(file.bytes.count / 64, 1 << 22))
        var lines: UnchangedLines?
        var offered = 0, tried = 0, dropped = 0
        var settled = false, nothingStored = false
        let result = Result { () throws -> Read in
            let read = try Staging.readRows(file: file, columns: PersonImport.columns, clean: { row in
                PersonImport.clean(&row, vocabulary: vocabulary, from: from, today: today)
            }, skip: { line, text, start in
                // Stopped (the writer failed, or Ctrl-C) while dropping lines, which hands nothing
                // over: noticed within 4,096 lines, not at the end of the file.
                offered += 1
                if offered & 4095 == 0 {
                    self.condition.lock()
                    let stopped = self.stopped
                    self.condition.unlock()
                    if stopped { throw Stopped() }
                }
                if lines == nil {
                    guard !settled else { return nil }
                    // Asked every 256 lines until the writer has them.
                    guard offered & 255 == 1 else { return nil }
                    self.condition.lock()
                    let known = self.known
                    self.condition.unlock()
                    guard let known else { return nil }
                    settled = true
                    // A file of new persons is read as before, without fingerprints.
                    guard !known.stored.isEmpty else { nothingStored = true; return nil }
                    lines = UnchangedLines(self.setup, stored: known.stored, villages: known.villages)
                }
                // Nor is a file whose rows mostly change.
                tried += 1
                if tried == 4_096 && dropped * 2 < tried { lines = nil; return nil }
                guard let end = lines!.take(line: line, text: text, start: start, repeats: &repeats) else { return nil }
                dropped += 1
                return end
            }) { line, values, acceptedSoFar in
                let key = values[0].flatMap(PersonImport.packed)
                if let key { repeats.note(line: line, key: key, header: setup.header) }
                let village = values[3].flatMap { text -> UInt64? in
                    var text = text
                    return text.withUTF8 { UnchangedLines.packed(village: $0) }
                }
                let day = values[8].flatMap { text -> Int32? in
                    var text = text
                    return text.withUTF8 { StoredPersons.yyyymmdd($0) }
                }
                batch.append(Row(line: line, values: values, acceptedSoFar: acceptedSoFar && repeats.problems.isEmpty, key: key,
                                 village: village ?? .max, print: nothingStored ? (0, 0) : StoredPersons.Fingerprint.of(values, keep: keep), day: day))
                if batch.count == CheckedRows.batchSize {
                    try push(batch)
                    batch = []
                    batch.reserveCapacity(CheckedRows.batchSize)
                }
            }
            if !batch.isEmpty { try push(batch) }
            return (read.header, read.rows, read.problems, repeats.problems)
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

/// A line of plain cells (no quotes) read by its bytes on the direct path's reading thread, to
/// tell a row that changes nothing without making a string of it: every check `Staging.readRows`
/// and `PersonImport.clean` make, made on the bytes in the way that accepts only what they
/// accept (and passes anything else to them: cells to trim, characters outside printable ASCII
/// and U+3000–U+EFFF, a lower-case x, a label Swift calls equal to another…); then the person is
/// stored, the village known, the day not before the current facts began and the fingerprint of
/// the values as `clean` would return them the stored one. Such a row is dropped as the writer
/// would drop it, its resident ID noted for repeats in its place; any other line is read as before.
final class UnchangedLines {
    /// What does not depend on the stored persons.
    struct Setup: @unchecked Sendable {
        let header: HeaderMap
        let cells: Int
        /// Each cell's most characters and formula check, by position (`HeaderMap.present`).
        let limits: [(maxLength: Int, formulaCheck: Bool)?]
        let id: Int, name: Int, household: Int, village: Int, category: Int, capacity: Int
        let account: Int?, phone: Int?, effective: Int?
        let categories: [(text: [UInt8], code: [UInt8])]
        let capacities: [(text: [UInt8], code: [UInt8])]
        let today: Day
        /// `--from` (or today) as yyyymmdd: the day of a row without an effective date.
        let from: Int32
        let keep: [Bool]

        init(header: HeaderMap, vocabulary: Vocabulary, from: String, today: Day, keep: [Bool]) {
            self.header = header
            cells = header.headers.count
            var limits: [(maxLength: Int, formulaCheck: Bool)?] = Array(repeating: nil, count: cells)
            for cell in header.present where cell.index < cells { limits[cell.index] = (cell.kind.maxLength, cell.formulaCheck) }
            self.limits = limits
            func at(_ key: String) -> Int { header.index(of: key) ?? -1 }
            id = at("id_number"); name = at("name"); household = at("household_id"); village = at("village_code")
            category = at("category"); capacity = at("labour_capacity")
            account = header.index(of: "bank_account"); phone = header.index(of: "phone"); effective = header.index(of: "effective_from")
            categories = vocabulary.byteForms(.personCategory)
            capacities = vocabulary.byteForms(.labourCapacity)
            self.today = today
            var text = from
            // Unreadable (it never is: Day.iso): no row without a date is taken for unchanged.
            self.from = text.withUTF8 { StoredPersons.yyyymmdd($0) } ?? .min
            self.keep = keep
        }
    }

    let stored: PackedTable<StoredPersons.Entry>
    let villages: PackedTable<Bool>
    // The setup's parts, held apart so reading a line copies and retains nothing.
    private let header: HeaderMap
    private let cells: Int
    private let id: Int, name: Int, household: Int, village: Int, category: Int, capacity: Int
    private let account: Int, phone: Int, effective: Int
    private let today: Day
    private let from: Int32
    private let keepAccount: Bool, keepPhone: Bool
    /// Each cell's most characters (-1: not checked) and formula check, by position.
    private let maxLengths: UnsafeMutableBufferPointer<Int>
    private let formulaChecks: UnsafeMutableBufferPointer<Bool>
    private let categories: Forms, capacities: Forms
    /// Where each cell of the line being read starts and ends, and its count of characters.
    private let starts: UnsafeMutableBufferPointer<Int>
    private let ends: UnsafeMutableBufferPointer<Int>
    private let lengths: UnsafeMutableBufferPointer<Int>

    init(_ setup: Setup, stored: PackedTable<StoredPersons.Entry>, villages: PackedTable<Bool>) {
        self.stored = stored
        self.villages = villages
        header = setup.header
        cells = setup.cells
        id = setup.id; name = setup.name; household = setup.household; village = setup.village
        category = setup.category; capacity = setup.capacity
        account = setup.account ?? -1; phone = setup.phone ?? -1; effective = setup.effective ?? -1
        today = setup.today
        from = setup.from
        keepAccount = setup.keep[0]; keepPhone = setup.keep[1]
        maxLengths = .allocate(capacity: max(setup.cells, 1))
        formulaChecks = .allocate(capacity: max(setup.cells, 1))
        for index in 0..<setup.cells {
            maxLengths[index] = setup.limits[index]?.maxLength ?? -1
            formulaChecks[index] = setup.limits[index]?.formulaCheck ?? false
        }
        categories = Forms(setup.categories)
        capacities = Forms(setup.capacities)
        starts = .allocate(capacity: max(setup.cells, 1))
        ends = .allocate(capacity: max(setup.cells, 1))
        lengths = .allocate(capacity: max(setup.cells, 1))
    }

    deinit {
        starts.deallocate()
        ends.deallocate()
        lengths.deallocate()
        maxLengths.deallocate()
        formulaChecks.deallocate()
    }

    /// A village code's 12 digits as a number; nil for anything else.
    static func packed(village: UnsafeBufferPointer<UInt8>) -> UInt64? {
        village.count == 12 ? decimalValue(village) : nil
    }

    /// `village`'s value when `RegionCode.isVillage` holds for these bytes; else nil. One pass.
    static func village(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count == 12, let p = bytes.baseAddress, let value = decimalValue(bytes) else { return nil }
        // The segments (2, 2, 2, 3, 3 digits) none all zeros.
        @inline(__always) func d(_ index: Int) -> UInt8 { p[index] &- 0x30 }
        guard d(0) | d(1) != 0, d(2) | d(3) != 0, d(4) | d(5) != 0, d(6) | d(7) | d(8) != 0, d(9) | d(10) | d(11) != 0 else { return nil }
        return value
    }

    /// When the line that starts at `start` is a row of plain cells every check accepts and that
    /// changes nothing, notes its resident ID in `repeats` and returns the index past its line
    /// feed; else nil, and nothing is noted. One pass finds the cells and holds their characters
    /// to printable ASCII and U+3000–U+EFFF (three bytes led by E3…EE), counting them.
    func take(line: Int, text: UnsafeBufferPointer<UInt8>, start: Int, repeats: inout RepeatedIDs) -> Int? {
        guard let base = text.baseAddress else { return nil }
        let count = text.count
        let starts = starts, ends = ends, lengths = lengths, cells = cells
        var index = start
        var filled = 0
        var characters = 0
        var next = -1
        starts[0] = start
        let high: UInt64 = 0x8080_8080_8080_8080, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        // The bytes of `word` that are zero, each as its high bit (exactly: no borrow between bytes).
        @inline(__always) func zeros(_ word: UInt64) -> UInt64 { ~(((word & low7) &+ low7) | word | low7) }
        while index < count {
            // Eight bytes of printable ASCII other than a quote at a time, commas among them.
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                // Below 0x20: adding 0x60 to an ASCII byte sets its high bit from 0x20 up.
                if word & high == 0 && (~(word &+ 0x6060_6060_6060_6060) & high) | zeros(word ^ low7) | zeros(word ^ 0x2222_2222_2222_2222) == 0 {
                    var commas = zeros(word ^ 0x2C2C_2C2C_2C2C_2C2C)
                    var counted = 0
                    while commas != 0 {
                        let at = commas.trailingZeroBitCount >> 3
                        guard filled + 1 < cells else { return nil }
                        ends[filled] = index + at
                        lengths[filled] = characters + at - counted
                        filled += 1
                        starts[filled] = index + at + 1
                        characters = 0
                        counted = at + 1
                        commas &= commas - 1
                    }
                    characters += 8 - counted
                    index += 8
                    continue
                }
            }
            let byte = base[index]
            if byte >= 0x20 && byte < 0x7F {
                if byte == 0x2C {
                    guard filled + 1 < cells else { return nil }
                    ends[filled] = index
                    lengths[filled] = characters
                    filled += 1
                    starts[filled] = index + 1
                    characters = 0
                } else if byte == 0x22 {
                    return nil
                } else {
                    characters += 1
                }
                index += 1
            } else if byte >= 0xE3 && byte <= 0xEE {
                // Two continuation bytes follow (the file was checked whole; held here anyway,
                // so no line break is ever passed over).
                guard index + 2 < count, base[index + 1] & 0xC0 == 0x80, base[index + 2] & 0xC0 == 0x80 else { return nil }
                characters += 1
                index += 3
            } else if byte == 0x0A {
                next = index + 1
                break
            } else if byte == 0x0D && index + 1 < count && base[index + 1] == 0x0A {
                next = index + 2
                break
            } else {
                return nil
            }
        }
        guard next >= 0, filled + 1 == cells, index > start else { return nil }
        ends[filled] = index
        lengths[filled] = characters
        @inline(__always) func cell(_ index: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + starts[index], count: ends[index] - starts[index])
        }
        // Nothing to trim: no space or U+3000 (E3 80 80) first or last (`trimmingWhitespace`; tabs
        // and line breaks are not among the characters let through); each cell what its kind
        // allows (`ImportRow.checkCells` by `TextValue.isFine`): not too long, no formula start.
        for index in 0..<cells {
            let length = ends[index] - starts[index]
            guard length > 0 else { continue }
            let first = base + starts[index], last = base + ends[index] - 1
            if first[0] == 0x20 || last[0] == 0x20 { return nil }
            if length >= 3 && ((first[0] == 0xE3 && first[1] == 0x80 && first[2] == 0x80) || (last[-2] == 0xE3 && last[-1] == 0x80 && last[0] == 0x80)) {
                return nil
            }
            let most = maxLengths[index]
            if most >= 0 {
                guard lengths[index] <= most else { return nil }
                if formulaChecks[index] && (first[0] == 0x3D || first[0] == 0x2B || first[0] == 0x2D || first[0] == 0x40) { return nil }
            }
        }
        // `PersonImport.clean`'s checks.
        let name = cell(name), household = cell(household), village = cell(village)
        guard let key = ResidentID.packedIfValid(cell(id), today: today), !name.isEmpty, !household.isEmpty,
              let villageKey = UnchangedLines.village(village),
              let category = categories.code(cell(category)), let capacity = capacities.code(cell(capacity)) else { return nil }
        var account: UnsafeBufferPointer<UInt8>?
        if self.account >= 0, !cell(self.account).isEmpty {
            guard BankAccount.isValid(cell(self.account)) else { return nil }
            account = cell(self.account)
        }
        var phone: UnsafeBufferPointer<UInt8>?
        if self.phone >= 0, !cell(self.phone).isEmpty {
            guard PhoneNumber.isValid(cell(self.phone)) else { return nil }
            phone = cell(self.phone)
        }
        var day = from
        if effective >= 0, !cell(effective).isEmpty {
            // `Day(iso:)` of a strict YYYY-MM-DD gives back the same text.
            guard let read = StoredPersons.yyyymmdd(cell(effective)),
                  Day(year: Int(read / 10_000), month: Int(read / 100 % 100), day: Int(read % 100)) != nil else { return nil }
            day = read
        }
        // The writer's: a known village, a stored person whose current facts began on or before
        // the row's day, the same values.
        guard villages.contains(villageKey), let person = stored[key] else { return nil }
        var print = StoredPersons.Fingerprint()
        print.add(bytes: name)
        print.add(bytes: household)
        print.add(bytes: village)
        print.add(bytes: category)
        print.add(bytes: capacity)
        if !keepAccount { if let account { print.add(bytes: account) } else { print.add(nil) } }
        if !keepPhone { if let phone { print.add(bytes: phone) } else { print.add(nil) } }
        guard person.isUnchanged(print: print.result, day: day) else { return nil }
        repeats.note(line: line, key: key, header: header)
        return next
    }

    /// A set's `Vocabulary.byteForms`, each text and code in one buffer.
    final class Forms {
        let bytes: UnsafeMutableBufferPointer<UInt8>
        /// For each form: where its text starts, its length, where its code starts, its length.
        let spans: UnsafeMutableBufferPointer<(text: Int, count: Int, code: Int, codeCount: Int)>

        init(_ forms: [(text: [UInt8], code: [UInt8])]) {
            var all: [UInt8] = []
            var spans: [(text: Int, count: Int, code: Int, codeCount: Int)] = []
            for form in forms {
                spans.append((all.count, form.text.count, all.count + form.text.count, form.code.count))
                all += form.text + form.code
            }
            bytes = .allocate(capacity: max(all.count, 1))
            _ = bytes.initialize(from: all)
            self.spans = .allocate(capacity: max(spans.count, 1))
            _ = self.spans.initialize(from: spans)
        }

        deinit {
            bytes.deallocate()
            spans.deallocate()
        }

        /// The code `Vocabulary.code` returns for a cell of exactly these bytes.
        func code(_ cell: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
            guard !cell.isEmpty, let base = cell.baseAddress, let all = bytes.baseAddress else { return nil }
            for span in spans where span.count == cell.count && memcmp(all + span.text, base, cell.count) == 0 {
                return UnsafeBufferPointer(start: all + span.code, count: span.codeCount)
            }
            return nil
        }
    }
}
