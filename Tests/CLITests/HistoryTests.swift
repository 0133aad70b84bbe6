import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Issue 13: the record tells the truth about any day — late entries, corrections, facts that
/// change. Each scenario through the binary, amounts to the fen.
@Suite("history")
struct HistoryTests {
    func csv(_ world: World, _ arguments: [String]) throws -> ProcessResult {
        try welfarePosts(arguments + ["--format", "csv"], on: world.database)
    }

    func json(_ world: World, _ arguments: [String]) throws -> ProcessResult {
        try welfarePosts(arguments + ["--format", "json"], on: world.database)
    }

    func day(_ text: String) -> Day { Day(iso: text)! }

    /// A post proposed through the binary on `on`; its ID.
    func propose(_ world: World, on: String, region: String = Fixtures.villageA1) throws -> String {
        let result = try json(world, ["post", "propose", "--region", region, "--type", "cleaner", "--funding", "employment-fund",
                                      "--developer", "首羡镇人民政府", "--need", "村道保洁", "--on", on])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["id"] as? String ?? ""
    }

    /// The data rows of a CSV listing.
    func rows(_ result: ProcessResult) -> [String] {
        Array(result.stdout.split(separator: "\n").map(String.init).dropFirst())
    }

    /// Audit cases of one rule as `ID POST FROM TO MONTH AMOUNT` (empty fields as `-`).
    func cases(_ world: World, _ rule: String, asOf: String, from: String? = nil, to: String? = nil) throws -> [String] {
        try Audit.violations(world.connection, Audit.Filter(asOf: day(asOf), from: from.flatMap { Month(iso: $0) },
                                                            to: to.flatMap { Month(iso: $0) }, rule: rule)).map { row in
            [row["id_number"], row["post_id"], row["from_on"], row["to_on"], row["month"], row["amount_fen"]]
                .map { $0 ?? "-" }.joined(separator: " ")
        }
    }

    func runAndApprove(_ world: World, _ months: [String]) throws {
        for month in months {
            _ = try Payroll.run(world.connection, month: Month(iso: month)!, region: Fixtures.county)
            _ = try Payroll.approve(world.connection, month: Month(iso: month)!, region: Fixtures.county)
        }
    }

    /// Records payments as a bank's history file.
    func pay(_ world: World, _ lines: [(person: ResidentID, month: String, post: String?, account: String, amount: String, on: String)]) throws {
        var text = "id_number,month,post_id,bank_account,amount,paid_on\n"
        for l in lines { text += "\(l.person.value),\(l.month),\(l.post ?? ""),\(l.account),\(l.amount),\(l.on)\n" }
        let result = try csv(world, ["disbursement", "import", try temporaryFile(text)])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func account(_ world: World, _ person: ResidentID) throws -> String {
        try world.connection.query("SELECT bank_account FROM person WHERE id_number = $1", [person.value])[0]["bank_account"] ?? ""
    }

    func journalEntries(_ world: World) throws -> Int {
        Int(try world.connection.query("SELECT count(*) AS n FROM journal")[0]["n"] ?? "") ?? -1
    }

    // MARK: Posts: dates in order, the state on a day

    @Test func postDatesKeepTheirOrderAndHiresFallWithinThem() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let post = try propose(world, on: "2026-03-01")
        let before = try world.fingerprint()
        let early = try csv(world, ["post", "approve", post, "--on", "2024-01-01"])
        #expect(early.status == 1 && early.stderr.hasPrefix("error: [POST_DATES]"), "\(early.stderr)")
        #expect(early.stderr.contains("proposed on 2026-03-01"))
        let rejected = try csv(world, ["post", "reject", post, "--reason", "重复", "--on", "2026-02-28"])
        #expect(rejected.status == 1 && rejected.stderr.hasPrefix("error: [POST_DATES]"), "\(rejected.stderr)")
        #expect(try world.fingerprint() == before)
        #expect(try csv(world, ["post", "approve", post, "--on", "2026-07-01"]).status == 0)
        // A hire starting before the approval: the post was not in force then.
        let hire = try csv(world, ["hire", "--post", post, "--person", person.value, "--start", "2026-03-01", "--end", "2026-12-31"])
        #expect(hire.status == 1 && hire.stderr.hasPrefix("error: [POST_NOT_OPEN]"), "\(hire.stderr)")
        #expect(hire.stderr.contains("in force from 2026-07-01"))
        let close = try csv(world, ["post", "close", post, "--on", "2026-07-01", "--reason", "撤并"])
        #expect(close.status == 1 && close.stderr.hasPrefix("error: [POST_DATES]"), "\(close.stderr)")
        // The database holds the same rules for every writer.
        do {
            try world.connection.command("UPDATE post SET approved_on = '2026-01-01' WHERE id = $1", [post])
            Issue.record("an approval before the proposal was written")
        } catch let error as PostgresError {
            #expect(error.constraintName == "post_dates_in_order")
        }
        do {
            try world.connection.command("""
                INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ('320321', $1, $2, '2026-06-30')
                """, [post, person.value])
            Issue.record("a placement before the approval was written")
        } catch let error as PostgresError {
            #expect(error.constraintName == "post_not_open")
        }
        let hired = try csv(world, ["hire", "--post", post, "--person", person.value, "--start", "2026-07-01", "--end", "2026-12-31"])
        #expect(hired.status == 0, "\(hired.stderr)")
    }

    @Test func listingsLedgerAndScaleReadTheStateOnTheDay() throws {
        let world = try World()
        let p1 = try propose(world, on: "2025-12-01"), p2 = try propose(world, on: "2025-12-01")
        let p3 = try propose(world, on: "2026-05-01", region: Fixtures.villageB1)
        // Typed in late and out of order: the close first, then the approvals, all backdated.
        #expect(try csv(world, ["post", "approve", p2, "--on", "2026-01-05"]).status == 0)
        #expect(try csv(world, ["post", "approve", p1, "--on", "2026-03-01"]).status == 0)
        #expect(try csv(world, ["post", "close", p1, "--on", "2026-09-01", "--reason", "撤并"]).status == 0)
        #expect(try csv(world, ["post", "reject", p3, "--reason", "重复申报", "--on", "2026-05-10"]).status == 0)
        try world.hire(p2, try world.person(born: "1970-01-01"), "2026-02-01", "2026-12-31")
        func states(_ on: String, _ extra: [String] = []) throws -> [String] {
            try rows(try csv(world, ["post", "list", "--on", on] + extra)).map { line in
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                return "\(cells[0]) \(cells[4])"
            }
        }
        #expect(try states("2025-11-30") == [])
        #expect(try states("2026-02-01") == ["\(p1) proposed", "\(p2) approved"])
        #expect(try states("2026-05-05") == ["\(p1) approved", "\(p2) approved", "\(p3) proposed"])
        #expect(try states("2026-10-01") == ["\(p1) closed", "\(p2) approved", "\(p3) rejected"])
        #expect(try states("2026-02-01", ["--state", "approved"]) == ["\(p2) approved"])
        #expect(try states("2026-02-01", ["--vacant"]) == [])
        #expect(try states("2026-04-01", ["--vacant"]) == ["\(p1) approved"])
        // The ledger's three views agree on the posts in force on a day.
        for (asOf, month, inForce) in [("2026-02-28", "2026-02", 1), ("2026-06-30", "2026-06", 2), ("2026-09-30", "2026-09", 1)] {
            let posts = rows(try csv(world, ["ledger", "posts", "--as-of", asOf])).filter { $0.contains(",approved,") }
            #expect(posts.count == inForce, "\(asOf): \(posts)")
            let summary = rows(try csv(world, ["ledger", "summary", "--as-of", asOf])).first { $0.hasPrefix("total,") }
            #expect(summary?.split(separator: ",", omittingEmptySubsequences: false)[5] == "\(inForce)"[...], "\(asOf): \(summary ?? "")")
            let scale = rows(try csv(world, ["ledger", "scale", "--from", month, "--to", month]))
            #expect(scale.first?.hasPrefix("\(month),\(inForce),") == true, "\(month): \(scale)")
        }
    }

    @Test func quotaIsHeldOnEveryDayFromTheApprovalToTheYearsEnd() throws {
        let world = try World()
        #expect(try csv(world, ["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "2"]).status == 0)
        let a = try propose(world, on: "2025-12-01"), b = try propose(world, on: "2025-12-01")
        let c = try propose(world, on: "2025-12-01"), d = try propose(world, on: "2025-12-01")
        for post in [a, b] { #expect(try csv(world, ["post", "approve", post, "--on", "2026-01-05"]).status == 0) }
        #expect(try csv(world, ["post", "close", b, "--on", "2026-06-01", "--reason", "撤并"]).status == 0)
        // Two posts were in force on 2026-03-01, whatever is in force today.
        let before = try world.fingerprint()
        let march = try csv(world, ["post", "approve", c, "--on", "2026-03-01"])
        #expect(march.status == 1 && march.stderr.hasPrefix("error: [QUOTA]"), "\(march.stderr)")
        #expect(march.stderr.contains("2 posts in force on 2026-03-01"), "\(march.stderr)")
        #expect(try world.fingerprint() == before)
        #expect(try csv(world, ["post", "approve", c, "--on", "2026-06-01"]).status == 0)
        // A post approved later in the year counts from its approval date, even when typed in first.
        #expect(try csv(world, ["policy", "quota", "--region", "320321", "--year", "2027", "--posts", "3"]).status == 0)
        let e = try propose(world, on: "2026-12-01")
        #expect(try csv(world, ["post", "approve", e, "--on", "2027-09-01"]).status == 0)
        let spring = try csv(world, ["post", "approve", d, "--on", "2027-03-01"])
        #expect(spring.status == 1 && spring.stderr.contains("3 posts in force on 2027-09-01"), "\(spring.stderr)")
    }

    @Test func aQuotaCutBelowThePostsInForceIsWarnedAndAudited() throws {
        let world = try World()
        let a = try propose(world, on: "2025-12-01"), b = try propose(world, on: "2025-12-01")
        for post in [a, b] { #expect(try csv(world, ["post", "approve", post, "--on", "2026-01-05"]).status == 0) }
        #expect(try csv(world, ["post", "close", b, "--on", "2026-06-01", "--reason", "撤并"]).status == 0)
        let cut = try csv(world, ["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "1"])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stderr.hasPrefix("warning: [OVER_QUOTA] 2 posts are in force on 2026-01-05"), "\(cut.stderr)")
        #expect(cut.stdout.contains("320321000000,2026,1"))
        let found = rows(try csv(world, ["audit", "violations", "--as-of", "2026-12-31", "--rule", "OVER_QUOTA"]))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("OVER_QUOTA,丰县,,,,,,2026-01-05,2026-05-31,,,\"2 posts in force from 2026-01-05 to 2026-05-31, above the 2026 quota of 1") == true,
                "\(found)")
        #expect(try cases(world, "OVER_QUOTA", asOf: "2026-03-31") == ["- - 2026-01-05 2026-03-31 - -"])
        let summary = try csv(world, ["audit", "summary", "--as-of", "2026-12-31", "--rule", "OVER_QUOTA"])
        #expect(summary.stdout.contains("OVER_QUOTA,320321,丰县,1,0.00"), "\(summary.stdout)")
    }

    // MARK: Corrections

    @Test func anExitDatedWronglyIsCorrectedAndPayrollAdjusts() throws {
        let world = try World()
        let post = try world.post(), person = try world.person(born: "1970-01-01"), next = try world.person(born: "1971-01-01")
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        #expect(try csv(world, ["exit", "--person", person.value, "--on", "2026-02-28", "--reason", "resigned"]).status == 0)
        try runAndApprove(world, ["2026-01", "2026-02"])
        // The exit was really on 14 February.
        let corrected = try json(world, ["exit", "--person", person.value, "--correct", "--on", "2026-02-14"])
        #expect(corrected.status == 0, "\(corrected.stderr)")
        #expect(corrected.stdout.contains("\"exit_on\":\"2026-02-14\"") && corrected.stdout.contains("\"exit_reason\":\"resigned\""))
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-03")!, region: Fixtures.county)
        let adjustment = try world.connection.query("""
            SELECT to_char(for_month, 'YYYY-MM') AS m, adjustment_fen FROM payroll_line WHERE month = '2026-03-01' AND kind = 'adjustment'
            """)
        // February: 1,100.00 approved; due now 14/28 of 800 + 14/28 of 300 = 550.00.
        #expect(adjustment.map { "\($0["m"]!) \($0["adjustment_fen"]!)" } == ["2026-02 -55000"])
        // Only the reason.
        let reason = try json(world, ["exit", "--person", person.value, "--correct", "--reason", "employed-elsewhere"])
        #expect(reason.stdout.contains("\"exit_on\":\"2026-02-14\"") && reason.stdout.contains("\"exit_reason\":\"employed-elsewhere\""))
        // Moving the exit over the next holder's days breaks ONE_HOLDER_PER_POST: refused, nothing changed.
        try world.hire(post, next, "2026-03-01", "2026-12-31")
        let before = try world.fingerprint()
        let over = try csv(world, ["exit", "--person", person.value, "--correct", "--on", "2026-03-10"])
        #expect(over.status == 1 && over.stderr.hasPrefix("error: [ONE_HOLDER_PER_POST]"), "\(over.stderr)")
        let early = try csv(world, ["exit", "--person", person.value, "--correct", "--on", "2025-12-31"])
        #expect(early.status == 1 && early.stderr.hasPrefix("error: [EXIT_BEFORE_START]"), "\(early.stderr)")
        let open = try csv(world, ["exit", "--person", next.value, "--correct", "--on", "2026-05-01"])
        #expect(open.status == 1 && open.stderr.hasPrefix("error: [NOT_EXITED]"), "\(open.stderr)")
        #expect(try world.fingerprint() == before)
        let journal = try csv(world, ["journal", "show", "--entity", "person:\(person.value)"])
        #expect(journal.stdout.contains("exit_on: 2026-02-28 → 2026-02-14") || journal.stdout.contains("2026-02-14"), "\(journal.stdout)")
    }

    @Test func aPlacementTypedInByMistakeIsVoidedAndPayrollTakesItBack() throws {
        let world = try World()
        let post = try world.post(), wrong = try world.person(born: "1970-01-01"), right = try world.person(born: "1972-02-02")
        try world.hire(post, wrong, "2026-01-01", "2026-12-31")
        _ = try Assessments.record(world.connection, person: wrong, month: Month(iso: "2026-01")!, result: "pass", absentDays: 0)
        try runAndApprove(world, ["2026-01"])
        let missing = try csv(world, ["hire", "--void", "--person", wrong.value])
        #expect(missing.status == 2, "\(missing.stderr)")
        let voided = try json(world, ["hire", "--void", "--person", wrong.value, "--reason", "录错了人"])
        #expect(voided.status == 0, "\(voided.stderr)")
        #expect(voided.stdout.contains("\"void_reason\":\"录错了人\""), "\(voided.stdout)")
        #expect(try world.connection.query("SELECT count(*) AS n FROM placement WHERE id_number = $1", [wrong.value])[0]["n"] == "0")
        let record = try world.connection.query("SELECT post_id, start_on::text, reason, voided_by FROM placement_void")
        #expect(record.map { "\($0["post_id"]!) \($0["start_on"]!) \($0["reason"]!)" } == ["\(post) 2026-01-01 录错了人"])
        let deleted = try world.connection.query("""
            SELECT string_agg(table_name, ',' ORDER BY seq) AS t FROM journal WHERE operation = 'DELETE'
            """)[0]["t"]
        #expect(deleted == "assessment,contract,placement", "\(deleted ?? "")")
        // February's run takes back January's 1,100.00; the post is free for the right person.
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-02")!, region: Fixtures.county)
        let lines = try world.connection.query("""
            SELECT kind, to_char(for_month, 'YYYY-MM') AS m, total_fen FROM payroll_line WHERE month = '2026-02-01' AND id_number = $1
            """, [wrong.value])
        #expect(lines.map { "\($0["kind"]!) \($0["m"]!) \($0["total_fen"]!)" } == ["adjustment 2026-01 -110000"])
        #expect(try csv(world, ["hire", "--post", post, "--person", right.value, "--start", "2026-01-15", "--end", "2026-12-31"]).status == 0)
        #expect(try csv(world, ["journal", "verify"]).status == 0)
    }

    @Test func voidingIsForTheAdministratorsOfThePostsRegion() throws {
        let scene = try AccessTests.Scene()
        let other = try scene.login("township-admin", Fixtures.townshipA)
        let auditor = try scene.login("auditor", Fixtures.county)
        for login in [other, auditor] {
            let refused = try scene.cli(login, ["hire", "--void", "--person", scene.personB.value, "--reason", "x"])
            #expect(refused.status == 1, "\(refused.stderr)")
        }
        let own = try scene.login("township-admin", Fixtures.townshipB)
        let done = try scene.cli(own, ["hire", "--void", "--person", scene.personB.value, "--reason", "录入错误"])
        #expect(done.status == 0, "\(done.stderr)")
        // Nobody deletes a placement directly.
        let direct = try scene.psql(own, "DELETE FROM placement")
        #expect(direct.status != 0)
    }

    // MARK: The due list

    @Test func dueListsWhatIsOverdueWithItsRealDate() throws {
        let world = try World()
        let today = Day.today()
        func iso(_ days: Int) -> String { today.adding(days: days).iso }
        let contract = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), contract, iso(-100), iso(-30))
        let lapsed = try world.person(born: "1971-01-01", insured: false)
        try world.insure(lapsed, from: iso(-200), to: iso(200))
        try world.hire(try world.post(), lapsed, iso(-100), iso(100))
        // The insurer ended the policy 20 days ago.
        try world.connection.command("UPDATE insurance_policy SET valid_to = $2::date WHERE id_number = $1", [lapsed.value, iso(-20)])
        let future = try world.person(born: "1972-01-01", insured: false)
        try world.insure(future, from: iso(20), to: iso(300))
        try world.hire(try world.post(), future, iso(20), iso(300))
        let due = try csv(world, ["due", "--within", "30"])
        #expect(due.status == 0, "\(due.stderr)")
        let lines = rows(due)
        #expect(lines.contains { $0.hasPrefix("contract-ends,\(iso(-30)),yes,") }, "\(due.stdout)")
        #expect(lines.contains { $0.hasPrefix("insurance-ends,\(iso(-20)),yes,") }, "\(due.stdout)")
        #expect(!due.stdout.contains(future.masked), "a hire that has not started is due for nothing: \(due.stdout)")
        #expect(lines.count == 2, "\(due.stdout)")
    }

    // MARK: Approved months are snapshots

    @Test func anApprovedMonthExportsTheNameAccountAndStandardsItWasApprovedWith() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), person, "2026-01-01", "2026-12-31")
        let old = try account(world, person)
        try runAndApprove(world, ["2026-01"])
        // After approval: a new account from February, a new name, and a new pay standard.
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity,bank_account,effective_from\n"
            + "\(person.value),王新名,H-NEW,\(Fixtures.villageA1),poverty-alleviated,weak,6217000000000000123,2026-02-01\n")
        #expect(try csv(world, ["person", "import", file]).status == 0)
        _ = try Policy.setPay(world.connection, region: Fixtures.county, type: "cleaner", monthly: Fen(90_000),
                              socialInsurance: Fen(30_000), from: Month(iso: "2026-01")!)
        let export = try csv(world, ["payroll", "export", "2026-01", "--region", "320321"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains(",\(person.value),\(old),31,800.00,300.00,0.00,1100.00"), "\(export.stdout)")
        #expect(!export.stdout.contains("6217000000000000123") && !export.stdout.contains("王新名"))
        let line = try world.connection.query("""
            SELECT name, post_subsidy_standard_fen, social_insurance_standard_fen FROM payroll_line WHERE month = '2026-01-01'
            """)[0]
        #expect(line["post_subsidy_standard_fen"] == "80000" && line["social_insurance_standard_fen"] == "30000")
        #expect(try csv(world, ["journal", "verify"]).status == 0)
        // Tampering with the snapshot is found by the seal.
        try world.connection.execute("""
            SET session_replication_role = replica;
            UPDATE payroll_line SET bank_account = '6217000000000000999' WHERE month = '2026-01-01';
            RESET session_replication_role;
            """)
        let verify = try csv(world, ["journal", "verify"])
        #expect(verify.status == 1 && verify.stderr.contains("PAYROLL_TAMPERED"), "\(verify.stderr)")
    }

    /// Months approved and sealed before the snapshot columns existed keep verifying, and export
    /// as they did.
    @Test func monthsSealedBeforeTheSnapshotStillVerify() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try Migrator(connection: connection).migrate(through: "0016_payroll_seal")
        try Fixtures.regions(connection)
        let person = residentID(born: "1970-01-01", sequence: 1)
        try connection.execute("""
            INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen, social_insurance_fen)
              VALUES ('320321000000', 'cleaner', '2020-01-01', 80000, 30000);
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
              VALUES ('320321', '\(person)', '老张', 'H1', '\(Fixtures.villageA1)', 'monitored', 'weak', '6228480300000000001');
            INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, state, proposed_on, approved_on)
              VALUES ('320321-00001', '320321', '\(Fixtures.villageA1)', 'cleaner', 'other', '镇', '保洁', 'approved', '2025-12-01', '2025-12-15');
            INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ('320321', '320321-00001', '\(person)', '2026-01-01');
            INSERT INTO contract (county_code, placement_id, start_on, end_on) SELECT '320321', id, '2026-01-01', '2026-12-31' FROM placement;
            INSERT INTO payroll_run (county_code, month) VALUES ('320321', '2026-01-01');
            INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen)
              SELECT county_code, month, month, 'regular', id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen
              FROM payroll_due('2026-01-01', '2026-01-01');
            UPDATE payroll_run SET state = 'approved', approved_at = now();
            """)
        try Migrator(connection: connection).migrate()
        let verify = try welfarePosts(["journal", "verify"], on: database)
        #expect(verify.status == 0, "\(verify.stderr)")
        let export = try welfarePosts(["payroll", "export", "2026-01", "--format", "csv"], on: database)
        #expect(export.stdout.contains("老张,\(person),6228480300000000001,31,800.00,300.00,0.00,1100.00"), "\(export.stdout)")
        // A month approved after the upgrade is sealed with the snapshot (version 2).
        _ = try Payroll.run(connection, month: Month(iso: "2026-02")!, region: Fixtures.county)
        _ = try Payroll.approve(connection, month: Month(iso: "2026-02")!, region: Fixtures.county)
        #expect(try connection.query("SELECT string_agg(seal_version::text, ',' ORDER BY month) AS v FROM payroll_run")[0]["v"] == "1,2")
        #expect(try welfarePosts(["journal", "verify"], on: database).status == 0)
    }

    // MARK: Facts with history

    @Test func aCategoryChangedInJuneDoesNotRewriteMarch() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01", household: "H-X", category: "monitored")
        let post = try world.post()
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        let bank = try account(world, person)
        let header = "身份证号,姓名,户编号,村代码,人员类别,劳动能力,银行账号\n"
        let file = try temporaryFile(header + "\(person.value),测试,H-X,\(Fixtures.villageA1),其他,weak,\(bank)\n")
        let imported = try json(world, ["person", "import", file, "--from", "2026-06-01"])
        #expect(imported.stdout.contains("\"updated\":\"1\""), "\(imported.stdout) \(imported.stderr)")
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-03-31") == [])
        // June under today's facts, no payroll: 1,100.00 due for the month.
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-06-30") == ["\(person.value) \(post) 2026-06-01 2026-06-30 - 110000"])
        let march = try json(world, ["person", "show", person.value, "--on", "2026-03-31"])
        #expect(march.stdout.contains("\"category\":\"monitored\""), "\(march.stdout)")
        let july = try json(world, ["person", "show", person.value, "--on", "2026-07-01"])
        #expect(july.stdout.contains("\"category\":\"other\"") && july.stdout.contains("\"facts_from\":\"2026-06-01\""), "\(july.stdout)")
        // The same file again changes nothing and writes nothing.
        let entries = try journalEntries(world)
        let again = try json(world, ["person", "import", file, "--from", "2026-06-01"])
        #expect(again.stdout.contains("\"updated\":\"0\"") && again.stdout.contains("\"unchanged\":\"1\""), "\(again.stdout)")
        #expect(try journalEntries(world) == entries)
        // A change typed in later but dated earlier lands between the two: April and May low-income.
        let april = try temporaryFile(header.replacingOccurrences(of: "银行账号", with: "银行账号,生效日期")
            + "\(person.value),测试,H-X,\(Fixtures.villageA1),low-income,weak,\(bank),2026-04-01\n")
        #expect(try json(world, ["person", "import", april]).stdout.contains("\"updated\":\"1\""))
        let history = try world.connection.query("""
            SELECT coalesce(lower(valid)::text, '-') || ' ' || coalesce((upper(valid) - 1)::text, '-') || ' ' || category AS v
            FROM person_version WHERE id_number = $1 ORDER BY lower(valid) NULLS FIRST
            """, [person.value]).map { $0["v"]! }
        #expect(history == ["- 2026-03-31 monitored", "2026-04-01 2026-05-31 low-income", "2026-06-01 - other"])
        // The hire rules read the facts on the contract start: a category of June refuses a hire from July.
        let later = try world.post()
        #expect(try csv(world, ["exit", "--person", person.value, "--on", "2026-06-30", "--reason", "no-longer-eligible"]).status == 0)
        let rehire = try csv(world, ["hire", "--post", later, "--person", person.value, "--start", "2026-07-01", "--end", "2026-12-31"])
        #expect(rehire.status == 1 && rehire.stderr.hasPrefix("error: [CATEGORY]"), "\(rehire.stderr)")
        #expect(try csv(world, ["journal", "verify"]).status == 0)
    }

    @Test func aPaymentIsJudgedAgainstTheAccountRegisteredOnItsDate() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let post = try world.post()
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        try runAndApprove(world, ["2026-01", "2026-02", "2026-03"])
        let old = try account(world, person), new = "6217000000000000456"
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity,bank_account,effective_from\n"
            + "\(person.value),测试,H1,\(Fixtures.villageA1),poverty-alleviated,weak,\(new),2026-03-15\n")
        #expect(try csv(world, ["person", "import", file]).status == 0)
        try pay(world, [(person, "2026-01", post, old, "1100.00", "2026-02-10"),
                        (person, "2026-02", post, old, "1100.00", "2026-03-10"),
                        (person, "2026-03", post, old, "1100.00", "2026-04-10")])
        #expect(try cases(world, "PAID_TO_OTHER_ACCOUNT", asOf: "2026-06-30") == ["\(person.value) \(post) 2026-04-10 2026-04-10 2026-03 110000"])
    }

    @Test func theHouseholdCapCountsHouseholdsAsTheyWereEachDay() throws {
        let world = try World()
        let working = try world.person(born: "1970-01-01", household: "H-A"), leaving = try world.person(born: "1975-05-05", household: "H-A")
        try world.hire(try world.post(), working, "2026-01-01", "2026-12-31")
        // `leaving` moved to a household of their own from 2026-03-01.
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity,effective_from\n"
            + "\(leaving.value),测试,H-B,\(Fixtures.villageA1),poverty-alleviated,weak,2026-03-01\n")
        #expect(try csv(world, ["person", "import", file]).status == 0)
        let post = try world.post()
        let february = try csv(world, ["hire", "--post", post, "--person", leaving.value, "--start", "2026-02-01", "--end", "2026-12-31"])
        #expect(february.status == 1 && february.stderr.hasPrefix("error: [HOUSEHOLD_CAP]"), "\(february.stderr)")
        #expect(try csv(world, ["hire", "--post", post, "--person", leaving.value, "--start", "2026-03-01", "--end", "2026-12-31"]).status == 0)
        #expect(try cases(world, "HOUSEHOLD_OVER_CAP", asOf: "2026-06-30") == [])
    }

    /// A township administrator records a change of facts from a date through the same import,
    /// under row-level security: the older values land in person_history, which its auditor reads.
    @Test func aTownshipRecordsHistoryOfItsOwnPersons() throws {
        let scene = try AccessTests.Scene()
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        let file = try temporaryFile("id_number,name,household_id,village_code,category,labour_capacity,effective_from\n"
            + "\(scene.personA2.value),测试,H-NEW,\(Fixtures.villageA2),low-income,half,2026-04-01\n")
        let imported = try scene.cli(admin, ["person", "import", file])
        #expect(imported.status == 0 && imported.stdout.contains("\"updated\":\"1\""), "\(imported.stdout) \(imported.stderr)")
        let shown = try scene.cli(admin, ["person", "show", scene.personA2.value, "--on", "2026-03-31"])
        #expect(shown.stdout.contains("\"labour_capacity\":\"weak\"") && shown.stdout.contains("\"facts_from\":null"), "\(shown.stdout)")
        let auditor = try scene.login("auditor", Fixtures.county)
        let read = try scene.psql(auditor, "SELECT count(*) FROM person_history")
        #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(read.stdout) \(read.stderr)")
        // Another township's administrator neither sees nor writes it.
        let other = try scene.login("township-admin", Fixtures.townshipB)
        #expect(try scene.psql(other, "SELECT count(*) FROM person_history").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let write = try scene.psql(other, "UPDATE person_history SET category = 'other'")
        #expect(write.stdout.isEmpty || write.status != 0)
        #expect(try scene.connection.query("SELECT category FROM person_history")[0]["category"] == "poverty-alleviated")
    }

    // MARK: Payments without a post

    @Test func aPersonWhoMovedPostsMidMonthPaidWithoutPostIDsIsPaidRight() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let first = try world.post(), second = try world.post()
        try world.hire(first, person, "2026-01-01", "2026-12-31")
        #expect(try csv(world, ["exit", "--person", person.value, "--on", "2026-01-15", "--reason", "resigned"]).status == 0)
        try world.hire(second, person, "2026-01-16", "2026-12-31")
        try runAndApprove(world, ["2026-01"])
        let booked = try world.connection.query("SELECT post_id, total_fen FROM payroll_line ORDER BY post_id").map { "\($0["post_id"]!) \($0["total_fen"]!)" }
        // 15 and 16 days of 31: 387.10 + 145.16 and 412.90 + 154.84.
        #expect(booked == ["\(first) 53226", "\(second) 56774"])
        let bank = try account(world, person)
        try pay(world, [(person, "2026-01", nil, bank, "532.26", "2026-02-10"), (person, "2026-01", nil, bank, "567.74", "2026-02-10")])
        let all = try Audit.violations(world.connection, Audit.Filter(asOf: day("2026-06-30"), from: Month(iso: "2026-01"), to: Month(iso: "2026-01")))
        #expect(all.filter { ["PAID_NOT_DUE", "DUPLICATE_PAYMENT", "UNDERPAID", "UNPAID_LATE"].contains($0["rule"] ?? "") }.isEmpty,
                "\(all.map { "\($0["rule"]!) \($0["amount_fen"] ?? "")" })")
        // One more payment without a post is one too many: a duplicate, and paid beyond what is booked.
        try pay(world, [(person, "2026-01", nil, bank, "100.00", "2026-02-20")])
        #expect(try cases(world, "DUPLICATE_PAYMENT", asOf: "2026-06-30") == ["\(person.value) - 2026-01-01 2026-01-31 2026-01 10000"])
        #expect(try cases(world, "PAID_NOT_DUE", asOf: "2026-06-30") == ["\(person.value) - 2026-01-01 2026-01-31 2026-01 10000"])
    }

    // sql/0031 groups what was booked and what was paid in one pass: a month paid without a post
    // still names the post where the person held one post in one county.
    @Test func anOverpaymentWithoutAPostNamesThePersonsOnlyPost() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let post = try world.post()
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        try runAndApprove(world, ["2026-01"])
        let total = try #require(Int(try world.connection.query("SELECT total_fen::text AS t FROM payroll_line")[0]["t"] ?? ""))
        let paid = total + 10000
        try pay(world, [(person, "2026-01", nil, try account(world, person), "\(paid / 100).\(String(format: "%02d", paid % 100))", "2026-02-10")])
        #expect(try cases(world, "PAID_NOT_DUE", asOf: "2026-06-30") == ["\(person.value) \(post) 2026-01-01 2026-01-31 2026-01 10000"])
        #expect(try cases(world, "UNDERPAID", asOf: "2026-06-30") == [])
    }

    // sql/0036 drops the groups paid exactly what was booked, but not those of a month paid
    // without a post: there the first post, paid exactly with its ID, still counts in the
    // person's month as a whole, and the case names no post (two were booked).
    @Test func aPostPaidExactlyStillCountsInAMonthPaidWithoutAPost() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let first = try world.post(), second = try world.post()
        try world.hire(first, person, "2026-01-01", "2026-12-31")
        _ = try Placements.exit(world.connection, person: person, on: day("2026-01-15"), reason: "resigned")
        try world.hire(second, person, "2026-01-16", "2026-12-31")
        try runAndApprove(world, ["2026-01"])
        // Booked 532.26 for the first post and 567.74 for the second; paid 532.26 for the first
        // and 667.74 without a post: 100.00 beyond the 1,100.00 booked for the month.
        try pay(world, [(person, "2026-01", first, try account(world, person), "532.26", "2026-02-10"),
                        (person, "2026-01", nil, try account(world, person), "667.74", "2026-02-10")])
        #expect(try cases(world, "PAID_NOT_DUE", asOf: "2026-06-30") == ["\(person.value) - 2026-01-01 2026-01-31 2026-01 10000"])
        #expect(try cases(world, "UNDERPAID", asOf: "2026-06-30") == [])
    }

    @Test func aShortPaymentWithoutAPostIsUnderpaidForThePerson() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let first = try world.post(), second = try world.post()
        try world.hire(first, person, "2026-01-01", "2026-12-31")
        _ = try Placements.exit(world.connection, person: person, on: day("2026-01-15"), reason: "resigned")
        try world.hire(second, person, "2026-01-16", "2026-12-31")
        try runAndApprove(world, ["2026-01"])
        try pay(world, [(person, "2026-01", nil, try account(world, person), "532.26", "2026-02-10"),
                        (person, "2026-01", nil, try account(world, person), "500.00", "2026-02-10")])
        #expect(try cases(world, "UNDERPAID", asOf: "2026-06-30") == ["\(person.value) - 2026-01-01 2026-01-31 2026-01 6774"])
        #expect(try cases(world, "UNPAID_LATE", asOf: "2026-06-30") == [])
    }

    // MARK: Money at stake, and one account of a death

    @Test func findingsAboutPeoplePutWhatWasBookedAtStake() throws {
        let world = try World()
        let pensioner = try world.person(born: "1970-01-01"), dead = try world.person(born: "1971-01-01")
        let old = try world.person(born: "1960-03-16")  // 66 on 2026-03-16: over the maximum age of 65 from then.
        let (p1, p2, p3) = (try world.post(), try world.post(), try world.post())
        try world.hire(p1, pensioner, "2026-01-01", "2026-12-31")
        try world.hire(p2, dead, "2026-01-01", "2026-12-31")
        try world.hire(p3, old, "2026-01-01", "2026-12-31")
        try runAndApprove(world, ["2026-01", "2026-02", "2026-03"])
        // Learnt in April: a pension from 16 March, a death on 16 March.
        _ = try Persons.setStatus(world.connection, id: pensioner, status: "pensioner", from: day("2026-03-16"), to: nil)
        _ = try Persons.setStatus(world.connection, id: dead, status: "deceased", from: day("2026-03-16"), to: nil)
        // March: 16 of 31 days of the 1,100.00 approved = 567.74; April (no payroll yet): the 1,100.00 due.
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-04-30") == ["\(pensioner.value) \(p1) 2026-03-16 2026-04-30 - 166774"])
        #expect(try cases(world, "OVER_AGE_IN_POST", asOf: "2026-04-30") == ["\(old.value) \(p3) 2026-03-16 2026-04-30 - 166774"])
        // Every month of the case approved (what is due is then not computed, sql/0026): the
        // share of March's booked 1,100.00 only, the days in post counted all the same.
        #expect(try cases(world, "OVER_AGE_IN_POST", asOf: "2026-03-31") == ["\(old.value) \(p3) 2026-03-16 2026-03-31 - 56774"])
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-03-31") == ["\(pensioner.value) \(p1) 2026-03-16 2026-03-31 - 56774"])
        // March was booked at 1,100.00 and 532.26 is due for the 15 days before the death: 567.74
        // booked after it (what April's run will take back); nothing is due for April.
        let deceased = try csv(world, ["audit", "violations", "--as-of", "2026-04-30", "--rule", "DECEASED_IN_POST"])
        let line = rows(deceased).first ?? ""
        #expect(line.contains(",\(p2),2026-03-16,2026-04-30,,567.74,\"died on 2026-03-16 and is still in post: record the exit dated 2026-03-15 (the last day in post, reason deceased) and recover 567.74 booked after the death"),
                "\(deceased.stdout)")
        // The death is recorded as the explanation says: the last day in post is the day before.
        let onDeath = try csv(world, ["exit", "--person", dead.value, "--on", "2026-03-16", "--reason", "deceased"])
        #expect(onDeath.status == 1 && onDeath.stderr.hasPrefix("error: [EXIT_AFTER_DEATH]") && onDeath.stderr.contains("2026-03-15"), "\(onDeath.stderr)")
        #expect(try csv(world, ["exit", "--person", dead.value, "--on", "2026-03-15", "--reason", "deceased"]).status == 0)
        #expect(try cases(world, "DECEASED_IN_POST", asOf: "2026-04-30") == [])
    }
}
