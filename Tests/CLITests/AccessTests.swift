import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Access by role and region (SPEC §11), through the binary and through psql, each logged in
/// as a real PostgreSQL role. The owner (the test superuser) sets the scene; operators then try.
@Suite("access")
struct AccessTests {
    /// Two townships of county 320321 and a second county, 320322, in the same city.
    struct Scene {
        let world: World
        let personA: ResidentID, personA2: ResidentID, personB: ResidentID, personY: ResidentID
        let postA: String, postA2: String, postB: String, proposedA: String, postY: String
        var database: TestDatabase { world.database }
        var connection: Connection { world.connection }

        static let countyY = "320322000000", villageY = "320322100201"

        init() throws {
            world = try World()
            _ = try RegionImport.run(world.connection, file: try CSVFile(data: Array("""
                code,name
                320322000000,沛县
                320322100000,沛城镇
                320322100201,沛城村

                """.utf8)), dryRun: false)
            _ = try Policy.setPay(world.connection, region: Scene.countyY, type: "cleaner", monthly: Fen(70_000),
                                  socialInsurance: Fen(0), from: Month(year: 2020, month: 1)!)
            personA = try world.person(born: "1970-01-01", village: Fixtures.villageA1)
            personA2 = try world.person(born: "1971-01-01", village: Fixtures.villageA2)
            personB = try world.person(born: "1972-01-01", village: Fixtures.villageB1)
            personY = try world.person(born: "1973-01-01", village: Scene.villageY)
            postA = try world.post(region: Fixtures.villageA1)
            postA2 = try world.post(region: Fixtures.villageA2)
            postB = try world.post(region: Fixtures.villageB1)
            postY = try world.post(region: Scene.villageY)
            proposedA = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "other",
                                          developer: "首羡镇人民政府", need: "村道保洁", on: Day(iso: "2025-12-01")!).id
            try world.hire(postA2, personA2, "2026-01-01", "2026-12-31")
            try world.hire(postB, personB, "2026-01-01", "2026-12-31")
            try world.hire(postY, personY, "2026-01-01", "2026-12-31")
        }

        /// A new operator (role names are cluster-wide: each test makes its own) and the
        /// connection string that logs in as them.
        func login(_ role: String, _ region: String) throws -> String {
            let name = "op" + UUID().uuidString.prefix(8).lowercased()
            try connection.query("SELECT operator_add($1, $2, $3)", [name, role, region])
            return conninfo(as: name)
        }

        func conninfo(as login: String) -> String {
            database.conninfo.split(separator: " ").map { $0.hasPrefix("user=") ? "user=\(login)" : String($0) }.joined(separator: " ")
        }

        /// The binary, logged in as `conninfo`, JSON out.
        func cli(_ conninfo: String, _ arguments: [String]) throws -> ProcessResult {
            try welfarePosts(arguments + ["--database", conninfo, "--format", "json"], on: database)
        }

        /// psql, logged in as `conninfo`: one statement, tuples only.
        func psql(_ conninfo: String, _ sql: String) throws -> ProcessResult {
            try runProcess("/usr/bin/env", ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql])
        }

        var journalExists: Bool {
            (try? connection.query("SELECT to_regclass('journal') IS NOT NULL AS j")[0]["j"]) == "t"
        }

        /// Every domain row, to prove a refusal changed nothing.
        func fingerprint() throws -> String {
            try world.fingerprint() + (try Fixtures.fingerprint(connection)) + (try connection.query("""
                SELECT concat_ws('/', (SELECT count(*) FROM payroll_line), (SELECT count(*) FROM payroll_run WHERE state = 'approved'),
                  (SELECT count(*) FROM pay_standard), (SELECT count(*) FROM post_quota), (SELECT count(*) FROM disbursement),
                  (SELECT count(*) FROM operator), (SELECT count(*) FROM assessment)) AS f
                """)[0]["f"] ?? "")
        }

        /// Runs a command that must be refused with exit 1 and one of `codes`, changing nothing.
        func expectRefused(_ conninfo: String, _ arguments: [String], _ codes: [String],
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
            let before = try fingerprint()
            let result = try cli(conninfo, arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(codes.contains { result.stderr.hasPrefix("error: [\($0)]") }, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(try fingerprint() == before, "\(arguments) changed the database", sourceLocation: sourceLocation)
        }

        func expectOK(_ conninfo: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let result = try cli(conninfo, arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
            return result.stdout
        }
    }

    @Test func townshipAdminSeesAndChangesOnlyItsTownship() throws {
        let scene = try Scene()
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        let posts = try scene.expectOK(admin, ["post", "list"])
        #expect(posts.contains(scene.postA) && posts.contains(scene.postA2) && posts.contains(scene.proposedA), "\(posts)")
        #expect(!posts.contains(scene.postB) && !posts.contains(scene.postY), "\(posts)")
        // Another township's person and post: refused as outside the region, not "not found".
        try scene.expectRefused(admin, ["person", "show", scene.personB.value], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["post", "show", scene.postB], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["hire", "--post", scene.postB, "--person", scene.personA.value,
                                        "--start", "2026-03-01", "--end", "2026-12-31"], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["exit", "--person", scene.personB.value, "--on", "2026-03-01", "--reason", "resigned"], ["OUTSIDE_REGION"])
        // The county's work and finance's.
        try scene.expectRefused(admin, ["post", "approve", scene.proposedA, "--on", "2026-01-01"], ["PERMISSION_DENIED"])
        try scene.expectRefused(admin, ["post", "close", scene.postA2, "--on", "2026-06-01", "--reason", "x", "--exit-holder"], ["PERMISSION_DENIED"])
        try scene.expectRefused(admin, ["payroll", "run", "2026-01", "--region", "320321"], ["PERMISSION_DENIED"])
        try scene.expectRefused(admin, ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "900", "--from", "2027-01"],
                                ["PERMISSION_DENIED"])
        try scene.expectRefused(admin, ["operator", "add", "someone", "--role", "system-admin", "--region", "32"], ["PERMISSION_DENIED"])
        // Its own work goes through.
        let hired = try scene.expectOK(admin, ["hire", "--post", scene.postA, "--person", scene.personA.value,
                                               "--start", "2026-03-01", "--end", "2026-12-31"])
        #expect(hired.contains("\"post_id\":\"\(scene.postA)\""))
        _ = try scene.expectOK(admin, ["person", "show", scene.personA2.value])
        _ = try scene.expectOK(admin, ["post", "propose", "--region", Fixtures.villageA2, "--type", "cleaner", "--funding", "other",
                                       "--developer", "首羡镇人民政府", "--need", "村道保洁"])

        // The same through psql: the database itself refuses.
        let counts = try scene.psql(admin, "SELECT (SELECT count(*) FROM person) || '/' || (SELECT count(*) FROM placement) || '/' || (SELECT count(*) FROM contract)")
        #expect(counts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2/2/2", "\(counts.stdout) \(counts.stderr)")
        let hidden = try scene.psql(admin, "UPDATE person SET name = 'x' WHERE id_number = '\(scene.personB.value)' RETURNING 1")
        #expect(hidden.status == 0 && hidden.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(hidden)")
        let approve = try scene.psql(admin, "UPDATE post SET state = 'approved', approved_on = '2026-01-01' WHERE id = '\(scene.proposedA)'")
        #expect(approve.status != 0 && approve.stderr.contains("permission denied for table post"), "\(approve.stderr)")
        let intrude = try scene.psql(admin, """
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity)
            VALUES ('320321', '110101199003070011', 'x', 'H', '\(Fixtures.villageB1)', 'other', 'full')
            """)
        #expect(intrude.status != 0 && intrude.stderr.contains("row-level security"), "\(intrude.stderr)")
        let lines = try scene.psql(admin, "DELETE FROM payroll_line")
        #expect(lines.status != 0 && lines.stderr.contains("permission denied"), "\(lines.stderr)")
        // The journal's trigger function runs as the owner: nobody may attach it to a table of their own.
        let attach = try scene.psql(admin, """
            CREATE TEMP TABLE mine (a int); CREATE TRIGGER j AFTER INSERT ON mine FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('a')
            """)
        #expect(attach.status != 0 && attach.stderr.contains("permission denied for function journal_statement"), "\(attach.stderr)")
        let operators = try scene.psql(admin, "SELECT operator_add('x1', 'system-admin', '320000000000')")
        #expect(operators.status != 0 && operators.stderr.contains("permission denied for function operator_add"), "\(operators.stderr)")
        if scene.journalExists {
            let journal = try scene.psql(admin, "SELECT count(*) FROM journal")
            #expect(journal.status != 0 && journal.stderr.contains("permission denied"), "\(journal.stderr)")
        }
    }

    @Test func townshipAdminImportsPersonsOfItsOwnVillagesOnly() throws {
        let scene = try Scene()
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        let own = residentID(born: "1980-05-05", sequence: 901), other = residentID(born: "1980-05-05", sequence: 902)
        let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account\n"
        let ok = try temporaryFile(header + "\(own),王五,HX1,\(Fixtures.villageA2),脱贫人口,弱劳力,6228480300000000901\n")
        let imported = try scene.expectOK(admin, ["person", "import", ok])
        #expect(imported.contains("\"inserted\":\"1\""), "\(imported)")
        // One row of another township's village refuses the whole file, naming the line.
        let mixed = try temporaryFile(header + "\(other),赵六,HX2,\(Fixtures.villageA1),脱贫人口,弱劳力,\n"
                                      + "\(residentID(born: "1980-05-05", sequence: 903)),钱七,HX3,\(Fixtures.villageB1),脱贫人口,弱劳力,\n")
        try scene.expectRefused(admin, ["person", "import", mixed], ["OUTSIDE_REGION"])
        let refused = try scene.cli(admin, ["person", "import", mixed])
        #expect(refused.stderr.contains("line 3, column 4 (village_code)"), "\(refused.stderr)")
        // Nor can it move another township's person into its own village.
        let takeover = try temporaryFile(header + "\(scene.personB.value),顺河人,HB,\(Fixtures.villageA1),脱贫人口,弱劳力,\n")
        try scene.expectRefused(admin, ["person", "import", takeover], ["OUTSIDE_REGION"])
        #expect(try scene.connection.query("SELECT village_code FROM person WHERE id_number = $1", [scene.personB.value])[0]["village_code"]
                == Fixtures.villageB1)
    }

    @Test func householdRulesCountMembersTheRegionHides() throws {
        let scene = try Scene()
        let household = try scene.connection.query("SELECT household_id FROM person WHERE id_number = $1", [scene.personB.value])[0]["household_id"]!
        // A member of personB's household (in post in township B) lives in township A.
        let member = try scene.world.person(born: "1980-01-01", household: household, village: Fixtures.villageA1)
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        try scene.expectRefused(admin, ["hire", "--post", scene.postA, "--person", member.value, "--start", "2026-03-01", "--end", "2026-12-31"],
                                ["HOUSEHOLD_CAP"])
    }

    @Test func aPersonOfAnotherTownshipInThisTownshipsPost() throws {
        let scene = try Scene()
        let outsider = try scene.world.person(born: "1981-01-01", village: Fixtures.villageB1)
        try scene.world.hire(scene.postA, outsider, "2026-01-01", "2026-12-31")
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        // The post's township sees the placement (not the person's record) and manages it.
        let shown = try scene.expectOK(admin, ["post", "show", scene.postA])
        #expect(shown.contains("2026-01-01"), "\(shown)")
        let listed = try scene.expectOK(admin, ["post", "list", "--vacant"])
        #expect(!listed.contains(scene.postA), "a held post listed as vacant: \(listed)")
        _ = try scene.expectOK(admin, ["due", "--within", "400"])
        // Its monthly assessment, alone or in a file.
        _ = try scene.expectOK(admin, ["assess", "--person", outsider.value, "--month", "2026-02", "--result", "pass"])
        _ = try scene.expectOK(admin, ["assessment", "import", try temporaryFile("id_number,month,result\n\(outsider.value),2026-03,fail\n")])
        #expect(try scene.connection.query("SELECT count(*) AS n FROM assessment a JOIN placement pl ON pl.id = a.placement_id WHERE pl.id_number = $1",
                                           [outsider.value])[0]["n"] == "2")
        // A month before their hire is a month not in post, not another region's business.
        try scene.expectRefused(admin, ["assess", "--person", outsider.value, "--month", "2025-12", "--result", "pass"], ["NOT_IN_POST"])
        let early = try scene.cli(admin, ["assessment", "import", try temporaryFile("id_number,month,result\n\(outsider.value),2025-12,pass\n")])
        #expect(early.status == 2 && early.stderr.contains("not in post"), "\(early.stderr)")
        let exited = try scene.expectOK(admin, ["exit", "--person", outsider.value, "--on", "2026-06-30", "--reason", "resigned"])
        #expect(exited.contains("\"exit_on\":\"2026-06-30\""), "\(exited)")
        try scene.expectRefused(admin, ["person", "show", outsider.value], ["OUTSIDE_REGION"])
    }

    /// The rows of every domain table each operator reads through psql are exactly those the
    /// rule of 0007 (SPEC §11) names, written here independently with LIKE: persons and posts by
    /// their region, child rows by their county and their parent (a placement by its post's
    /// region or its person's). sql/0014 wrote the policies differently for speed (one for
    /// county-level roles, one for townships, ranges instead of LIKE); this keeps them the same.
    /// The tables added since (history, voided placements, applications, notices, objections,
    /// attendance, bank files, failures, resubmissions and recoveries) are here too: sql/0032
    /// made their policies again in 0014's form. The scene holds a person of township B in a
    /// post of township A, a payroll of both counties, and a row of every such table for each.
    @Test func everyOperatorReadsExactlyTheRowsOfItsRegion() throws {
        let scene = try Scene()
        let outsider = try scene.world.person(born: "1981-01-01", village: Fixtures.villageB1)
        try scene.world.hire(scene.postA, outsider, "2026-01-01", "2026-12-31")
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: nil)
        try scene.connection.execute("""
            INSERT INTO assessment (county_code, placement_id, month, result, absent_days)
              SELECT county_code, id, '2026-01-01', 'pass', 0 FROM placement;
            INSERT INTO person_status (county_code, id_number, status, valid_from) SELECT county_code, id_number, 'employed', '2026-05-01' FROM person;
            INSERT INTO disbursement_file (sha256, source, rows) VALUES ('rls', 'bank-result', 0);
            INSERT INTO disbursement (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on)
              SELECT l.county_code, (SELECT id FROM disbursement_file WHERE sha256 = 'rls'), row_number() OVER (), l.id_number, l.month,
                     l.post_id, '6228480300000000001', l.total_fen, '2026-02-05'
              FROM payroll_line l;
            UPDATE person SET facts_from = '2025-06-01';
            INSERT INTO person_history (county_code, id_number, valid, household_id, village_code, category, labour_capacity, bank_account)
              SELECT county_code, id_number, daterange('2025-01-01', '2025-06-01'), household_id, village_code, category, labour_capacity, bank_account
              FROM person;
            INSERT INTO placement_void (county_code, placement_id, post_id, id_number, start_on, reason)
              SELECT county_code, id, post_id, id_number, start_on, 'rls' FROM placement;
            INSERT INTO application (county_code, post_id, id_number, applied_on) SELECT county_code, post_id, id_number, '2025-12-01' FROM placement;
            INSERT INTO notice (county_code, post_id, id_number, from_on, days, contact)
              SELECT county_code, post_id, id_number, '2025-12-10', 5, '0516-1234567' FROM placement;
            INSERT INTO notice_objection (county_code, notice_id, raised_on, reason) SELECT county_code, id, '2025-12-11', 'rls' FROM notice;
            INSERT INTO attendance (county_code, id_number, month, days) SELECT county_code, id_number, '2026-01-01', repeat('P', 31) FROM placement;
            INSERT INTO bank_profile (county_code, name, columns, headers, encoding, format)
              SELECT DISTINCT county_code, 'rls', ARRAY['id_number'], ARRAY['id'], 'utf-8', 'csv' FROM payroll_line;
            INSERT INTO bank_batch (county_code, batch_no, month, profile, kind, position, rows, total_fen, file_name)
              SELECT DISTINCT county_code, 'B1', date '2026-01-01', 'rls', 'payroll', 1, 1, 1, 'rls.csv' FROM payroll_line;
            INSERT INTO recovery (county_code, month, id_number, post_id, amount_fen) SELECT county_code, month, id_number, post_id, 1 FROM payroll_line;
            INSERT INTO bank_failure (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, failed_on)
              SELECT county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, '2026-02-06' FROM disbursement;
            INSERT INTO bank_resubmission (county_code, failure_id, batch_no, bank_account) SELECT county_code, id, 'B1', bank_account FROM bank_failure;
            """)
        // Each table: its rows' key, and the rule of 0007 over them for region prefix :p.
        let person = "village_code LIKE :p || '%'", post = "region_code LIKE :p || '%'", county = "county_code LIKE left(:p, 6) || '%'"
        let persons = "id_number IN (SELECT id_number FROM person WHERE \(person))", posts = "post_id IN (SELECT id FROM post WHERE \(post))"
        let placements = "placement_id IN (SELECT id FROM placement WHERE \(county) AND (\(posts) OR \(persons)))"
        let tables: [(table: String, key: String, rule: String)] = [
            ("person", "id_number", person), ("post", "id", post), ("post_serial", "county_code", county),
            ("person_status", "id::text", "\(county) AND \(persons)"), ("insurance_policy", "id::text", "\(county) AND \(persons)"),
            ("placement", "id::text", "\(county) AND (\(posts) OR \(persons))"),
            ("contract", "id::text", "\(county) AND \(placements)"), ("assessment", "id::text", "\(county) AND \(placements)"),
            ("payroll_run", "county_code || month", county), ("payroll_line", "id::text", "\(county) AND \(posts)"),
            ("disbursement", "id::text", "\(county) AND \(persons)"),
            ("person_history", "id::text", "\(county) AND \(persons)"),
            ("placement_void", "id::text", "\(county) AND (\(posts) OR \(persons))"),
            ("application", "id::text", "\(county) AND \(posts)"), ("notice", "id::text", "\(county) AND \(posts)"),
            ("notice_objection", "id::text", "\(county) AND notice_id IN (SELECT id FROM notice WHERE \(county) AND \(posts))"),
            // A person's month: by their record or by their post's placement (as placements).
            ("attendance", "id_number || month",
             "\(county) AND (\(persons) OR id_number IN (SELECT id_number FROM placement WHERE \(county) AND (\(posts) OR \(persons))))"),
            ("bank_profile", "county_code || name", county), ("bank_batch", "county_code || batch_no", county),
            ("recovery", "id::text", "\(county) AND \(posts)"), ("bank_failure", "id::text", "\(county) AND \(persons)"),
            ("bank_resubmission", "failure_id::text",
             "\(county) AND failure_id IN (SELECT id FROM bank_failure WHERE \(county) AND \(persons))"),
        ]
        /// Per table (of `only`, else all): its name, how many rows and their keys in order;
        /// filtered by the rule or not.
        func keys(ruled: Bool, only: [String]? = nil) -> String {
            tables.filter { only?.contains($0.table) ?? true }.map { t in
                "(SELECT '\(t.table):' || count(*) || ':' || coalesce(string_agg(\(t.key), ',' ORDER BY \(t.key)), '') FROM \(t.table)"
                    + (ruled ? " WHERE " + t.rule.replacingOccurrences(of: ":p", with: "$1::text") : "") + ")"
            }.joined(separator: " || ' ' || ")
        }
        /// What the owner says the region holds, of the tables given.
        func expected(_ region: String, _ only: [String]) throws -> String {
            let prefix = try scene.connection.query("SELECT region_prefix($1) AS p", [region])[0]["p"] ?? ""
            return try scene.connection.query("SELECT " + keys(ruled: true, only: only) + " AS k", [prefix])[0]["k"] ?? ""
        }
        /// What a login reads of the tables it may read at all.
        func seen(_ login: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (readable: [String], rows: String) {
            let names = tables.map { "'\($0.table)'" }.joined(separator: ",")
            let readable = try scene.psql(login, "SELECT string_agg(t, ',') FROM unnest(ARRAY[\(names)]) t WHERE has_table_privilege(t, 'SELECT')")
            let only = readable.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
            guard !only.isEmpty else { return ([], "") }
            let rows = try scene.psql(login, "SELECT " + keys(ruled: false, only: only))
            #expect(rows.status == 0, "\(rows.stderr)", sourceLocation: sourceLocation)
            return (only, rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let all = try scene.connection.query("SELECT " + keys(ruled: false) + " AS k")[0]["k"] ?? ""
        #expect(!all.contains(":0:"), "a table of the scene is empty: \(all)")
        for (role, region) in [("township-admin", Fixtures.townshipA), ("township-admin", Fixtures.townshipB),
                               ("county-admin", Fixtures.county), ("finance", Fixtures.county), ("auditor", Scene.countyY),
                               ("auditor", "320300000000"), ("finance", "320000000000")] {
            let login = try scene.login(role, region)
            let (readable, rows) = try seen(login)
            #expect(readable.contains("placement") && readable.contains("payroll_line"), "\(role) reads: \(readable)")
            #expect(rows == (try expected(region, readable)), "\(role) \(region)")
        }
        // A township administrator whom a DBA also put in a county-level group reads no more than
        // its township; a login in a group without an operator record reads nothing.
        let township = try scene.login("township-admin", Fixtures.townshipA)
        let login = String(township.split(separator: " ").first { $0.hasPrefix("user=") }!.dropFirst(5))
        try scene.connection.execute("GRANT wp_auditor TO \(login)")
        let twice = try seen(township)
        #expect(twice.rows == (try expected(Fixtures.townshipA, twice.readable)))
        let stranger = "op" + UUID().uuidString.prefix(8).lowercased()
        try scene.connection.execute("CREATE ROLE \(stranger) LOGIN; GRANT wp_county_admin TO \(stranger)")
        let none = try seen(scene.conninfo(as: stranger))
        #expect(!none.readable.isEmpty && none.rows.split(separator: " ").allSatisfy { $0.contains(":0:") }, "\(none)")
    }

    @Test func countyAdminCannotTouchAnotherCounty() throws {
        let scene = try Scene()
        let admin = try scene.login("county-admin", Fixtures.county)
        let posts = try scene.expectOK(admin, ["post", "list"])
        #expect(posts.contains(scene.postA) && posts.contains(scene.postB) && !posts.contains(scene.postY), "\(posts)")
        try scene.expectRefused(admin, ["post", "show", scene.postY], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["person", "show", scene.personY.value], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["post", "close", scene.postY, "--on", "2026-06-01", "--reason", "x", "--exit-holder"], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["policy", "pay", "--region", "320322", "--type", "cleaner", "--monthly", "900", "--from", "2027-01"],
                                ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["policy", "quota", "--region", "320322", "--year", "2026", "--posts", "1"], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["policy", "eligibility", "--region", "32", "--from", "2026-01-01", "--max-age", "60"], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["payroll", "run", "2026-01", "--region", "320322"], ["OUTSIDE_REGION"])
        // Its own county: posts, policy, payroll.
        _ = try scene.expectOK(admin, ["post", "approve", scene.proposedA, "--on", "2026-01-01"])
        _ = try scene.expectOK(admin, ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "900", "--from", "2027-01"])
        _ = try scene.expectOK(admin, ["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "50"])
        let run = try scene.expectOK(admin, ["payroll", "run", "2026-01", "--region", "320321"])
        #expect(run.contains("\"lines\":\"2\""), "\(run)")
        _ = try scene.expectOK(admin, ["payroll", "approve", "2026-01", "--region", "320321"])
        let shown = try scene.expectOK(admin, ["policy", "show", "--region", Fixtures.villageA1, "--on", "2027-01-01"])
        #expect(shown.contains("900.00"), "\(shown)")
        // psql: county Y's rows are not there to change.
        let y = try scene.psql(admin, "SELECT count(*) FROM post WHERE county_code = '320322'")
        #expect(y.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(y)")
        let write = try scene.psql(admin, "INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen) VALUES ('320322000000', 'cleaner', '2030-01-01', 1)")
        #expect(write.status != 0 && write.stderr.contains("row-level security"), "\(write.stderr)")
    }

    /// Files that name another township's person are refused as outside the region, naming the
    /// line, not as "not registered"; a person registered nowhere is still a bad file.
    @Test func townshipFilesNamingAnotherTownshipsPersonAreOutsideItsRegion() throws {
        let scene = try Scene()
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        let nobody = residentID(born: "1969-09-09", sequence: 999)
        let insurance = "id_number,insurer,policy_number,from,to\n"
        let assessments = "id_number,month,result\n"
        for (command, own, other) in [
            ("insurance", insurance + "\(scene.personA2.value),人保财险,P-A2,2026-01-01,2026-12-31\n",
             "\(scene.personB.value),人保财险,P-B,2026-01-01,2026-12-31\n"),
            ("assessment", assessments + "\(scene.personA2.value),2026-01,pass\n", "\(scene.personB.value),2026-01,fail\n"),
        ] {
            let file = try temporaryFile(own + other)
            try scene.expectRefused(admin, [command, "import", file], ["OUTSIDE_REGION"])
            let refused = try scene.cli(admin, [command, "import", file])
            #expect(refused.stderr.contains("line 3") && refused.stderr.contains("registered in another region"), "\(refused.stderr)")
            // The near miss: a person registered nowhere is a mistake in the file (exit 2).
            let unknown = try scene.cli(admin, [command, "import", try temporaryFile(own + other.replacingOccurrences(of: scene.personB.value, with: nobody))])
            #expect(unknown.status == 2 && unknown.stderr.hasPrefix("error: [BAD_FILE]") && unknown.stderr.contains("line 3"), "\(unknown.stderr)")
            // Its own rows go through.
            _ = try scene.expectOK(admin, [command, "import", try temporaryFile(own)])
        }
        // One at a time: another township's person, one of its own not in post, one unknown.
        try scene.expectRefused(admin, ["assess", "--person", scene.personB.value, "--month", "2026-01", "--result", "pass"], ["OUTSIDE_REGION"])
        try scene.expectRefused(admin, ["assess", "--person", scene.personA.value, "--month", "2026-01", "--result", "pass"], ["NOT_IN_POST"])
        let unknown = try scene.cli(admin, ["assess", "--person", nobody, "--month", "2026-01", "--result", "pass"])
        #expect(unknown.status != 0 && unknown.stderr.contains("is registered"), "\(unknown.stderr)")
        // A county admin's region holds both townships: the same file goes through.
        let county = try scene.login("county-admin", Fixtures.county)
        _ = try scene.expectOK(county, ["assessment", "import", try temporaryFile(assessments + "\(scene.personB.value),2026-01,fail\n")])
    }

    /// The payroll export (the file the bank pays from, IDs and accounts in full) is finance's:
    /// administrators are refused by the database, through the tool and through psql, though they
    /// read their region's payroll lines.
    @Test func onlyFinanceExportsThePayroll() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let output = NSTemporaryDirectory() + "export-\(UUID().uuidString).csv"
        for (role, region) in [("township-admin", Fixtures.townshipA), ("county-admin", Fixtures.county), ("auditor", Fixtures.county)] {
            let login = try scene.login(role, region)
            try scene.expectRefused(login, ["payroll", "export", "2026-01", "--output", output], ["PERMISSION_DENIED"])
            #expect(!FileManager.default.fileExists(atPath: output), "\(role): a refused export left a file")
            let view = try scene.psql(login, "SELECT count(*) FROM payroll_export_line")
            #expect(view.status != 0 && view.stderr.contains("permission denied for view payroll_export_line"), "\(role): \(view.stderr)")
            let lines = try scene.psql(login, "SELECT count(*) FROM payroll_line")
            #expect(lines.status == 0 && Int(lines.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0, "\(role): \(lines)")
        }
        let finance = try scene.login("finance", Fixtures.county)
        let exported = try scene.cli(finance, ["payroll", "export", "2026-01", "--output", output])
        #expect(exported.status == 0, "\(exported.stderr)")
        let file = try String(contentsOfFile: output, encoding: .utf8)
        #expect(file.split(separator: "\n").count == 3 && file.contains(scene.personA2.value) && file.contains(scene.personB.value), "\(file)")
        try? FileManager.default.removeItem(atPath: output)
    }

    @Test func cityAuditorReadsEveryCountyAndChangesNothing() throws {
        let scene = try Scene()
        let auditor = try scene.login("auditor", "320300000000")
        let posts = try scene.expectOK(auditor, ["post", "list"])
        #expect([scene.postA, scene.postB, scene.postY, scene.proposedA].allSatisfy(posts.contains), "\(posts)")
        let revealed = try scene.expectOK(auditor, ["person", "show", scene.personY.value, "--reveal"])
        #expect(revealed.contains(scene.personY.value))
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity\n\(scene.personA.value),x,H,\(Fixtures.villageA1),other,full\n")
        let payments = try temporaryFile("id_number,post_id,bank_account,amount,paid_on\n\(scene.personA2.value),\(scene.postA2),6228480300000000001,1100,2026-02-05\n")
        let history = try temporaryFile("id_number,month,post_id,bank_account,amount,paid_on\n\(scene.personA2.value),2026-01,\(scene.postA2),6228480300000000001,1100,2026-02-05\n")
        let writes: [[String]] = [
            ["post", "propose", "--region", Fixtures.villageA1, "--type", "cleaner", "--funding", "other", "--developer", "x", "--need", "y"],
            ["post", "approve", scene.proposedA, "--on", "2026-01-01"],
            ["post", "reject", scene.proposedA, "--reason", "x"],
            ["post", "close", scene.postA2, "--on", "2026-06-01", "--reason", "x", "--exit-holder"],
            ["hire", "--post", scene.postA, "--person", scene.personA.value, "--start", "2026-03-01", "--end", "2026-12-31"],
            ["renew", "--person", scene.personA2.value, "--end", "2027-06-30"],
            ["exit", "--person", scene.personA2.value, "--on", "2026-03-01", "--reason", "resigned"],
            ["person", "status", scene.personA.value, "--set", "employed", "--from", "2026-01-01"],
            ["person", "import", file],
            ["insurance", "add", "--person", scene.personA.value, "--insurer", "x", "--policy", "y", "--from", "2026-01-01", "--to", "2026-12-31"],
            ["assess", "--person", scene.personA2.value, "--month", "2026-01", "--result", "fail"],
            ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "900", "--from", "2027-01"],
            ["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "1"],
            ["payroll", "run", "2026-01", "--region", "320321"],
            ["payroll", "reconcile", "2026-01", payments],
            ["disbursement", "import", history],
            ["operator", "add", "someone", "--role", "auditor", "--region", "32"],
        ]
        for arguments in writes {
            try scene.expectRefused(auditor, arguments, ["PERMISSION_DENIED"])
        }
        // The journal of every county under the city, and the audit.
        let journal = try scene.expectOK(auditor, ["journal", "show", "--entity", "post:\(scene.postY)"])
        #expect(journal.contains(scene.postY), "\(journal)")
        let verified = try scene.cli(auditor, ["journal", "verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
        _ = try scene.expectOK(auditor, ["audit", "violations", "--as-of", "2026-06-30"])
        // A county auditor of the other county sees none of this county's journal.
        let countyAuditor = try scene.login("auditor", Scene.countyY)
        let own = try scene.psql(countyAuditor, "SELECT count(*) FILTER (WHERE county_code = '320321') || '/' || count(*) FILTER (WHERE county_code = '320322') FROM journal")
        let counts = own.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/")
        #expect(counts.first == "0" && (Int(counts.last ?? "") ?? 0) > 0, "\(own)")
        // Nobody else reads the journal or runs the audit.
        let township = try scene.login("township-admin", Fixtures.townshipA)
        try scene.expectRefused(township, ["journal", "show"], ["PERMISSION_DENIED"])
        try scene.expectRefused(township, ["audit", "violations"], ["PERMISSION_DENIED"])
        let psql = try scene.psql(auditor, "UPDATE post SET need = 'x'")
        #expect(psql.status != 0 && psql.stderr.contains("permission denied"), "\(psql.stderr)")
        if scene.journalExists {
            let journal = try scene.psql(auditor, "SELECT count(*) > 0 FROM journal")
            #expect(journal.status == 0, "\(journal.stderr)")
        }
    }

    @Test func financeExportsAndReconcilesButCannotHireOrSetPolicy() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let finance = try scene.login("finance", Fixtures.county)
        let export = try scene.expectOK(finance, ["payroll", "export", "2026-01"])
        #expect(export.contains(scene.personA2.value) && export.contains(scene.personB.value), "the export carries full IDs")
        #expect(!export.contains(scene.personY.value), "another county's line in the export")
        _ = try scene.expectOK(finance, ["payroll", "summary", "2026-01"])
        let payments = try temporaryFile("id_number,post_id,bank_account,amount,paid_on\n\(scene.personA2.value),\(scene.postA2),6228480300000000001,1100,2026-02-05\n")
        let reconciled = try scene.expectOK(finance, ["payroll", "reconcile", "2026-01", payments])
        #expect(reconciled.contains("\"rows\":\"1\""), "\(reconciled)")
        try scene.expectRefused(finance, ["hire", "--post", scene.postA, "--person", scene.personA.value, "--start", "2026-03-01", "--end", "2026-12-31"],
                                ["PERMISSION_DENIED"])
        try scene.expectRefused(finance, ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "900", "--from", "2027-01"],
                                ["PERMISSION_DENIED"])
        try scene.expectRefused(finance, ["payroll", "run", "2026-02", "--region", "320321"], ["PERMISSION_DENIED"])
        try scene.expectRefused(finance, ["person", "show", scene.personA.value, "--reveal"], ["REVEAL_NOT_ALLOWED"])
        let psql = try scene.psql(finance, "INSERT INTO post_quota (county_code, year, posts) VALUES ('320321000000', 2030, 1)")
        #expect(psql.status != 0 && psql.stderr.contains("permission denied"), "\(psql.stderr)")
    }

    @Test func onlySystemAdministratorsManageOperators() throws {
        let scene = try Scene()
        let system = try scene.login("system-admin", "320000000000")
        let name = "op" + UUID().uuidString.prefix(8).lowercased()
        let added = try scene.expectOK(system, ["operator", "add", name, "--role", "乡镇管理员", "--region", "320321101"])
        #expect(added.contains("\"role\":\"township-admin\"") && added.contains("\"region_code\":\"320321101000\""), "\(added)")
        let newcomer = scene.conninfo(as: name)
        #expect(try scene.expectOK(newcomer, ["post", "list"]).contains(scene.postA))
        let journaled = try scene.connection.query("SELECT count(*) AS n FROM journal WHERE table_name = 'operator' AND row_key = $1", [name])
        #expect(journaled.first?["n"] == "1", "operator_add is journaled")
        let listed = try scene.expectOK(system, ["operator", "list"])
        #expect(listed.contains(name), "\(listed)")
        // A township admin's region is a township; superusers and owners cannot be operators.
        let wrongLevel = try scene.cli(system, ["operator", "add", "op_x", "--role", "township-admin", "--region", "320321"])
        #expect(wrongLevel.status == 2 && wrongLevel.stderr.hasPrefix("error: [OPERATOR_REGION]"), "\(wrongLevel.stderr)")
        // A login must need no quoting, through the tool and through psql alike; nothing is left behind.
        let odd = "Op " + UUID().uuidString.prefix(8)
        let badLogin = try scene.cli(system, ["operator", "add", odd, "--role", "auditor", "--region", "32"])
        #expect(badLogin.status == 2 && badLogin.stderr.hasPrefix("error: [BAD_LOGIN]"), "\(badLogin.stderr)")
        let badByPsql = try scene.psql(system, "SELECT operator_add('\(odd)', 'auditor', '320000000000')")
        #expect(badByPsql.status != 0 && badByPsql.stderr.contains("operator_login_form"), "\(badByPsql.stderr)")
        #expect(try scene.connection.query("SELECT count(*) AS n FROM pg_roles WHERE rolname = $1", [odd])[0]["n"] == "0")
        let superuser = try scene.cli(system, ["operator", "add", "postgres", "--role", "auditor", "--region", "32"])
        #expect(superuser.status == 2, "\(superuser.stderr)")
        // Nobody else may.
        for role in [("township-admin", Fixtures.townshipA), ("county-admin", Fixtures.county), ("finance", Fixtures.county), ("auditor", "320000000000")] {
            let other = try scene.login(role.0, role.1)
            try scene.expectRefused(other, ["operator", "add", "op_y", "--role", "system-admin", "--region", "32"], ["PERMISSION_DENIED"])
            try scene.expectRefused(other, ["operator", "remove", name], ["PERMISSION_DENIED"])
            let psql = try scene.psql(other, "SELECT operator_add('op_y', 'system-admin', '320000000000')")
            #expect(psql.status != 0 && psql.stderr.contains("permission denied"), "\(psql.stderr)")
        }
        // A system administrator reads no persons.
        let persons = try scene.psql(system, "SELECT count(*) FROM person")
        #expect(persons.status != 0 && persons.stderr.contains("permission denied"), "\(persons.stderr)")
        // Removed: the login stays but sees nothing.
        _ = try scene.expectOK(system, ["operator", "remove", name])
        try scene.expectRefused(newcomer, ["post", "list"], ["PERMISSION_DENIED"])
        #expect(try scene.expectOK(system, ["operator", "list"]).contains(name) == false)
    }

    @Test func maskedOutputShowsNoFullIDOrAccountAnywhere() throws {
        let scene = try Scene()
        _ = try Payroll.run(scene.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let admin = try scene.login("county-admin", Fixtures.county)
        let ids = [scene.personA, scene.personA2, scene.personB].map(\.value)
        let accounts = try scene.connection.query("SELECT bank_account FROM person WHERE bank_account IS NOT NULL").compactMap { $0["bank_account"] }
        #expect(accounts.count >= 3)
        let commands: [[String]] = [
            ["person", "show", scene.personA2.value], ["person", "show", scene.personB.value],
            ["post", "list"], ["post", "show", scene.postA2], ["post", "show", scene.postB], ["due", "--within", "400"],
            ["hire", "--post", scene.postA, "--person", scene.personA.value, "--start", "2026-03-01", "--end", "2026-12-31"],
            ["renew", "--person", scene.personA.value, "--end", "2027-02-28"],
            ["insurance", "add", "--person", scene.personA.value, "--insurer", "人保财险", "--policy", "Z1", "--from", "2026-01-01", "--to", "2027-12-31"],
            ["assess", "--person", scene.personA2.value, "--month", "2026-02", "--result", "pass"],
            ["exit", "--person", scene.personA.value, "--on", "2026-09-30", "--reason", "resigned"],
            ["payroll", "summary", "2026-01"], ["policy", "show", "--region", Fixtures.villageA1],
        ]
        for arguments in commands {
            for format in ["table", "csv", "json"] {
                for conninfo in [admin, scene.database.conninfo] {
                    let result = try welfarePosts(arguments + ["--database", conninfo, "--format", format], on: scene.database)
                    let printed = result.stdout + result.stderr
                    for secret in ids + accounts {
                        #expect(!printed.contains(secret), "\(arguments) \(format) printed \(secret)")
                    }
                }
            }
        }
        let auditor = try scene.login("auditor", Fixtures.county)
        for arguments in [["audit", "violations", "--as-of", "2026-06-30"], ["ledger", "posts", "--as-of", "2026-06-30"], ["journal", "show"]] {
            for format in ["table", "csv", "json"] {
                let result = try welfarePosts(arguments + ["--database", auditor, "--format", format], on: scene.database)
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                for secret in ids + accounts {
                    #expect(!(result.stdout + result.stderr).contains(secret), "\(arguments) \(format) printed \(secret)")
                }
            }
        }
        let revealed = try scene.expectOK(admin, ["person", "show", scene.personB.value, "--reveal"])
        #expect(revealed.contains(scene.personB.value))
    }
}
