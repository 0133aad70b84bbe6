import Foundation
import Postgres
import Testing
import TestSupport

/// `person import` through the built binary: what a township administrator sees.
@Suite("person import")
struct PersonImportTests {
    static let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone"
    static let good1 = residentID(born: "1970-03-15", sequence: 12)
    static let good2 = residentID(born: "1985-11-02", sequence: 31)
    static let goodRows = [
        "\(good1),王秀英,H001,\(Fixtures.villageA1),poverty-alleviated,weak,6228480312345678,13852160001",
        "\(good2),李建国,H002,\(Fixtures.villageA2),monitored,half,,",
    ]

    /// A database with the fixture regions and two persons already imported.
    func prepared() throws -> (TestDatabase, Connection) {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let file = try temporaryFile(([Self.header] + Self.goodRows).joined(separator: "\n") + "\n")
        let result = try welfarePosts(["person", "import", file], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        return (database, connection)
    }

    struct BadFile: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        /// Each expected problem: the line and the column as the message names them.
        let places: [String]
        var testDescription: String { name }
    }

    static let badFiles: [BadFile] = {
        let ok = "\(residentID(born: "1990-01-01", sequence: 5)),张三,H010,\(Fixtures.villageA1),low-income,full"
        let header6 = "id_number,name,household_id,village_code,category,labour_capacity"
        let wrongCheck: String = {
            let valid = residentID(born: "1975-06-30", sequence: 44)
            let last = valid.last!
            return String(valid.dropLast()) + (last == "1" ? "2" : "1")
        }()
        return [
            BadFile(name: "bad check character",
                    text: "\(header6)\n\(ok)\n\(wrongCheck),赵四,H011,\(Fixtures.villageA1),low-income,full\n",
                    places: ["line 3, column 1 (id_number)"]),
            BadFile(name: "impossible birth date",
                    text: "\(header6)\n\(residentID(born: "1990-02-30", sequence: 7)),赵四,H011,\(Fixtures.villageA1),low-income,full\n\(ok)\n",
                    places: ["line 2, column 1 (id_number)"]),
            BadFile(name: "future birth date",
                    text: "\(header6)\n\(ok)\n\(residentID(born: "2099-01-01", sequence: 7)),赵四,H011,\(Fixtures.villageA1),low-income,full\n",
                    places: ["line 3, column 1 (id_number)"]),
            BadFile(name: "17-character ID",
                    text: "\(header6)\n\(ok)\n\(String(residentID(born: "1980-01-01", sequence: 9).dropLast())),赵四,H011,\(Fixtures.villageA1),low-income,full\n",
                    places: ["line 3, column 1 (id_number)"]),
            BadFile(name: "unknown category",
                    text: "\(header6)\n\(ok)\n\(residentID(born: "1980-01-01", sequence: 9)),赵四,H011,\(Fixtures.villageA1),rich,full\n",
                    places: ["line 3, column 5 (category)"]),
            BadFile(name: "unknown column",
                    text: "id_number,name,household_id,village_code,category,labour_capacity,shoe_size\n\(ok),42\n",
                    places: ["line 1, column 7 (shoe_size)"]),
            BadFile(name: "missing required column",
                    text: "id_number,name,village_code,category,labour_capacity\n\(residentID(born: "1990-01-01", sequence: 5)),张三,\(Fixtures.villageA1),low-income,full\n",
                    places: ["line 1: required column household_id"]),
            BadFile(name: "duplicate id_number within the file",
                    text: "\(header6)\n\(ok)\n\(residentID(born: "1980-01-01", sequence: 9)),赵四,H011,\(Fixtures.villageA1),low-income,full\n\(ok)\n",
                    places: ["line 4, column 1 (id_number)"]),
            BadFile(name: "empty file", text: "", places: ["line 1"]),
            BadFile(name: "village code that is not a known village",
                    text: "\(header6)\n\(ok)\n\(residentID(born: "1980-01-01", sequence: 9)),赵四,H011,320321101299,low-income,full\n\(residentID(born: "1981-01-01", sequence: 9)),钱五,H012,\(Fixtures.townshipA),low-income,full\n",
                    places: ["line 3, column 4 (village_code)", "line 4, column 4 (village_code)"]),
            BadFile(name: "several bad rows are all reported",
                    text: "\(header6)\n\(wrongCheck),赵四,H011,\(Fixtures.villageA1),low-income,full\n\(ok)\n\(residentID(born: "1980-01-01", sequence: 9)),,H011,\(Fixtures.villageA1),rich,lazy\n",
                    places: ["line 2, column 1 (id_number)", "line 4, column 2 (name)", "line 4, column 5 (category)", "line 4, column 6 (labour_capacity)"]),
        ]
    }()

    @Test(arguments: badFiles)
    func badFileIsRefusedWhole(_ bad: BadFile) throws {
        let (database, connection) = try prepared()
        let before = try Fixtures.fingerprint(connection)
        let result = try welfarePosts(["person", "import", try temporaryFile(bad.text)], on: database)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: [BAD_FILE]"), "\(result.stderr)")
        for place in bad.places {
            #expect(result.stderr.contains(place), "expected \(place) in:\n\(result.stderr)")
        }
        #expect(try Fixtures.fingerprint(connection) == before)
    }

    @Test func dryRunWritesNothing() throws {
        let (database, connection) = try prepared()
        let before = try Fixtures.fingerprint(connection)
        let file = try temporaryFile("\(Self.header)\n\(residentID(born: "1990-01-01", sequence: 5)),张三,H010,\(Fixtures.villageA1),low-income,full,,\n")
        let result = try welfarePosts(["person", "import", file, "--dry-run", "--format", "json"], on: database)
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"inserted\":\"1\""))
        #expect(try Fixtures.fingerprint(connection) == before)
    }

    @Test func gbkWithChineseHeadersAndLabels() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let id = residentID(born: "1968-08-08", sequence: 88)
        let text = "人员类别,姓名,身份证号,户编号,村代码,劳动能力\n脱贫人口,孙桂兰,\(id),H100,\(Fixtures.villageB1),弱劳力\n"
        let result = try welfarePosts(["person", "import", try temporaryFile(try gbk(text))], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        let row = try connection.query("SELECT name, category, labour_capacity, household_id, county_code FROM person WHERE id_number = $1", [id])
        #expect(row.first?["name"] == "孙桂兰")
        #expect(row.first?["category"] == "poverty-alleviated")
        #expect(row.first?["labour_capacity"] == "weak")
        #expect(row.first?["county_code"] == "320321")
    }

    @Test func utf8WithByteOrderMarkAndReorderedColumnsAndLowerCaseX() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        // Find an ID whose check character is X, and write it with a lower-case x.
        let id = (0..<1000).lazy.map { residentID(born: "1959-12-31", sequence: $0) }.first { $0.hasSuffix("X") }!
        let text = "labour_capacity,village_code,name,household_id,id_number,category,phone\n半劳力,\(Fixtures.villageA1),周德胜,H200,\(id.lowercased()),监测对象,13900000000\n"
        let result = try welfarePosts(["person", "import", try temporaryFile([0xEF, 0xBB, 0xBF] + Array(text.utf8))], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        let row = try connection.query("SELECT name, category, labour_capacity, phone, resident_birth_date(id_number)::text AS birth_date FROM person WHERE id_number = $1", [id])
        #expect(row.first?["name"] == "周德胜")
        #expect(row.first?["category"] == "monitored")
        #expect(row.first?["labour_capacity"] == "half")
        #expect(row.first?["birth_date"] == "1959-12-31")
    }

    @Test func reimportChangesNothingAndAChangedRowUpdates() throws {
        let (database, connection) = try prepared()
        let file = try temporaryFile(([Self.header] + Self.goodRows).joined(separator: "\n") + "\n")
        let before = try Fixtures.fingerprint(connection)
        let again = try welfarePosts(["person", "import", file, "--format", "json"], on: database)
        #expect(again.status == 0)
        #expect(again.stdout.contains("\"inserted\":\"0\",\"updated\":\"0\",\"unchanged\":\"2\""), "\(again.stdout)")
        #expect(try Fixtures.fingerprint(connection) == before)

        let changed = Self.goodRows[1].replacingOccurrences(of: "monitored,half", with: "low-income,weak")
        let update = try welfarePosts(["person", "import", try temporaryFile("\(Self.header)\n\(changed)\n"), "--format", "json"], on: database)
        #expect(update.stdout.contains("\"updated\":\"1\""), "\(update.stdout)")
        let row = try connection.query("SELECT category, labour_capacity FROM person WHERE id_number = $1", [Self.good2])
        #expect(row.first?["category"] == "low-income")
        #expect(row.first?["labour_capacity"] == "weak")
        // The bank account of the first person, left out of that file's rows, is kept.
        let kept = try connection.query("SELECT bank_account FROM person WHERE id_number = $1", [Self.good1])
        #expect(kept.first?["bank_account"] == "6228480312345678")
    }

    /// A first import into a person table analysed while empty (VACUUM ANALYZE after setup)
    /// scans the table a few times, not once per row: planned as a nested loop over a table the
    /// statement fills, a county's file would take hours.
    @Test func firstImportIntoATableAnalysedEmptyIsNotQuadratic() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        try connection.execute("VACUUM ANALYZE person")
        let rows = 5_000
        let file = try temporaryFile(([Self.header] + (1...rows).map {
            "\(residentID(born: "\(1950 + $0 / 1000)-01-01", sequence: $0)),某某,H\($0),\(Fixtures.villageA1),other,full,,"
        }).joined(separator: "\n") + "\n")
        let result = try welfarePosts(["person", "import", file], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        // The importing backend reports its statistics as it ends, just after the binary exits:
        // wait (up to 10 s) until they show its inserts. Read before anything here scans the table.
        var stats = Row(columns: ["seq_scan", "n_tup_ins"], values: [nil, nil])
        for _ in 0..<100 {
            stats = try connection.query("""
                SELECT pg_stat_clear_snapshot() AS cleared, seq_scan, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'person'
                """)[0]
            if stats["n_tup_ins"] == String(rows) { break }
            usleep(100_000)
        }
        #expect(stats["n_tup_ins"] == String(rows), "\(stats.values)")
        #expect((Int(stats["seq_scan"] ?? "") ?? .max) < 100, "sequential scans of the person table: \(stats.values)")
        #expect(try connection.query("SELECT count(*) AS n FROM person")[0]["n"] == String(rows))
    }

    /// The owner's import drops unchanged rows in the client by a fingerprint of the stored
    /// values (issue 17) and sends the rest to the server's comparison. Every kind of row it must
    /// not drop is still found: the same counts as the dry run (which stages every row and
    /// compares on the server) and the values written.
    @Test func aChangeAmongUnchangedRowsIsFoundAsTheServerFindsIt() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone,effective_from"
        let ids = (1...40).map { residentID(born: "1960-01-\(10 + $0 % 18)", sequence: $0) }
        func row(_ index: Int, name: String? = nil, phone: String = "13800000000", category: String = "other", from: String = "") -> String {
            "\(ids[index]),\(name ?? "名\(index)"),H\(index),\(Fixtures.villageA1),\(category),full,62280000000000\(index + 10),\(phone),\(from)"
        }
        let first = try welfarePosts(["person", "import", try temporaryFile(([header] + (0..<40).map { row($0, name: $0 == 3 ? "Jos\u{E9}" : nil) }).joined(separator: "\n") + "\n")], on: database)
        #expect(first.status == 0, "\(first.stderr)")
        // Person 4's facts change from 2026-03-01 (the older ones become history).
        let dated = try welfarePosts(["person", "import", try temporaryFile("\(header)\n\(row(4, category: "monitored", from: "2026-03-01"))\n")], on: database)
        #expect(dated.status == 0, "\(dated.stderr)")

        var rows = (0..<40).map { row($0, name: $0 == 3 ? "Jos\u{E9}" : nil) }
        rows[2] = row(2, phone: "13900000002")                        // the phone alone changes
        rows[3] = row(3, name: "Jose\u{301}")                         // the same name to Swift, other bytes to the server
        rows[4] = row(4, category: "monitored", from: "2026-01-01")    // the current values, dated before they began
        rows[5] = row(5, category: "monitored", from: "2026-04-01")    // a change dated
        rows[6] = row(6, from: "2026-05-01")                            // unchanged, dated
        rows[7] = row(7, name: "名7 ")                                  // unchanged: cells are trimmed
        rows.append("\(residentID(born: "1991-02-03", sequence: 77)),新人,H77,\(Fixtures.villageA2),other,full,,,")
        let file = try temporaryFile(([header] + rows).joined(separator: "\n") + "\n")
        let dryRun = try welfarePosts(["person", "import", file, "--dry-run", "--format", "json"], on: database)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let result = try welfarePosts(["person", "import", file, "--format", "json"], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        let (expected, got) = (jsonObject(dryRun.stdout), jsonObject(result.stdout))
        #expect(got["inserted"] == "1" && got["updated"] == "4" && got["unchanged"] == "36", "\(result.stdout)")
        for key in ["rows", "inserted", "updated", "unchanged"] { #expect(got[key] == expected[key], "\(key): \(result.stdout) against \(dryRun.stdout)") }
        let changed = try connection.query("SELECT id_number, name, phone, category FROM person WHERE id_number = ANY($1) ORDER BY id_number",
                                           ["{\(ids[2]),\(ids[3])}"])
        #expect(changed.map { $0["phone"] ?? "" }.contains("13900000002"))
        #expect(changed.contains { Array(($0["name"] ?? "").utf8) == Array("Jose\u{301}".utf8) }, "\(changed.map(\.values))")
        let history = try connection.query("SELECT count(*) AS n FROM person_history WHERE id_number = $1", [ids[4]])
        #expect(history.first?["n"] == "2", "split where the change began")
        // The import took the direct path, not the staged one this test compares it with: only
        // the direct path inserts the new person before it updates the changed ones (the staged
        // path updates first), which the journal's order shows.
        let order = try connection.query("""
            SELECT (SELECT max(seq) FROM journal WHERE table_name = 'person' AND operation = 'INSERT' AND row_key = $1)
                 < (SELECT max(seq) FROM journal WHERE table_name = 'person' AND operation = 'UPDATE' AND row_key = $2) AS direct
            """, [residentID(born: "1991-02-03", sequence: 77), ids[2]])
        #expect(order.first?["direct"] == "t", "the direct path was not taken")
        // Again: nothing changes, by either path.
        let again = try welfarePosts(["person", "import", file, "--format", "json"], on: database)
        #expect(jsonObject(again.stdout)["unchanged"] == "41", "\(again.stdout)")
    }

    /// A file of several thousand rows is read and checked by two threads in batches of 512 on
    /// the direct path (issue 17, session 21): problems in different batches (a bad check
    /// character, an unknown category, an unknown village, a resident ID repeated from an earlier
    /// batch) are refused with exactly the message the staged path (the dry run) gives, and the
    /// good file is imported whole, then found unchanged.
    @Test func aBigFileIsCheckedAcrossBatchesAsTheStagedPathChecksIt() throws {
        let (database, connection) = try prepared()
        let before = try Fixtures.fingerprint(connection)
        let ids = (0..<3_000).map { residentID(born: "1960-01-\(10 + $0 / 1_000)", sequence: $0 % 1_000) }
        var rows = ids.enumerated().map { index, id in
            "\(id),名\(index),H\(index),\(index % 2 == 0 ? Fixtures.villageA1 : Fixtures.villageA2),other,full,62280000000\(10_000 + index),"
        }
        let good = ([Self.header] + rows).joined(separator: "\n") + "\n"
        let wrongCheck = String(ids[700].dropLast()) + (ids[700].last == "1" ? "2" : "1")
        rows[700] = rows[700].replacingOccurrences(of: ids[700], with: wrongCheck)          // line 702, batch 1
        rows[1_200] = rows[1_200].replacingOccurrences(of: ",other,", with: ",rich,")       // line 1202, batch 2
        rows[1_700] = rows[1_700].replacingOccurrences(of: Fixtures.villageA1, with: "320321101299") // line 1702, batch 3
        rows[2_600] = rows[2_600].replacingOccurrences(of: ids[2_600], with: ids[100])      // line 2602, batch 5: line 102's ID
        let bad = try temporaryFile(([Self.header] + rows).joined(separator: "\n") + "\n")
        let direct = try welfarePosts(["person", "import", bad], on: database)
        let staged = try welfarePosts(["person", "import", bad, "--dry-run"], on: database)
        #expect(direct.status == 2 && staged.status == 2, "\(direct.stderr)")
        #expect(direct.stderr == staged.stderr, "direct:\n\(direct.stderr)\nstaged:\n\(staged.stderr)")
        for place in ["line 702, column 1 (id_number)", "line 1202, column 5 (category)", "line 1702, column 4 (village_code)",
                      "line 2602, column 1 (id_number)"] {
            #expect(direct.stderr.contains(place), "expected \(place) in:\n\(direct.stderr)")
        }
        #expect(try Fixtures.fingerprint(connection) == before)

        let file = try temporaryFile(good)
        let imported = try welfarePosts(["person", "import", file, "--format", "json"], on: database)
        #expect(jsonObject(imported.stdout)["inserted"] == "3000", "\(imported.stdout) \(imported.stderr)")
        let stored = try connection.query("""
            SELECT count(*) AS n, count(DISTINCT household_id) AS households, min(name) AS first FROM person WHERE household_id ^@ 'H' AND name ^@ '名'
            """)[0]
        #expect(stored["n"] == "3000" && stored["households"] == "3000", "\(stored.values)")
        let again = try welfarePosts(["person", "import", file, "--format", "json"], on: database)
        #expect(jsonObject(again.stdout)["unchanged"] == "3000", "\(again.stdout) \(again.stderr)")
    }

    /// An optional column left out of the file keeps what is stored, so it is not compared: a
    /// stored bank account is no change when the file has no bank_account column, and is when
    /// the file has one with an empty cell (it clears the account).
    @Test func anOptionalColumnLeftOutIsNotCompared() throws {
        let (database, connection) = try prepared()
        let withoutAccount = Self.goodRows.map { row -> String in
            var cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells.remove(at: 6)
            return cells.joined(separator: ",")
        }
        let header = "id_number,name,household_id,village_code,category,labour_capacity,phone"
        let kept = try welfarePosts(["person", "import", try temporaryFile(([header] + withoutAccount).joined(separator: "\n") + "\n"), "--format", "json"], on: database)
        #expect(jsonObject(kept.stdout)["unchanged"] == "2", "\(kept.stdout)")
        let cleared = Self.goodRows[0].replacingOccurrences(of: "6228480312345678", with: "")
        let result = try welfarePosts(["person", "import", try temporaryFile("\(Self.header)\n\(cleared)\n"), "--format", "json"], on: database)
        #expect(jsonObject(result.stdout)["updated"] == "1", "\(result.stdout)")
        #expect(try connection.query("SELECT bank_account FROM person WHERE id_number = $1", [Self.good1]).first?["bank_account"] == nil)
    }

    @Test func unmigratedDatabaseExits3() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try connection.execute("DELETE FROM schema_migration WHERE name = '0002_policy'")
        let result = try welfarePosts(["person", "show", Self.good1], on: database)
        #expect(result.status == 3)
        #expect(result.stderr.contains("[NOT_MIGRATED]"))
        #expect(result.stderr.contains("db migrate"))
    }

    @Test func unreachableServerExits3() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "host=/nonexistent-wp-socket-folder user=nobody dbname=none"
        let result = try runProcess(productsFolder.appendingPathComponent("welfare-posts").path, ["region", "list"], environment: environment)
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("error: [DATABASE_UNREACHABLE]"))
    }
}
