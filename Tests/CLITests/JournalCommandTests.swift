import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// The journal (SPEC §8): every change appended, append-only, and a hash chain that
/// `journal verify` checks — tried on a busy database and against a superuser who tampers.
@Suite("journal")
struct JournalCommandTests {
    func psql(_ world: World, _ sql: String) throws -> ProcessResult {
        try runProcess("/usr/bin/psql", [world.database.conninfo, "-v", "ON_ERROR_STOP=1", "-qc", sql])
    }

    /// A small story: a post proposed, approved, held, its holder's contract renewed and exit recorded.
    func story(_ world: World) throws -> (post: String, person: ResidentID) {
        let person = try world.person(born: "1970-05-05")
        let post = try world.post()
        try world.hire(post, person, "2026-01-01", "2026-06-30")
        _ = try Placements.renew(world.connection, person: person, start: nil, end: Day(iso: "2027-06-30")!, kind: nil)
        _ = try Placements.exit(world.connection, person: person, on: Day(iso: "2026-09-30")!, reason: "resigned")
        return (post, person)
    }

    @Test func everyChangeIsJournaledWithRoleAndRows() throws {
        let world = try World()
        let (post, person) = try story(world)
        let entries = try world.connection.query("""
            SELECT operation, table_name, row_key, role, row_before ->> 'exit_on' AS before, row_after ->> 'exit_on' AS after
            FROM journal WHERE table_name = 'placement' ORDER BY seq
            """)
        #expect(entries.map { "\($0["operation"]!) \($0["before"] ?? "-") \($0["after"] ?? "-")" } == ["INSERT - -", "UPDATE - 2026-09-30"])
        #expect(entries.allSatisfy { $0["role"] == "postgres" })
        // Writes by plain SQL are journaled too.
        #expect(try psql(world, "UPDATE person SET phone = '13800000000' WHERE id_number = '\(person.value)'").status == 0)
        let phone = try world.connection.query("""
            SELECT row_before ->> 'phone' AS before, row_after ->> 'phone' AS after FROM journal
            WHERE table_name = 'person' AND operation = 'UPDATE' ORDER BY seq DESC LIMIT 1
            """)[0]
        #expect(phone["before"] == nil && phone["after"] == "13800000000")

        let history = try welfarePosts(["journal", "show", "--entity", "post:\(post)", "--format", "csv"], on: world.database)
        #expect(history.status == 0, "\(history.stderr)")
        let lines = history.stdout.split(separator: "\n").dropFirst()
        // Proposed, approved, placement, its two contracts, and the exit.
        #expect(lines.map { $0.split(separator: ",")[3] + " " + $0.split(separator: ",")[4] } ==
                ["INSERT post", "UPDATE post", "INSERT placement", "INSERT contract", "INSERT contract", "UPDATE placement"], "\(history.stdout)")
        #expect(history.stdout.contains("exit_on: null → 2026-09-30"))
        #expect(!history.stdout.contains(person.value), "a full resident ID in \(history.stdout)")
        #expect(history.stdout.contains(person.masked))
        let revealed = try welfarePosts(["journal", "show", "--entity", "person:\(person.value)", "--reveal", "--format", "csv"], on: world.database)
        #expect(revealed.stdout.contains(person.value))
        #expect(revealed.stdout.contains("13800000000"))
        let bad = try welfarePosts(["journal", "show", "--entity", "house:1"], on: world.database)
        #expect(bad.status == 2)
    }

    @Test func theJournalRefusesChangeEvenFromASuperuser() throws {
        let world = try World()
        _ = try story(world)
        for sql in ["UPDATE journal SET role = 'someone'", "DELETE FROM journal", "TRUNCATE journal", "DELETE FROM journal_head"] {
            let result = try psql(world, sql)
            #expect(result.status != 0, "\(sql) was allowed")
            #expect(result.stderr.contains("append-only"), "\(sql): \(result.stderr)")
        }
        let verified = try welfarePosts(["journal", "verify", "--format", "json"], on: world.database)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("\"verified\":\"intact\""))
    }

    /// A superuser disables the triggers and rewrites history; verify names the first entry touched.
    @Test(arguments: [
        ("UPDATE journal SET row_after = jsonb_set(row_after::jsonb, '{monthly_fen}', '1')::json WHERE seq = 5", "[JOURNAL_TAMPERED] entry 5 was altered"),
        ("DELETE FROM journal WHERE seq IN (7, 8)", "[JOURNAL_TAMPERED] entries 7…8 were removed"),
        ("UPDATE journal SET seq = -1 WHERE seq = 9; UPDATE journal SET seq = 9 WHERE seq = 10; UPDATE journal SET seq = 10 WHERE seq = -1", "[JOURNAL_TAMPERED] entry 9 is out of order"),
        ("DELETE FROM journal WHERE seq = (SELECT max(seq) FROM journal)", "at the end were removed"),
    ])
    func tamperingIsFound(_ tampering: (sql: String, message: String)) throws {
        let world = try World()
        _ = try story(world)
        let before = try welfarePosts(["journal", "verify"], on: world.database)
        #expect(before.status == 0, "\(before.stderr)")
        let tampered = try psql(world, "ALTER TABLE journal DISABLE TRIGGER ALL; \(tampering.sql); ALTER TABLE journal ENABLE TRIGGER ALL")
        #expect(tampered.status == 0, "\(tampered.stderr)")
        let after = try welfarePosts(["journal", "verify"], on: world.database)
        #expect(after.status == 1)
        #expect(after.stderr.contains(tampering.message), "\(after.stderr)")
    }

    /// A journal written before migration 0009 (rows kept as jsonb, digests made per row) still
    /// verifies after it, keeps chaining, and the entries 0009 writes name their rows exactly as
    /// the old ones did: the same key, county and region for the same row.
    @Test func aJournalWrittenBeforeTheUpgradeStillVerifies() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try Migrator(connection: connection).migrate(through: "0008_payroll_due_integer")
        // Written in a time zone other than the one verify runs in.
        try connection.execute("SET TIME ZONE 'Asia/Shanghai'")
        try Fixtures.regions(connection)
        _ = try Policy.setPay(connection, region: Fixtures.county, type: "cleaner", monthly: Fen(80_000),
                              socialInsurance: Fen(30_000), from: Month(year: 2020, month: 1)!)
        let people = (1...3).map { residentID(born: "1970-01-0\($0)", sequence: $0) }
        try connection.execute("""
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            SELECT '320321', id, '测试', 'H' || id, '\(Fixtures.villageA1)', 'monitored', 'weak'
            FROM unnest(ARRAY['\(people.joined(separator: "','"))']) id;
            UPDATE person SET phone = '13800000000';
            DELETE FROM person WHERE id_number = '\(people[2])';
            """)
        let written = try connection.query("SELECT count(*) AS n, md5(string_agg(row_after::text, '|' ORDER BY seq)) AS rows FROM journal")[0]
        #expect(try Migrator(connection: connection).migrate().first == "0009_journal_throughput")
        let upgraded = try welfarePosts(["journal", "verify", "--format", "csv"], on: database)
        #expect(upgraded.status == 0, "\(upgraded.stderr)")
        #expect(upgraded.stdout.contains("\(written["n"]!),intact"), "\(upgraded.stdout)")
        #expect(try connection.query("SELECT md5(string_agg(row_after::text, '|' ORDER BY seq)) AS rows FROM journal")[0]["rows"] == written["rows"])

        // The same rows changed again (regions, a pay standard keyed by a date, persons), and one
        // person's resident ID corrected: the old row and the new one are each journaled.
        try connection.execute("""
            UPDATE region SET name = name || '（改）';
            UPDATE pay_standard SET monthly_fen = 90000;
            UPDATE person SET phone = '13900000000';
            UPDATE person SET id_number = '\(residentID(born: "1970-01-09", sequence: 9))' WHERE id_number = '\(people[1])';
            """)
        let verified = try welfarePosts(["journal", "verify"], on: database)
        #expect(verified.status == 0, "\(verified.stderr)")
        let renamed = try connection.query("""
            SELECT n.table_name, n.row_key FROM journal n
            WHERE n.seq > $1 AND NOT EXISTS (
              SELECT 1 FROM journal o WHERE o.seq <= $1 AND o.table_name = n.table_name AND o.row_key = n.row_key
                AND o.county_code IS NOT DISTINCT FROM n.county_code AND o.region_code IS NOT DISTINCT FROM n.region_code)
            ORDER BY n.seq
            """, [written["n"]!])
        #expect(renamed.map { "\($0["table_name"]!) \($0["row_key"]!)" } == ["person \(residentID(born: "1970-01-09", sequence: 9))"])
        let tables = try connection.query("SELECT string_agg(DISTINCT table_name, ',') AS t FROM journal WHERE seq > $1", [written["n"]!])
        #expect(tables[0]["t"] == "pay_standard,person,region")
        let corrected = try connection.query("""
            SELECT row_key, row_before ->> 'phone' AS before, row_after ->> 'phone' AS after FROM journal
            WHERE table_name = 'person' ORDER BY seq DESC LIMIT 2
            """)
        #expect(Set(corrected.map { "\($0["row_key"]!) \($0["before"] ?? "-") \($0["after"] ?? "-")" }) ==
                ["\(people[1]) 13900000000 -", "\(residentID(born: "1970-01-09", sequence: 9)) - 13900000000"])
    }

    /// Eight administrators writing at once: every transaction appends after the one before,
    /// so the chain never forks.
    @Test func verifyPassesOnABusyDatabase() throws {
        let world = try World()
        let posts = try (0..<16).map { _ in try world.post() }
        let people = try (0..<16).map { try world.person(born: "19\(60 + $0 % 30)-0\(1 + $0 % 9)-1\($0 % 10)") }
        let results = Locked<[Int32]>([])
        let database = world.database
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let hire = (try? welfarePosts(["hire", "--post", posts[index], "--person", people[index].value, "--start", "2026-01-01",
                                           "--end", "2026-12-31"], on: database))?.status ?? -1
            let status = (try? welfarePosts(["person", "status", people[index].value, "--set", "employed", "--from", "2027-01-01"],
                                            on: database))?.status ?? -1
            results.mutate { $0 += [hire, status] }
        }
        #expect(results.value.allSatisfy { $0 == 0 }, "\(results.value)")
        let verified = try welfarePosts(["journal", "verify", "--format", "json"], on: world.database)
        #expect(verified.status == 0, "\(verified.stderr)")
        let counts = try world.connection.query("SELECT count(*) AS n, max(seq) AS m, count(DISTINCT prev_hash) AS links FROM journal")[0]
        #expect(counts["n"] == counts["m"] && counts["n"] == counts["links"])
        // 16 placements, 16 contracts and 16 statuses among them.
        #expect(try world.connection.query("SELECT count(*) AS n FROM journal WHERE table_name IN ('placement', 'contract', 'person_status')")[0]["n"] == "48")
    }
}
