import Foundation
import Postgres
import Testing
import TestSupport

/// Policy (SPEC §4) through the binary, and the one SQL lookup behind it.
@Suite("policy")
struct PolicyTests {
    func prepared() throws -> (TestDatabase, Connection) {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        return (database, connection)
    }

    @discardableResult
    func ok(_ arguments: [String], _ database: TestDatabase) throws -> String {
        let result = try welfarePosts(arguments + ["--format", "json"], on: database)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    @Test func payStandardNearestAncestorThenLatestDate() throws {
        let (database, connection) = try prepared()
        try ok(["policy", "pay", "--region", "32", "--type", "cleaner", "--monthly", "600", "--from", "2025-01"], database)
        try ok(["policy", "pay", "--region", "320321", "--type", "保洁员", "--monthly", "800", "--social-insurance", "120.5", "--from", "2026-01"], database)
        try ok(["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "850.50", "--from", "2026-07"], database)
        func pay(_ region: String, _ day: String) throws -> String? {
            try connection.query("SELECT monthly_fen || '/' || social_insurance_fen AS v FROM pay_standard_on($1, 'cleaner', $2::date)",
                                 [region, day]).first?["v"]
        }
        #expect(try pay(Fixtures.villageA1, "2024-12-31") == nil)
        // Before the county's own value takes effect, the province's applies.
        #expect(try pay(Fixtures.villageA1, "2025-12-31") == "60000/0")
        #expect(try pay(Fixtures.villageA1, "2026-01-01") == "80000/12050")
        #expect(try pay(Fixtures.villageA1, "2026-06-30") == "80000/12050")
        #expect(try pay(Fixtures.villageA1, "2026-07-01") == "85050/0")
        // Another county of the province still gets the province's value.
        #expect(try pay("320322100201", "2026-07-01") == "60000/0")
    }

    @Test func eligibilityInheritsValueByValueWithDefaults() throws {
        let (database, connection) = try prepared()
        func rule(_ day: String) throws -> String {
            try connection.query("SELECT min_age || '/' || max_age || '/' || household_cap || '/' || array_to_string(categories, ',') AS v FROM eligibility_on($1, $2::date)",
                                 [Fixtures.villageA1, day])[0]["v"] ?? ""
        }
        #expect(try rule("2026-01-01") == "16/65/1/poverty-alleviated,monitored,low-income")
        try ok(["policy", "eligibility", "--region", "32", "--from", "2026-01-01", "--max-age", "60", "--household-cap", "2"], database)
        try ok(["policy", "eligibility", "--region", "320321", "--from", "2026-03-01", "--max-age", "62", "--categories", "脱贫人口,monitored"], database)
        #expect(try rule("2026-02-28") == "16/60/2/poverty-alleviated,monitored,low-income")
        #expect(try rule("2026-03-01") == "16/62/2/poverty-alleviated,monitored")
        let shown = try ok(["policy", "show", "--region", Fixtures.villageA1, "--on", "2026-03-01"], database)
        #expect(shown.contains("\"item\":\"max_age\",\"value\":\"62\""), "\(shown)")
    }

    @Test func quotaIsPerCountyAndYear() throws {
        let (database, connection) = try prepared()
        let out = try ok(["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "120"], database)
        #expect(out.contains("\"posts\":\"120\""))
        try ok(["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "150"], database)
        #expect(try connection.query("SELECT posts FROM post_quota WHERE county_code = '320321000000' AND year = 2026")[0]["posts"] == "150")
        let township = try welfarePosts(["policy", "quota", "--region", Fixtures.townshipA, "--year", "2026", "--posts", "1"], on: database)
        #expect(township.status == 2)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let code: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        Refusal(arguments: ["policy", "pay", "--region", "320321101", "--type", "cleaner", "--monthly", "800", "--from", "2026-01"], code: "POLICY_REGION"),
        Refusal(arguments: ["policy", "pay", "--region", "320321101201", "--type", "cleaner", "--monthly", "800", "--from", "2026-01"], code: "POLICY_REGION"),
        Refusal(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "800", "--from", "2026-01-15"], code: "BAD_MONTH"),
        Refusal(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "800.123", "--from", "2026-01"], code: "BAD_AMOUNT"),
        Refusal(arguments: ["policy", "pay", "--region", "320321", "--type", "astronaut", "--monthly", "800", "--from", "2026-01"], code: "UNKNOWN_CODE"),
        Refusal(arguments: ["policy", "pay", "--region", "329999", "--type", "cleaner", "--monthly", "800", "--from", "2026-01"], code: "NOT_FOUND"),
        Refusal(arguments: ["policy", "eligibility", "--region", "320321", "--from", "2026-01-01", "--min-age", "70"], code: "BAD_INPUT"),
        Refusal(arguments: ["policy", "eligibility", "--region", "320321", "--from", "2026-01-01"], code: "BAD_INPUT"),
        Refusal(arguments: ["policy", "pay", "--region", "320321"], code: "USAGE"),
    ])
    func badPolicyIsRefusedAndChangesNothing(_ refusal: Refusal) throws {
        let (database, connection) = try prepared()
        let before = try connection.query("SELECT (SELECT count(*) FROM pay_standard) + (SELECT count(*) FROM eligibility_policy) AS n")[0]["n"]
        let result = try welfarePosts(refusal.arguments, on: database)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: [\(refusal.code)]"), "\(result.stderr)")
        #expect(try connection.query("SELECT (SELECT count(*) FROM pay_standard) + (SELECT count(*) FROM eligibility_policy) AS n")[0]["n"] == before)
    }

    @Test func messagesInChinese() throws {
        let (database, _) = try prepared()
        let result = try welfarePosts(["policy", "pay", "--region", "320321101", "--type", "cleaner", "--monthly", "800", "--from", "2026-01", "--lang", "zh"], on: database)
        #expect(result.status == 2)
        #expect(result.stderr.contains("政策只能在县级及以上设置"), "\(result.stderr)")
    }
}

@Suite("regions, statuses, migrations, demo")
struct FoundationCommandTests {
    @Test func regionImportChecksCodesAndListsASubtree() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let orphan = try welfarePosts(["region", "import", try temporaryFile("code,name\n320321109201,孤村\n320321109,孤镇\n320322000000,邻县\n")], on: database)
        // The township 320321109 is in the file, so its village is fine; 320322's city is known.
        #expect(orphan.status == 0, "\(orphan.stderr)")
        let bad = try welfarePosts(["region", "import", try temporaryFile("区划代码,名称\n330102001201,某村\n320003000000,错码\n")], on: database)
        #expect(bad.status == 2)
        // A village of unknown ancestors is fine (SPEC §3: they are recorded by code); a code
        // with a zero city and a non-zero county is not a code.
        #expect(!bad.stderr.contains("line 2,"), "\(bad.stderr)")
        #expect(bad.stderr.contains("line 3, column 1 (区划代码)"), "\(bad.stderr)")
        let list = try welfarePosts(["region", "list", "--under", "320321101", "--format", "csv"], on: database)
        #expect(list.stdout == "code,name,level,parent\n320321101000,首羡镇,township,320321000000\n320321101201,首羡村,village,320321101000\n320321101202,李楼村,village,320321101000\n")
    }

    @Test func personStatusPeriods() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let id = residentID(born: "1966-05-05", sequence: 3)
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity,bank_account\n\(id),吴春梅,H9,\(Fixtures.villageA1),low-income,weak,62284803123456789\n")
        #expect(try welfarePosts(["person", "import", file], on: database).status == 0)
        #expect(try welfarePosts(["person", "status", id, "--set", "村干部", "--from", "2025-01-01"], on: database).status == 0)
        // The same period again with an end date closes it.
        #expect(try welfarePosts(["person", "status", id, "--set", "village-cadre", "--from", "2025-01-01", "--to", "2025-12-31"], on: database).status == 0)
        let overlap = try welfarePosts(["person", "status", id, "--set", "village-cadre", "--from", "2025-06-01"], on: database)
        #expect(overlap.status == 2)
        #expect(overlap.stderr.contains("[STATUS_OVERLAP]"))
        let backwards = try welfarePosts(["person", "status", id, "--set", "employed", "--from", "2026-02-01", "--to", "2026-01-01"], on: database)
        #expect(backwards.status == 2)
        #expect(try connection.query("SELECT count(*) AS n FROM person_status")[0]["n"] == "1")
        let shown = try welfarePosts(["person", "show", id, "--format", "json"], on: database)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("\"statuses\":\"village-cadre 2025-01-01…2025-12-31\""), "\(shown.stdout)")
        // Masked unless --reveal.
        #expect(!shown.stdout.contains(id))
        #expect(!shown.stdout.contains("62284803123456789"))
        #expect(shown.stdout.contains(String(id.prefix(6)) + "********" + String(id.suffix(4))))
        let revealed = try welfarePosts(["person", "show", id, "--reveal", "--format", "json"], on: database)
        #expect(revealed.stdout.contains(id))
        let unknown = try welfarePosts(["person", "show", residentID(born: "1966-05-05", sequence: 4)], on: database)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("error: [NOT_FOUND]"))
        let badID = try welfarePosts(["person", "show", "12345"], on: database)
        #expect(badID.status == 2)
        #expect(badID.stderr.hasPrefix("error: [BAD_ID]"))
    }

    @Test func migrateIsIdempotentAndStatusListsEveryMigration() throws {
        let database = try TestDatabase()
        let again = try welfarePosts(["db", "migrate", "--format", "json"], on: database)
        #expect(again.status == 0)
        #expect(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let status = try welfarePosts(["db", "status", "--format", "csv"], on: database)
        #expect(status.stdout.contains("0001_foundation,applied,"))
        #expect(status.stdout.contains("0002_policy,applied,"))
    }

    @Test func migrateAFreshDatabaseFromTheBinary() throws {
        let template = try TestDatabase()
        let admin = try template.connect()
        try admin.execute("CREATE DATABASE \(template.name)_fresh")
        let fresh = template.conninfo.replacingOccurrences(of: "dbname=\(template.name)", with: "dbname=\(template.name)_fresh")
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = fresh
        let binary = productsFolder.appendingPathComponent("welfare-posts").path
        let before = try runProcess(binary, ["region", "list"], environment: environment)
        #expect(before.status == 3)
        let status = try runProcess(binary, ["db", "status", "--format", "csv"], environment: environment)
        #expect(status.stdout.contains("0001_foundation,pending,"))
        // Run from another folder: the binary carries its migrations.
        let migrate = try runProcess("/bin/sh", ["-c", "cd / && '\(binary)' db migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(try runProcess(binary, ["region", "list"], environment: environment).status == 0)
    }

    @Test func demoLoadsTheCountyAndCanRunTwice() throws {
        let database = try TestDatabase()
        let first = try welfarePosts(["demo", "--format", "table"], on: database)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("丰县 (320321) loaded: 19 regions, 36 persons"))
        #expect(first.stdout.contains("首羡镇"))
        let connection = try database.connect()
        // 36 persons of the county's story, and 25 of 顺河镇's ledger, brought in at the end (DemoLedger).
        #expect(try connection.query("SELECT count(*) AS n FROM person WHERE household_id NOT LIKE 'SH%'")[0]["n"] == "36")
        #expect(try connection.query("SELECT count(*) AS n FROM person")[0]["n"] == "61")
        #expect(try connection.query("SELECT count(DISTINCT category) AS n FROM person")[0]["n"] == "4")
        #expect(try connection.query("SELECT count(*) AS n FROM (SELECT household_id FROM person GROUP BY 1 HAVING count(*) > 1) h")[0]["n"] != "0")
        // The walk: posts approved, people hired, one renewal, one exit, and each rule refusing.
        // (The ledger's posts are 320321-00201 on.)
        #expect(try connection.query("SELECT count(*) AS n FROM post WHERE state = 'approved' AND id < '320321-00201'")[0]["n"] == "8")
        // Seven hired on New Year's Day, and a trial agreement in April (the audit chapter).
        #expect(try connection.query("SELECT count(*) AS n FROM placement WHERE post_id < '320321-00201'")[0]["n"] == "8")
        #expect(try connection.query("SELECT count(*) AS n FROM placement WHERE exit_reason = 'employed-elsewhere' AND post_id < '320321-00201'")[0]["n"] == "1")
        #expect(try connection.query("SELECT count(*) AS n FROM contract c JOIN placement pl ON pl.id = c.placement_id WHERE pl.post_id < '320321-00201'")[0]["n"] == "9")
        #expect(try connection.query("SELECT count(*) AS n FROM placement WHERE post_id >= '320321-00201'")[0]["n"] == "25")
        for code in ["CONTRACT_TERM", "AGE", "HOUSEHOLD_CAP", "CATEGORY", "LABOUR_CAPACITY", "EXCLUDED_STATUS", "INSURANCE",
                     "POST_NOT_OPEN", "ONE_POST_PER_PERSON", "PAY_STANDARD", "QUOTA", "NOT_PUBLICISED"] {
            #expect(first.stdout.contains(code), "the demo shows no \(code) refusal")
        }
        // Recruited openly (SPEC §13): five days' notice, everyone hired applied and was publicised,
        // one objection dismissed and one upheld. (The ledger's placements predate the product.)
        #expect(try connection.query("SELECT notice_days_on('320321101201', '2026-01-01') AS d")[0]["d"] == "5")
        #expect(try connection.query("""
            SELECT count(*) AS n FROM placement pl WHERE pl.post_id < '320321-00201' AND (NOT EXISTS (SELECT 1 FROM application a WHERE a.post_id = pl.post_id AND a.id_number = pl.id_number)
               OR NOT EXISTS (SELECT 1 FROM notice n WHERE n.post_id = pl.post_id AND n.id_number = pl.id_number AND n.to_on < pl.start_on))
            """)[0]["n"] == "0")
        #expect(try connection.query("SELECT string_agg(finding, ',' ORDER BY finding) AS f FROM notice_objection")[0]["f"] == "dismissed,upheld")
        // Attendance required from March: one line held for want of it; February's book, late, shows a month not at work.
        #expect(try connection.query("SELECT count(*) AS n FROM payroll_line WHERE month = '2026-03-01' AND held_reason = 'attendance-missing'")[0]["n"] == "1")
        #expect(try connection.query("SELECT count(*) AS n FROM attendance")[0]["n"] == "6")
        // Payroll: January and February approved, March with February's late-exit adjustment
        // approved in the audit chapter.
        #expect(try connection.query("SELECT string_agg(to_char(month, 'YYYY-MM') || ' ' || state, ',' ORDER BY month) AS s FROM payroll_run")[0]["s"]
                == "2026-01 approved,2026-02 approved,2026-03 approved")
        let adjustment = try connection.query("SELECT to_char(for_month, 'YYYY-MM') AS m, adjustment_fen FROM payroll_line WHERE kind = 'adjustment'")
        #expect(adjustment.count == 1)
        #expect(adjustment.first?["m"] == "2026-02")
        #expect(adjustment.first.flatMap { Int($0["adjustment_fen"] ?? "") }.map { $0 < 0 } == true)
        #expect(first.stdout.contains("PAYROLL_LOCKED"))
        #expect(first.stdout.contains("month,county_code,township,village,post_id,post_type,funding_channel,name,id_number"))
        // It ends with the violation report: the story's cases, each under its rule.
        let report = first.stdout.components(separatedBy: "Violations as of 2026-06-30").last ?? ""
        let planted = ["DECEASED_IN_POST", "INELIGIBLE_IN_POST", "NO_CONTRACT", "UNINSURED", "PAID_NOT_DUE", "UNDERPAID",
                       "DUPLICATE_PAYMENT", "PAID_TO_OTHER_ACCOUNT", "UNPAID_LATE", "REPEATED_FAILURE", "VACANT_TOO_LONG",
                       "PAID_WITHOUT_EVIDENCE"]
        for code in planted { #expect(report.contains("\n\(code) "), "the demo's report shows no \(code)") }
        try connection.execute("SET welfare_posts.as_of = '2026-06-30'")
        let found = try connection.query("SELECT count(DISTINCT rule) AS n FROM audit_violation")[0]["n"]
        #expect(found == String(planted.count))
        // Two deaths: one still in post (a case), one recorded rightly, the exit the day before (none).
        #expect(try connection.query("SELECT count(*) AS n FROM person_status WHERE status = 'deceased'")[0]["n"] == "2")
        #expect(try connection.query("SELECT count(*) AS n FROM audit_deceased_in_post")[0]["n"] == "1")
        #expect(first.stdout.contains("exit dated 2026-06-19, the last day in post, reason deceased"))
        let second = try welfarePosts(["demo"], on: database)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("Violations as of 2026-06-30"))
        #expect(try connection.query("SELECT count(*) AS n FROM person")[0]["n"] == "61")
        #expect(try connection.query("SELECT count(*) AS n FROM placement")[0]["n"] == "33")
    }
}
