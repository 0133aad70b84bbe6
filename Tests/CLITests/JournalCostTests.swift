import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// The journal of bulk statements (issue 17, sql/0023): a statement of more than 100 rows is
/// journaled in one entry per county and hash group (one group per 10,000 rows of the statement), holding its rows as JSON arrays;
/// every row is still found, before and after, and any row altered or removed inside an entry is
/// found by `journal verify`.
@Suite("journal cost")
struct JournalCostTests {
    static let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone"
    static let villages = [Fixtures.villageA1, Fixtures.villageA2, Fixtures.villageB1]
    static let ids = (0..<1000).map { residentID(born: "1971-02-03", sequence: $0) }

    func psql(_ database: TestDatabase, _ sql: String) throws -> ProcessResult {
        try runProcess("/usr/bin/psql", [database.conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
    }

    /// A database with the fixture regions and 1,000 persons imported in one `person import`.
    func imported() throws -> (TestDatabase, Connection) {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let rows = Self.ids.enumerated().map { index, id in
            "\(id),姓名\(index),H\(index / 3),\(Self.villages[index % 3]),monitored,weak,,"
        }
        let file = try temporaryFile(([Self.header] + rows).joined(separator: "\n") + "\n")
        let result = try welfarePosts(["person", "import", file], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        return (database, connection)
    }

    @Test func aThousandPersonImportIsOneEntryAndEveryRowIsFound() throws {
        let (database, connection) = try imported()
        // One county, fewer than 10,000 rows: one entry, holding the 1,000 rows.
        let entries = try connection.query("""
            SELECT count(*) AS n, sum(json_array_length(row_after -> 1)) AS rows, min(row_key) AS keys, min(county_code) AS county
            FROM journal WHERE table_name = 'person'
            """)[0]
        #expect(entries["n"] == "1" && entries["rows"] == "1000" && entries["keys"] == "(id_number)" && entries["county"] == "320321",
                "\(entries)")
        // Every row, with its own key, county and village, row by row.
        let rows = try connection.query("""
            SELECT count(*) AS n, count(DISTINCT row_key) AS keys, count(*) FILTER (WHERE region_code = ANY ($1::text[])) AS placed
            FROM journal_row WHERE table_name = 'person' AND operation = 'INSERT' AND row_before IS NULL
            """, ["{\(Self.villages.joined(separator: ","))}"])[0]
        #expect(rows["n"] == "1000" && rows["keys"] == "1000" && rows["placed"] == "1000", "\(rows)")

        let person = Self.ids[500]
        let shown = try welfarePosts(["journal", "show", "--entity", "person:\(person)", "--reveal", "--format", "csv"], on: database)
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == 1 && lines.first?.contains("INSERT,person,\(person)") == true && shown.stdout.contains("name=姓名500"),
                "\(shown.stdout)")

        // An update of more than 100 rows from psql: one entry, every row's before and after.
        #expect(try psql(database, "UPDATE person SET phone = '13900000000' WHERE village_code = '\(Fixtures.villageA2)'").status == 0)
        #expect(try connection.query("SELECT count(*) AS n FROM journal WHERE table_name = 'person' AND operation = 'UPDATE'")[0]["n"] == "1")
        let updated = try welfarePosts(["journal", "show", "--entity", "person:\(Self.ids[1])", "--reveal", "--format", "csv"], on: database)
        #expect(updated.stdout.contains("phone: null → 13900000000"), "\(updated.stdout)")
        let pairs = try connection.query("""
            SELECT count(*) AS n, count(*) FILTER (WHERE row_before ->> 'phone' IS NULL AND row_after ->> 'phone' = '13900000000'
                                                  AND row_before ->> 'id_number' = row_after ->> 'id_number') AS paired
            FROM journal_row WHERE table_name = 'person' AND operation = 'UPDATE'
            """)[0]
        #expect(pairs["n"] == "333" && pairs["paired"] == "333", "\(pairs)")
        // A statement of up to 100 rows keeps one entry per row.
        #expect(try psql(database, "DELETE FROM person WHERE id_number IN ('\(Self.ids[3])', '\(Self.ids[4])', '\(Self.ids[5])')").status == 0)
        let deleted = try connection.query("""
            SELECT count(*) AS n, string_agg(row_key, ',' ORDER BY row_key) AS keys FROM journal
            WHERE table_name = 'person' AND operation = 'DELETE' AND json_typeof(row_before) = 'object'
            """)[0]
        #expect(deleted["n"] == "3" && deleted["keys"] == "\(Self.ids[3]),\(Self.ids[4]),\(Self.ids[5])", "\(deleted)")

        let verified = try welfarePosts(["journal", "verify", "--format", "json"], on: database)
        #expect(verified.status == 0 && verified.stdout.contains("\"verified\":\"intact\""), "\(verified.stdout) \(verified.stderr)")
    }

    /// A superuser who switches the journal's triggers off and changes one row inside a bulk
    /// entry, removes one, or adds one, is found: the entry's digest covers all its rows.
    /// sql/0040: a bulk entry prints a timestamptz holding the statement's time once, and every
    /// other value per row: each row's created_at and updated_at, before and after, read as the
    /// table's own text, in a time zone that is not the server's, whether or not it is the
    /// statement's time; and the journal still verifies.
    @Test func aBulkEntryHoldsEachRowsTimesAsTheirOwnText() throws {
        let (database, _) = try imported()
        let checked = try psql(database, """
            SET TimeZone = 'America/Los_Angeles';
            BEGIN;
            CREATE TEMP TABLE before ON COMMIT DROP AS
            SELECT id_number, created_at::text AS created_at, updated_at::text AS updated_at, created_at AS created, updated_at AS updated FROM person;
            UPDATE person SET phone = '13900000000', updated_at = now(),
                              created_at = CASE WHEN right(household_id, 1) = '1' THEN created_at - interval '1 day 2 hours 0.5 seconds' ELSE created_at END
            WHERE village_code <> '\(Fixtures.villageB1)';
            SELECT count(*) || ' ' || count(*) FILTER (WHERE j.row_after ->> 'created_at' = p.created_at::text
                                                       AND j.row_after ->> 'updated_at' = p.updated_at::text
                                                       AND j.row_before ->> 'created_at' = b.created_at
                                                       AND j.row_before ->> 'updated_at' = b.updated_at)
                   || ' ' || count(*) FILTER (WHERE p.created_at::text <> b.created_at)
            FROM journal_row j JOIN person p ON p.id_number = j.row_key JOIN before b ON b.id_number = j.row_key
            WHERE j.table_name = 'person' AND j.operation = 'UPDATE';
            SELECT count(*) || ' ' || count(*) FILTER (WHERE (j.row_after ->> 'created_at')::timestamptz = b.created
                                                       AND (j.row_after ->> 'updated_at')::timestamptz = b.updated)
            FROM journal_row j JOIN before b ON b.id_number = j.row_key
            WHERE j.table_name = 'person' AND j.operation = 'INSERT';
            COMMIT
            """)
        #expect(checked.status == 0, "\(checked.stderr)")
        // The update: 667 rows (two villages of three), all as the table holds them, some moved to
        // another time than the statement's. The import (journaled in the tool's session, so
        // compared as times): 1,000 rows, each at the import's time.
        let counts = checked.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(counts.count == 5 && counts[0] == 667 && counts[1] == 667 && counts[2] > 0 && counts[2] < 667
                && counts[3] == 1000 && counts[4] == 1000, "\(checked.stdout)")
        let verified = try welfarePosts(["journal", "verify"], on: database)
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test(arguments: [
        #"regexp_replace(row_after::text, '"姓名500"', '"某某"')"#,
        #"regexp_replace(row_after::text, ', \[[^\[\]]*\]', '')"#,
        #"regexp_replace(row_after::text, '\]\]\]$', '], ["x"]]]')"#,
    ])
    func aRowChangedInsideABulkEntryIsFound(_ rewrite: String) throws {
        let (database, connection) = try imported()
        let entry = try connection.query("SELECT seq FROM journal WHERE table_name = 'person'")[0]["seq"] ?? ""
        let tampered = try psql(database, """
            ALTER TABLE journal DISABLE TRIGGER ALL;
            UPDATE journal SET row_after = (\(rewrite))::json WHERE seq = \(entry);
            ALTER TABLE journal ENABLE TRIGGER ALL
            """)
        #expect(tampered.status == 0, "\(tampered.stderr)")
        #expect(try connection.query("SELECT json_array_length(row_after -> 1) <> 1000 OR row_after::text LIKE '%某某%' AS changed FROM journal WHERE seq = $1::bigint",
                                     [entry])[0]["changed"] == "t", "the tampering did nothing")
        let after = try welfarePosts(["journal", "verify"], on: database)
        #expect(after.status == 1 && after.stderr.contains("[JOURNAL_TAMPERED] entry \(entry) was altered"), "\(after.stderr)")
    }

    /// A journal written before sql/0023 (one entry per row, a bulk statement too) still verifies
    /// after it; new entries, one per row or in bulk, chain after the old ones; and `journal show`
    /// finds a person's rows in both.
    @Test func aJournalWrittenBeforeBulkEntriesStillVerifies() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try Migrator(connection: connection).migrate(through: "0020_bank")
        try Fixtures.regions(connection)
        let ids = Self.ids.prefix(300)
        try connection.execute("""
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            SELECT '320321', id, '测试', 'H' || id, '\(Fixtures.villageA1)', 'monitored', 'weak'
            FROM unnest(ARRAY['\(ids.joined(separator: "','"))']) id;
            """)
        let old = try connection.query("SELECT count(*) AS n, max(seq) AS last FROM journal")[0]
        #expect(Int(old["n"] ?? "") ?? 0 >= 300)
        #expect(try Migrator(connection: connection).migrate().contains("0023_journal_bulk"))
        try connection.execute("""
            UPDATE person SET phone = '13700000000';
            UPDATE person SET name = '改名' WHERE id_number = '\(ids[7])';
            """)
        let verified = try welfarePosts(["journal", "verify", "--format", "csv"], on: database)
        #expect(verified.status == 0, "\(verified.stderr)")
        let entries = try connection.query("SELECT count(*) AS n FROM journal WHERE seq > $1::bigint", [old["last"]!])[0]
        #expect(entries["n"] == "2", "one bulk entry and one of a row: \(entries)")
        let shown = try welfarePosts(["journal", "show", "--entity", "person:\(ids[7])", "--reveal", "--format", "csv"], on: database)
        let changes = shown.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[3] + " " + ($0.split(separator: ",").last ?? "") }
        #expect(changes.count == 3 && changes.first?.hasPrefix("INSERT ") == true
                && changes.dropFirst().elementsEqual(["UPDATE phone: null → 13700000000", "UPDATE name: 测试 → 改名"]), "\(shown.stdout)")
    }
    /// One statement writing 200 persons in each of two counties: an entry per county, so a
    /// county's auditor reads their county's rows, and none of the other county's.
    @Test func aCountysAuditorSeesTheirCountysRowsOfABulkStatement() throws {
        let scene = try AccessTests.Scene()
        let here = (0..<200).map { residentID(born: "1966-06-06", sequence: $0) }
        let there = (0..<200).map { residentID(area: "320322", born: "1966-06-06", sequence: $0) }
        try scene.connection.execute("""
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            SELECT left(v, 6), id, '测试', 'H' || id, v, 'monitored', 'weak'
            FROM unnest(ARRAY['\(here.joined(separator: "','"))'], ARRAY['\((here.map { _ in Fixtures.villageA1 }).joined(separator: "','"))']) AS a(id, v)
            UNION ALL
            SELECT left(v, 6), id, '测试', 'H' || id, v, 'monitored', 'weak'
            FROM unnest(ARRAY['\(there.joined(separator: "','"))'], ARRAY['\((there.map { _ in AccessTests.Scene.villageY }).joined(separator: "','"))']) AS a(id, v)
            """)
        let entries = try scene.connection.query("""
            SELECT string_agg(county_code || ':' || region_code || ':' || json_array_length(row_after -> 1), ',' ORDER BY county_code) AS e
            FROM journal WHERE table_name = 'person' AND json_typeof(row_after) = 'array'
            """)[0]["e"]
        #expect(entries == "320321:\(Fixtures.villageA1):200,320322:\(AccessTests.Scene.villageY):200", "\(entries ?? "")")
        let auditor = try scene.login("auditor", AccessTests.Scene.countyY)
        let seen = try scene.psql(auditor, """
            SELECT count(*) FILTER (WHERE county_code = '320321') || '/' || count(*) FILTER (WHERE county_code = '320322')
            FROM journal_row WHERE table_name = 'person' AND operation = 'INSERT'
            """)
        #expect(seen.status == 0 && seen.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0/201", "\(seen.stdout) \(seen.stderr)")
        let own = try scene.cli(auditor, ["journal", "show", "--entity", "person:\(there[17])"])
        #expect(own.status == 0 && own.stdout.contains("\"operation\":\"INSERT\"") && own.stdout.contains("\"table\":\"person\""), "\(own.stdout) \(own.stderr)")
        let other = try scene.cli(auditor, ["journal", "show", "--entity", "person:\(here[17])"])
        #expect(other.status == 0 && !other.stdout.contains("INSERT"), "\(other.stdout)")
    }
}
