import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// The walls against an operator who knows SQL (SPEC §11, issue 11): each attack is made as a
/// hostile operator would, through psql logged in as their own role, and must change nothing.
@Suite("walls")
struct WallsTests {
    typealias Scene = AccessTests.Scene

    /// Every function of the schema names its tables through the one fixed search_path
    /// `pg_catalog, public, pg_temp` (or binds them when created, as a SQL-standard body does), and nobody outside the group roles may call it.
    /// A migration that adds a function without either fails here.
    @Test func everyFunctionRunsWithAFixedSearchPathAndOnlyForItsRoles() throws {
        let world = try World()
        let loose = try world.connection.query("""
            SELECT p.oid::regprocedure::text AS f FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
              AND p.prosqlbody IS NULL
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                              WHERE c = 'search_path=pg_catalog, public, pg_temp')
            ORDER BY 1
            """).map { $0["f"] ?? "" }
        #expect(loose.isEmpty, "functions resolving names through the caller's search_path: \(loose)")
        let open = try world.connection.query("""
            SELECT p.oid::regprocedure::text AS f FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
              AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                          WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
            ORDER BY 1
            """).map { $0["f"] ?? "" }
        #expect(open.isEmpty, "functions anyone may execute: \(open)")
        // Functions a later migration creates are closed to PUBLIC by default too.
        try world.connection.query("CREATE FUNCTION walls_probe() RETURNS int LANGUAGE sql RETURN 1")
        let probe = try world.connection.query("""
            SELECT has_function_privilege('public', 'walls_probe()', 'EXECUTE') AS open
            """)[0]["open"]
        #expect(probe == "f")
    }

    /// Row-level security covers every table and role it must: every table of counties' rows
    /// has it enabled; on every table with it, each group role holding a privilege (table or
    /// column) has a policy for that command, so no role is left reading nothing by an omission;
    /// every view a group role may read runs as the reader (security_invoker), so it cannot
    /// read past the policies as its owner. (Security is not forced on the owner: the owner
    /// runs migrations and the owner-rights helpers, and operators are never owners,
    /// `operator_add`.) A table made here without a policy for one role fails the same query.
    @Test func everyTableWithCountyRowsHasAPolicyForEveryRoleThatMayUseIt() throws {
        let world = try World()
        let gaps = """
            WITH groups AS (SELECT rolname FROM pg_roles WHERE rolname IN
                              ('wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin')),
                 tables AS (SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.reloptions FROM pg_class c
                            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm'))
            SELECT t.relname || ': row-level security off' AS gap FROM tables t
            WHERE t.relkind IN ('r', 'p') AND NOT t.relrowsecurity AND t.relname <> 'region' -- everyone reads the regions
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'county_code' AND NOT a.attisdropped)
            UNION ALL
            SELECT t.relname || ': no policy for ' || g.rolname || ' to ' || p.privilege FROM tables t CROSS JOIN groups g
            CROSS JOIN (VALUES ('SELECT', 'r'), ('INSERT', 'a'), ('UPDATE', 'w'), ('DELETE', 'd')) p (privilege, cmd)
            WHERE t.relrowsecurity
              AND (has_table_privilege(g.rolname, t.oid, p.privilege)
                   OR (p.privilege <> 'DELETE' AND has_any_column_privilege(g.rolname, t.oid, p.privilege)))
              AND NOT EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = t.oid AND pol.polcmd IN ('*', p.cmd)
                              AND (pol.polroles = '{0}' OR EXISTS (SELECT 1 FROM unnest(pol.polroles) r WHERE pg_has_role(g.rolname, r, 'MEMBER'))))
            UNION ALL
            SELECT t.relname || ': a view ' || g.rolname || ' reads as its owner' FROM tables t CROSS JOIN groups g
            WHERE t.relkind IN ('v', 'm') AND has_table_privilege(g.rolname, t.oid, 'SELECT')
              AND NOT coalesce('security_invoker=true' = ANY (t.reloptions), false)
            ORDER BY 1
            """
        let found = try world.connection.query(gaps).map { $0["gap"] ?? "" }
        #expect(found.isEmpty, "\(found)")
        // The query finds what it is for: a table of county rows without security, then with a
        // policy for townships alone, and a view reading it as its owner.
        try world.connection.execute("""
            CREATE TABLE walls_probe_rows (county_code text);
            GRANT SELECT ON walls_probe_rows TO wp_township_admin, wp_finance;
            CREATE VIEW walls_probe_view AS SELECT * FROM walls_probe_rows;
            GRANT SELECT ON walls_probe_view TO wp_auditor;
            """)
        #expect(try world.connection.query(gaps).map { $0["gap"] ?? "" }
                == ["walls_probe_rows: row-level security off", "walls_probe_view: a view wp_auditor reads as its owner"])
        try world.connection.execute("""
            ALTER TABLE walls_probe_rows ENABLE ROW LEVEL SECURITY;
            CREATE POLICY township ON walls_probe_rows TO wp_township_admin USING (true);
            """)
        #expect(try world.connection.query(gaps).map { $0["gap"] ?? "" }
                == ["walls_probe_rows: no policy for wp_finance to SELECT", "walls_probe_view: a view wp_auditor reads as its owner"])
    }

    /// A temporary table of every name the schema's functions use, made in the attacker's own
    /// session, where pg_temp is searched first. Each is a copy of the real table's shape, empty.
    static let shadows = """
        DO $$ DECLARE t record; BEGIN
          FOR t IN SELECT c.relname, (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ')
                                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
                   FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v') LOOP
            EXECUTE format('CREATE TEMP TABLE %I (%s)', t.relname, t.columns);
          END LOOP;
        END $$;
        """

    /// The functions kept without `SET search_path` so that PostgreSQL inlines them (sql/0038's
    /// region and date helpers, sql/0039's payroll_line_text and the digest over it) have
    /// SQL-standard bodies, whose names are bound when they are created: an auditor's session
    /// that shadows every table with an empty temporary one and searches pg_temp first gets the
    /// same digest of an approved month and the same regions as the owner.
    @Test func inlinedFunctionsAreBoundWhenCreated() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let auditor = try scene.login("auditor", Fixtures.county)
        let probe = """
            SELECT s.lines || '/' || s.total_fen || '/' || s.lines_digest || '/' || township_of('\(Fixtures.villageA1)') || '/'
                   || region_level('\(Fixtures.villageA1)') || '/' || region_prefix('\(Fixtures.townshipA)') AS p
            FROM payroll_lines_state('320321', '2026-01-01') s
            """
        let owner = try scene.connection.query(probe)[0]["p"] ?? ""
        #expect(owner.hasPrefix("2/"), "\(owner)")
        let hostile = try scene.psql(auditor, Self.shadows + "SET search_path = pg_temp, public, pg_catalog; " + probe)
        #expect(hostile.status == 0, "\(hostile.stderr)")
        #expect(hostile.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == owner)
    }

    @Test func temporaryTablesShadowNothing() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let admin = try scene.login("county-admin", Fixtures.county)
        let before = try scene.fingerprint()
        let placement = try scene.connection.query("SELECT id FROM placement WHERE post_id = $1", [scene.postB])[0]["id"] ?? ""
        let approvedLines = try scene.connection.query("SELECT count(*) AS n FROM payroll_line WHERE month = '2026-01-01'")[0]["n"]
        #expect(approvedLines == "2")

        // The approved month's lines: deleting them, or adding one, is refused whatever shadows the run.
        let delete = try scene.psql(admin, Self.shadows + "DELETE FROM public.payroll_line WHERE month = '2026-01-01'")
        #expect(delete.status != 0 && delete.stderr.contains("approved and can never change"), "\(delete.stderr)")
        let add = try scene.psql(admin, Self.shadows + """
            INSERT INTO public.payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post,
              post_subsidy_fen, social_insurance_fen, adjustment_fen, total_fen)
            VALUES ('320321', '2026-01-01', '2025-12-01', 'adjustment', '\(scene.personB.value)', '\(scene.postB)', 0, 0, 0, 99900, 99900)
            """)
        #expect(add.status != 0 && add.stderr.contains("approved and can never change"), "\(add.stderr)")
        // A contract that starts before its placement.
        let contract = try scene.psql(admin, Self.shadows + """
            INSERT INTO public.contract (county_code, placement_id, start_on, end_on) VALUES ('320321', \(placement), '2025-06-01', '2025-12-31')
            """)
        #expect(contract.status != 0 && contract.stderr.contains("cannot start before its placement"), "\(contract.stderr)")
        // A person in a village that does not exist.
        let person = try scene.psql(admin, Self.shadows + """
            INSERT INTO public.person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            VALUES ('320321', '\(residentID(born: "1980-02-02", sequence: 71))', '某', 'H71', '320321101299', 'other', 'full')
            """)
        #expect(person.status != 0 && person.stderr.contains("is not a known region"), "\(person.stderr)")
        #expect(try scene.fingerprint() == before)
        // And a person in a real village goes in, though the region table is shadowed by an empty one.
        let real = try scene.psql(admin, Self.shadows + """
            INSERT INTO public.person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            VALUES ('320321', '\(residentID(born: "1980-02-02", sequence: 72))', '某', 'H72', '\(Fixtures.villageA1)', 'other', 'full')
            """)
        #expect(real.status == 0, "\(real.stderr)")
    }

    /// SECURITY DEFINER helpers: nothing for a login that is no operator; for an operator, a yes
    /// or no about keys it passed, within its own county, never a name.
    @Test func ownerRightsHelpersTellOperatorsOnlyAboutTheirCounty() throws {
        let scene = try Scene()
        // A cadre in person Y's household (county 320322).
        let cadre = try scene.world.person(born: "1950-01-01", village: Scene.villageY)
        try scene.connection.query("UPDATE person SET household_id = (SELECT household_id FROM person WHERE id_number = $1) WHERE id_number = $2",
                                   [scene.personY.value, cadre.value])
        _ = try Persons.setStatus(scene.connection, id: cadre, status: "village-cadre", from: Day(iso: "2020-01-01")!, to: nil)
        let cadreName = try scene.connection.query("SELECT name FROM person WHERE id_number = $1", [cadre.value])[0]["name"] ?? "?"

        let stranger = "st" + UUID().uuidString.prefix(8).lowercased()
        try scene.connection.query("CREATE ROLE \(stranger) LOGIN")
        for call in ["SELECT household_has_cadre('\(scene.personY.value)', '2026-01-01')",
                     "SELECT household_in_post('\(scene.personY.value)', '2026-01-01')",
                     "SELECT persons_outside_region(ARRAY['\(scene.personY.value)'])",
                     "SELECT person_exists('\(scene.personY.value)')",
                     "SELECT mask_id('\(scene.personY.value)')"] {
            let refused = try scene.psql(scene.conninfo(as: stranger), call)
            #expect(refused.status != 0 && refused.stderr.contains("permission denied for function"), "\(call): \(refused.stderr)")
        }
        // The cadre's name is given to nobody: the old function is gone, the new one says yes or no.
        let township = try scene.login("township-admin", Fixtures.townshipA)
        let old = try scene.psql(township, "SELECT household_cadres('\(scene.personY.value)', '2026-01-01')")
        #expect(old.status != 0 && !old.stdout.contains(cadreName), "\(old)")
        let other = try scene.psql(township, "SELECT household_has_cadre('\(scene.personY.value)', '2026-01-01')")
        #expect(other.status == 0 && other.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "f", "\(other)")
        // Which of a list of IDs are registered: only those of its own county, outside its township.
        let outside = try scene.psql(township, "SELECT persons_outside_region(ARRAY['\(scene.personB.value)', '\(scene.personY.value)', '\(cadre.value)', '\(scene.personA.value)'])")
        #expect(outside.status == 0 && outside.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == scene.personB.value, "\(outside)")
        // Not a registry to sweep: a township asks about at most 100,000 IDs at once.
        let sweep = try scene.psql(township, "SELECT count(*) FROM persons_outside_region(ARRAY(SELECT lpad(g::text, 18, '0') FROM generate_series(1, 100001) g))")
        #expect(sweep.status != 0 && sweep.stderr.contains("at most 100000"), "\(sweep.stderr)")
        // Finance and auditors do not import persons: they may not ask.
        let finance = try scene.login("finance", Fixtures.county)
        let asked = try scene.psql(finance, "SELECT persons_outside_region(ARRAY['\(scene.personB.value)'])")
        #expect(asked.status != 0 && asked.stderr.contains("permission denied for function"), "\(asked.stderr)")
    }

    /// A system administrator adds operators but can make neither itself nor a login it controls
    /// one that reads data.
    @Test func nobodyChangesTheirOwnOperatorRecord() throws {
        let scene = try Scene()
        let name = "sa" + UUID().uuidString.prefix(8).lowercased()
        try scene.connection.query("SELECT operator_add($1, 'system-admin', '320000000000')", [name])
        let admin = scene.conninfo(as: name)
        let before = try scene.fingerprint()
        let promote = try scene.psql(admin, "SELECT operator_add('\(name)', 'auditor', '320000000000')")
        #expect(promote.status != 0 && promote.stderr.contains("cannot add or change themselves"), "\(promote.stderr)")
        try scene.expectRefused(admin, ["operator", "add", name, "--role", "auditor", "--region", "32"], ["OPERATOR_SELF"])
        let remove = try scene.psql(admin, "SELECT operator_remove('\(name)')")
        #expect(remove.status != 0 && remove.stderr.contains("cannot remove themselves"), "\(remove.stderr)")
        // A login it may become (a member of) is its own in all but name.
        let puppet = "pu" + UUID().uuidString.prefix(8).lowercased()
        try scene.connection.query("CREATE ROLE \(puppet) LOGIN")
        try scene.connection.query("GRANT \(puppet) TO \(name)")
        let viaPuppet = try scene.psql(admin, "SELECT operator_add('\(puppet)', 'auditor', '320000000000')")
        #expect(viaPuppet.status != 0 && viaPuppet.stderr.contains("cannot add or change themselves"), "\(viaPuppet.stderr)")
        #expect(try scene.fingerprint() == before)
        let persons = try scene.psql(admin, "SELECT count(*) FROM person")
        #expect(persons.status != 0 && persons.stderr.contains("permission denied"), "\(persons.stderr)")
        // Its work goes on: another login becomes an auditor.
        let added = try scene.cli(admin, ["operator", "add", "au" + UUID().uuidString.prefix(8).lowercased(), "--role", "auditor", "--region", "32"])
        #expect(added.status == 0, "\(added.stderr)")
    }

    /// A superuser can switch the locks off; what it then changes is found by `journal verify`,
    /// and a rewrite of the journal itself by a hash kept outside the database (SPEC §11).
    @Test func aSuperuserPastTheLocksIsFoundByTheSeal() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let intact = try welfarePosts(["journal", "verify", "--format", "json"], on: scene.database)
        #expect(intact.status == 0, "\(intact.stderr)")
        let entries = try scene.connection.query("SELECT max(seq) AS n FROM journal")[0]["n"] ?? ""
        let kept = try scene.connection.query("SELECT encode(hash, 'hex') AS h FROM journal WHERE seq = $1::bigint", [entries])[0]["h"] ?? ""
        #expect(try welfarePosts(["journal", "verify", "--entry", entries, "--hash", kept], on: scene.database).status == 0)

        // Lines changed with the triggers off: no journal entry, but the seal no longer matches.
        try scene.connection.execute("""
            SET session_replication_role = replica;
            UPDATE payroll_line SET post_subsidy_fen = post_subsidy_fen + 100000, total_fen = total_fen + 100000 WHERE month = '2026-01-01' AND id_number = '\(scene.personB.value)';
            SET session_replication_role = origin
            """)
        let changed = try welfarePosts(["journal", "verify"], on: scene.database)
        #expect(changed.status == 1 && changed.stderr.hasPrefix("error: [PAYROLL_TAMPERED]")
                && changed.stderr.contains("2026-01") && changed.stderr.contains("320321"), "\(changed.stderr)")
        // And the run's seal rewritten to match: the journaled approval says otherwise.
        try scene.connection.execute("""
            SET session_replication_role = replica;
            UPDATE payroll_run SET lines_digest = payroll_lines_sealed(county_code, month, seal_version) WHERE month = '2026-01-01';
            SET session_replication_role = origin
            """)
        let resealed = try welfarePosts(["journal", "verify"], on: scene.database)
        #expect(resealed.status == 1 && resealed.stderr.contains("seal"), "\(resealed.stderr)")
        // The approval's journal entry rewritten too, and the whole chain re-hashed after it: the
        // chain verifies, the hash kept outside does not.
        try scene.connection.execute("""
            SET session_replication_role = replica;
            UPDATE journal SET row_after = jsonb_set(row_after::jsonb, '{lines_digest}', to_jsonb(payroll_lines_sealed('320321', '2026-01-01', 2)))::json
            WHERE table_name = 'payroll_run' AND row_after ->> 'state' = 'approved';
            -- The run's derived entry (sql/0029) rewritten to the lines as they now stand.
            UPDATE journal SET row_after = (SELECT json_build_object('county_code', '320321', 'month', date '2026-01-01', 'kind', 'regular',
                                                                     'lines', s.lines, 'total_fen', s.total_fen, 'lines_digest', s.lines_digest)
                                            FROM payroll_lines_state('320321', '2026-01-01') s)
            WHERE table_name = 'payroll_line' AND row_key = '320321/2026-01';
            WITH RECURSIVE c AS (
              SELECT j.seq, j.prev_hash, sha256(j.prev_hash || journal_digest((extract(epoch FROM j.at) * 1000000)::bigint, j.role, j.operation, j.table_name, j.row_key, j.county_code,
                     j.region_code, j.row_before, j.row_after)) AS hash
              FROM journal j WHERE j.seq = 1
              UNION ALL
              SELECT j.seq, c.hash, sha256(c.hash || journal_digest((extract(epoch FROM j.at) * 1000000)::bigint, j.role, j.operation, j.table_name, j.row_key, j.county_code,
                     j.region_code, j.row_before, j.row_after))
              FROM c JOIN journal j ON j.seq = c.seq + 1)
            UPDATE journal j SET prev_hash = c.prev_hash, hash = c.hash FROM c WHERE c.seq = j.seq;
            UPDATE journal_head SET last_hash = (SELECT hash FROM journal ORDER BY seq DESC LIMIT 1);
            SET session_replication_role = origin
            """)
        let rewritten = try welfarePosts(["journal", "verify"], on: scene.database)
        #expect(rewritten.status == 0, "the rewritten chain verifies by itself: \(rewritten.stderr)")
        let against = try welfarePosts(["journal", "verify", "--entry", entries, "--hash", kept], on: scene.database)
        #expect(against.status == 1 && against.stderr.hasPrefix("error: [JOURNAL_TAMPERED]"), "\(against.stderr)")
    }
    /// A payroll run journals its regular lines as one derived entry per county-month, their
    /// number, total and digest (sql/0029), not line by line. A line altered, removed or added
    /// behind the triggers is found by `journal verify` in a draft as in an approved month, and
    /// so is a draft altered and then removed by a re-run; adjustment lines are still journaled
    /// row by row.
    @Test func payrollLinesChangedBehindTheJournalAreFound() throws {
        let scene = try Scene()
        let db = scene.connection
        _ = try Payroll.run(db, month: Month(year: 2026, month: 1)!, region: "320321")
        #expect(try welfarePosts(["journal", "verify"], on: scene.database).status == 0)
        let entry = try db.query("""
            SELECT count(*) AS entries, max(row_after ->> 'lines') AS lines, max(row_after ->> 'total_fen') AS total FROM journal
            WHERE table_name = 'payroll_line' AND row_key = '320321/2026-01' AND operation = 'INSERT'
            """)[0]
        let lines = try db.query("SELECT count(*) AS n, sum(total_fen) AS total FROM payroll_line WHERE month = '2026-01-01' AND county_code = '320321'")[0]
        #expect(entry["entries"] == "1" && entry["lines"] == lines["n"] && entry["total"] == lines["total"] && lines["n"] == "2",
                "\(entry) \(lines)")
        // No line of the run is in the journal row by row.
        #expect(try db.query("SELECT count(*) AS n FROM journal_row WHERE table_name = 'payroll_line' AND row_after ->> 'id_number' IS NOT NULL")[0]["n"] == "0")

        let line = try db.query("SELECT id, bank_account FROM payroll_line WHERE id_number = $1", [scene.personB.value])[0]
        let id: String = try line.decode("id"), account: String = try line.decode("bank_account")
        let columns = "county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen, adjustment_fen, total_fen, name, bank_account, post_subsidy_standard_fen, social_insurance_standard_fen, held_reason"
        // Each change is made with the triggers off, found, and undone (verify is clean again).
        let changes: [(String, String, String)] = [
            ("lines altered", "UPDATE payroll_line SET bank_account = '6217000000000000999' WHERE id = \(id)",
             "UPDATE payroll_line SET bank_account = '\(account)' WHERE id = \(id)"),
            ("lines removed", "CREATE TABLE kept AS SELECT * FROM payroll_line WHERE id = \(id); DELETE FROM payroll_line WHERE id = \(id)",
             "INSERT INTO payroll_line (id, \(columns)) OVERRIDING SYSTEM VALUE SELECT id, \(columns) FROM kept; DROP TABLE kept"),
            ("lines added", """
                INSERT INTO payroll_line (\(columns)) SELECT \(columns.replacingOccurrences(of: "post_id", with: "post_id || 'x'")) FROM payroll_line WHERE id = \(id)
                """, "DELETE FROM payroll_line WHERE post_id LIKE '%x'"),
        ]
        for (problem, change, undo) in changes {
            try db.execute("SET session_replication_role = replica; \(change); SET session_replication_role = origin")
            let found = try welfarePosts(["journal", "verify"], on: scene.database)
            #expect(found.status == 1 && found.stderr.hasPrefix("error: [PAYROLL_TAMPERED]") && found.stderr.contains("320321")
                    && found.stderr.contains("2026-01") && found.stderr.contains(problem.replacingOccurrences(of: "lines", with: "were")),
                    "\(problem): \(found.stderr)")
            try db.execute("SET session_replication_role = replica; \(undo); SET session_replication_role = origin")
            let clean = try welfarePosts(["journal", "verify"], on: scene.database)
            #expect(clean.status == 0, "after undoing \(problem): \(clean.stderr)")
        }

        // A draft altered behind the journal and then replaced by a re-run: the lines as they
        // stand are the re-run's, but what the re-run removed is not what the run wrote.
        try db.execute("SET session_replication_role = replica; UPDATE payroll_line SET post_subsidy_fen = post_subsidy_fen + 100000, total_fen = total_fen + 100000 WHERE id = \(id); SET session_replication_role = origin")
        _ = try Payroll.run(db, month: Month(year: 2026, month: 1)!, region: "320321")
        let rerun = try welfarePosts(["journal", "verify"], on: scene.database)
        #expect(rerun.status == 1 && rerun.stderr.contains("a later run removed"), "\(rerun.stderr)")
        let removal = try db.query("""
            SELECT row_before ->> 'lines' AS removed, row_after ->> 'lines' AS kept FROM journal
            WHERE table_name = 'payroll_line' AND row_key = '320321/2026-01' AND operation = 'DELETE'
            """)
        #expect(removal.count == 1 && removal[0]["removed"] == "2" && removal[0]["kept"] == "0")

        // Adjustment lines are journaled row by row, as before: January approved, one of its
        // lines booked short behind the locks, and February's run corrects it.
        _ = try Payroll.approve(db, month: Month(year: 2026, month: 1)!, region: "320321")
        try db.execute("SET session_replication_role = replica; UPDATE payroll_line SET post_subsidy_fen = post_subsidy_fen - 100000, total_fen = total_fen - 100000 WHERE id_number = '\(scene.personB.value)' AND month = '2026-01-01'; SET session_replication_role = origin")
        let february = try Payroll.run(db, month: Month(year: 2026, month: 2)!, region: "320321")
        #expect(february.adjustmentLines > 0)
        let adjustments = try db.query("""
            SELECT count(*) AS n FROM journal_row WHERE table_name = 'payroll_line' AND operation = 'INSERT' AND row_after ->> 'kind' = 'adjustment'
            """)[0]["n"]
        #expect(adjustments == String(february.adjustmentLines))
    }
    /// One insert of regular and adjustment lines together (sql/0035 reads an insert's rows once
    /// for both): the regular lines make one derived entry per county-month, the adjustment lines
    /// their own entries, and `journal verify` passes.
    @Test func oneInsertOfRegularAndAdjustmentLinesIsJournaledEachItsWay() throws {
        let scene = try Scene()
        let db = scene.connection
        _ = try Payroll.run(db, month: Month(year: 2026, month: 1)!, region: "320321")
        let copied = "county_code, id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen, total_fen, name, bank_account, post_subsidy_standard_fen, social_insurance_standard_fen"
        let inserted = try db.command("""
            INSERT INTO payroll_line (month, for_month, kind, adjustment_fen, \(copied))
            SELECT date '2026-03-01', date '2026-03-01', 'regular', 0, \(copied) FROM payroll_line WHERE month = '2026-01-01'
            UNION ALL
            SELECT date '2026-03-01', date '2026-01-01', 'adjustment', 500, county_code, id_number, post_id, 0, 0, 0, 500, name, bank_account,
                   post_subsidy_standard_fen, social_insurance_standard_fen
            FROM payroll_line WHERE month = '2026-01-01' AND id_number = '\(scene.personB.value)'
            """)
        #expect(inserted == 3)
        let derived = try db.query("""
            SELECT count(*) AS entries, max(row_after ->> 'lines') AS lines, max(row_after ->> 'total_fen') AS total FROM journal
            WHERE table_name = 'payroll_line' AND row_key = '320321/2026-03' AND operation = 'INSERT'
            """)[0]
        let regular = try db.query("SELECT count(*) AS n, sum(total_fen) AS total FROM payroll_line WHERE month = '2026-03-01' AND kind = 'regular'")[0]
        #expect(derived["entries"] == "1" && derived["lines"] == "2" && derived["lines"] == regular["n"] && derived["total"] == regular["total"],
                "\(derived) \(regular)")
        let rows = try db.query("""
            SELECT row_after ->> 'id_number' AS person, row_after ->> 'adjustment_fen' AS fen FROM journal_row
            WHERE table_name = 'payroll_line' AND operation = 'INSERT' AND row_after ->> 'id_number' IS NOT NULL
            """)
        #expect(rows.count == 1 && rows.first?["person"] == scene.personB.value && rows.first?["fen"] == "500", "\(rows)")
        let verify = try welfarePosts(["journal", "verify"], on: scene.database)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// A line's total is written with it (sql/0039: a plain column, no longer a generated one,
    /// which took each row apart and formed it again), and a CHECK keeps it the sum of its parts
    /// whoever writes, triggers on or off: an amount changed without its total, a total changed
    /// alone, or a line added with a wrong total is refused; changed together, they are taken.
    @Test func aLineTotalIsAlwaysTheSumOfItsParts() throws {
        let scene = try Scene()
        let db = scene.connection
        let run = try Payroll.run(db, month: Month(year: 2026, month: 1)!, region: "320321")
        let lines = try db.query("""
            SELECT count(*) AS n, count(*) FILTER (WHERE total_fen = post_subsidy_fen + social_insurance_fen + adjustment_fen) AS summed,
                   sum(total_fen) AS total FROM payroll_line
            """)[0]
        #expect(lines["n"] == "2" && lines["summed"] == "2" && lines["total"] == String(run.totalFen), "\(lines) \(run.totalFen)")
        for sql in ["UPDATE payroll_line SET post_subsidy_fen = post_subsidy_fen + 100",
                    "UPDATE payroll_line SET total_fen = total_fen + 100",
                    """
                    INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen,
                                              social_insurance_fen, total_fen)
                    SELECT county_code, month, month, kind, id_number, post_id || 'x', 1, 1, 1, 3 FROM payroll_line LIMIT 1
                    """] {
            let refused = try scene.psql(scene.database.conninfo, "SET session_replication_role = replica; " + sql)
            #expect(refused.status != 0 && refused.stderr.contains("payroll_line_total"), "\(sql) was allowed: \(refused.stderr)")
        }
        // A missing total is no way round the CHECK (NULL would pass it): the column stays NOT NULL.
        let noTotal = try scene.psql(scene.database.conninfo, "SET session_replication_role = replica; UPDATE payroll_line SET total_fen = NULL")
        #expect(noTotal.status != 0 && noTotal.stderr.contains("total_fen"), "a NULL total was allowed: \(noTotal.stderr)")
        let together = try scene.psql(scene.database.conninfo, """
            SET session_replication_role = replica; UPDATE payroll_line SET post_subsidy_fen = post_subsidy_fen + 100, total_fen = total_fen + 100
            """)
        #expect(together.status == 0, "\(together.stderr)")
        #expect(try db.query("SELECT sum(total_fen) AS total FROM payroll_line")[0]["total"] == String(run.totalFen + 200))
    }

    /// Lines journaled before sql/0039, whose text for the digest was made by concatenation,
    /// still verify after it, and so does their removal by a re-run (its digest of what it
    /// removed, made after, must equal the one recorded before): concat_ws makes the same text
    /// byte for byte, a line without name, account or standards and a held line included.
    @Test func linesJournaledBeforeTheTextByConcatWsStillVerify() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try Migrator(connection: connection).migrate(through: "0037_journal_row_names_once")
        try Fixtures.regions(connection)
        try connection.execute("""
            INSERT INTO payroll_run (county_code, month) VALUES ('320321', '2026-01-01');
            INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen,
                                      social_insurance_fen, name, bank_account, post_subsidy_standard_fen, social_insurance_standard_fen,
                                      held_reason)
            VALUES ('320321', '2026-01-01', '2026-01-01', 'regular', '320321197001010011', '320321-00001', 31, 80000, 30000,
                    '老张', '6228480300000000001', 80000, 30000, NULL),
                   ('320321', '2026-01-01', '2026-01-01', 'regular', '320321197101010012', '320321-00002', 12, 0, 11613,
                    NULL, NULL, NULL, NULL, 'assessment-missing');
            """)
        // (The binary refuses a database not migrated: what `journal verify` checks of the lines.)
        #expect(try connection.query("SELECT count(*) AS n FROM payroll_lines_unjournaled()")[0]["n"] == "0")
        try Migrator(connection: connection).migrate()
        // The text as sql/0029 made it, beside the function's.
        let differing = try connection.query("""
            SELECT count(*) AS n FROM payroll_line l
            WHERE payroll_line_text(l.id, l.county_code, l.month, l.for_month, l.kind, l.id_number, l.post_id, l.days_in_post,
                    l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen, l.name, l.bank_account, l.post_subsidy_standard_fen,
                    l.social_insurance_standard_fen, l.held_reason)
              IS DISTINCT FROM l.id::text || E'\\x1f' || l.county_code || E'\\x1f' || (l.month - date '2000-01-01')::text || E'\\x1f'
                 || (l.for_month - date '2000-01-01')::text || E'\\x1f' || l.kind || E'\\x1f' || l.id_number || E'\\x1f' || l.post_id
                 || E'\\x1f' || l.days_in_post::text || E'\\x1f' || l.post_subsidy_fen::text || E'\\x1f' || l.social_insurance_fen::text
                 || E'\\x1f' || l.adjustment_fen::text || E'\\x1f' || coalesce(l.name, E'\\x1e') || E'\\x1f'
                 || coalesce(l.bank_account, E'\\x1e') || E'\\x1f' || coalesce(l.post_subsidy_standard_fen::text, E'\\x1e') || E'\\x1f'
                 || coalesce(l.social_insurance_standard_fen::text, E'\\x1e') || E'\\x1f' || coalesce(l.held_reason, E'\\x1e')
            """)[0]["n"]
        #expect(differing == "0")
        #expect(try connection.query("SELECT sum(total_fen) AS t FROM payroll_line")[0]["t"] == "121613")
        let verified = try welfarePosts(["journal", "verify"], on: database)
        #expect(verified.status == 0, "\(verified.stderr)")
        try connection.execute("DELETE FROM payroll_line WHERE month = '2026-01-01'")
        let removed = try welfarePosts(["journal", "verify"], on: database)
        #expect(removed.status == 0, "\(removed.stderr)")
    }
}
