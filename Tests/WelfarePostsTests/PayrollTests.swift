import Foundation
import Postgres
import Testing
import TestSupport
@testable import WelfarePosts

@Suite("payroll")
struct PayrollTests {
    /// One person's story and what the month's line must say, in fen.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let month: String
        let start: String, end: String
        var renew: (start: String, end: String)? = nil
        var exit: String? = nil
        var assessment: (result: String, absent: Int)? = nil
        var newStandard: (from: String, monthly: Int64)? = nil
        var type = "cleaner"
        let days: Int, post: Int64, social: Int64
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "full 31-day month", month: "2026-01", start: "2026-01-01", end: "2026-12-31", days: 31, post: 80_000, social: 30_000),
        Case(name: "full 28-day month", month: "2026-02", start: "2026-01-01", end: "2026-12-31", days: 28, post: 80_000, social: 30_000),
        Case(name: "full 29-day month", month: "2024-02", start: "2024-01-01", end: "2024-12-31", days: 29, post: 80_000, social: 30_000),
        Case(name: "full 30-day month", month: "2026-04", start: "2026-01-01", end: "2026-12-31", days: 30, post: 80_000, social: 30_000),
        // 80000 × 16 / 31 = 41290.32; 30000 × 16 / 31 = 15483.87
        Case(name: "start on the 16th", month: "2026-01", start: "2026-01-16", end: "2026-12-31", days: 16, post: 41_290, social: 15_484),
        // 80000 × 10 / 31 = 25806.45; 30000 × 10 / 31 = 9677.42
        Case(name: "exit on the 10th", month: "2026-03", start: "2026-01-01", end: "2026-12-31", exit: "2026-03-10", days: 10, post: 25_806, social: 9_677),
        Case(name: "exit on the last day", month: "2026-04", start: "2026-01-01", end: "2026-12-31", exit: "2026-04-30", days: 30, post: 80_000, social: 30_000),
        // 16 days of 30: 42666.67 and 16000
        Case(name: "start and exit in the same month", month: "2026-06", start: "2026-06-05", end: "2026-12-31", exit: "2026-06-20", days: 16, post: 42_667, social: 16_000),
        // 10 days, a 3-day gap (11–13), then 18 days: 28 of 31 → 72258.06 and 27096.77
        Case(name: "a contract gap of 3 days", month: "2026-07", start: "2026-01-01", end: "2026-07-10", renew: ("2026-07-14", "2027-07-13"),
             days: 28, post: 72_258, social: 27_097),
        // 29 paid days of 31 for the post: 74838.71; social insurance on all 31
        Case(name: "absent days", month: "2026-08", start: "2026-01-01", end: "2026-12-31", assessment: ("pass", 2), days: 31, post: 74_839, social: 30_000),
        Case(name: "a failed assessment", month: "2026-09", start: "2026-01-01", end: "2026-12-31", assessment: ("fail", 0), days: 30, post: 0, social: 30_000),
        Case(name: "a pay standard that changes at a month start", month: "2026-10", start: "2026-01-01", end: "2026-12-31",
             newStandard: ("2026-10", 90_000), days: 31, post: 90_000, social: 30_000),
        Case(name: "the month before that change", month: "2026-09", start: "2026-01-01", end: "2026-12-31",
             newStandard: ("2026-10", 90_000), days: 30, post: 80_000, social: 30_000),
        // road-keeper at 800.01 + 0.15: 80001 × 15 / 30 = 40000.5 → 40001; 15 × 15 / 30 = 7.5 → 8
        Case(name: "half a fen rounds up", month: "2026-11", start: "2026-11-16", end: "2027-11-15", type: "road-keeper", days: 15, post: 40_001, social: 8),
    ]

    @Test(arguments: cases)
    func lineOfTheMonth(_ c: Case) throws {
        let world = try World()
        let db = world.connection
        _ = try Policy.setPay(db, region: Fixtures.county, type: "road-keeper", monthly: Fen(80_001), socialInsurance: Fen(15),
                              from: Month(iso: "2020-01")!)
        if let change = c.newStandard {
            _ = try Policy.setPay(db, region: Fixtures.county, type: "cleaner", monthly: Fen(change.monthly), socialInsurance: Fen(30_000),
                                  from: Month(iso: change.from)!)
        }
        let person = try world.person(born: "1970-01-01")
        try world.hire(try world.post(type: c.type), person, c.start, c.end)
        if let renew = c.renew {
            _ = try Placements.renew(db, person: person, start: Day(iso: renew.start)!, end: Day(iso: renew.end)!, kind: nil)
        }
        if let exit = c.exit { _ = try Placements.exit(db, person: person, on: Day(iso: exit)!, reason: "resigned") }
        if let a = c.assessment {
            _ = try Assessments.record(db, person: person, month: Month(iso: c.month)!, result: a.result, absentDays: a.absent)
        }
        _ = try Payroll.run(db, month: Month(iso: c.month)!, region: Fixtures.county)
        let lines = try db.query("SELECT days_in_post, post_subsidy_fen, social_insurance_fen, total_fen FROM payroll_line")
        #expect(lines.count == 1)
        #expect(lines.first?["days_in_post"] == String(c.days))
        #expect(lines.first?["post_subsidy_fen"] == String(c.post))
        #expect(lines.first?["social_insurance_fen"] == String(c.social))
        #expect(lines.first?["total_fen"] == String(c.post + c.social))
    }

    @Test func noPayAfterDeathEvenBeforeTheExitIsRecorded() throws {
        let world = try World()
        let person = try world.person(born: "1965-01-01")
        try world.hire(try world.post(), person, "2026-01-01", "2026-12-31")
        _ = try Persons.setStatus(world.connection, id: person, status: "deceased", from: Day(iso: "2026-03-11")!, to: nil)
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-03")!, region: nil)
        let line = try world.connection.query("SELECT days_in_post, total_fen FROM payroll_line")[0]
        #expect(line["days_in_post"] == "10")
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-04")!, region: nil)
        #expect(try world.connection.query("SELECT count(*) AS n FROM payroll_line WHERE month = '2026-04-01'")[0]["n"] == "0")
    }

    func lines(_ db: Connection) throws -> [String] {
        try db.query("""
            SELECT concat_ws(' ', to_char(month, 'YYYY-MM'), to_char(for_month, 'YYYY-MM'), kind, id_number, post_id, days_in_post,
                             post_subsidy_fen, social_insurance_fen, adjustment_fen, total_fen) AS l
            FROM payroll_line ORDER BY month, kind, for_month, id_number
            """).compactMap { $0["l"] }
    }

    @Test func runTwiceIsIdenticalAndApprovalLocks() throws {
        let world = try World()
        let db = world.connection
        for born in ["1970-01-01", "1971-01-01", "1972-01-01"] {
            try world.hire(try world.post(), try world.person(born: born), "2026-01-01", "2026-12-31")
        }
        _ = try Payroll.run(db, month: Month(iso: "2026-05")!, region: nil)
        let first = try lines(db)
        #expect(first.count == 3)
        _ = try Payroll.run(db, month: Month(iso: "2026-05")!, region: Fixtures.county)
        #expect(try lines(db) == first)
        #expect(try Payroll.approve(db, month: Month(iso: "2026-05")!, region: "32") == ["320321"])
        let refused = #expect(throws: AppError.self) { try Payroll.run(db, month: Month(iso: "2026-05")!, region: nil) }
        #expect(refused?.code == "PAYROLL_LOCKED")
        #expect(refused?.category == .rule)
        #expect(try lines(db) == first)
        // Not even a superuser's plain SQL changes an approved line.
        for sql in ["UPDATE payroll_line SET post_subsidy_fen = 1, total_fen = 1 + social_insurance_fen + adjustment_fen", "DELETE FROM payroll_line",
                    "INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen, total_fen) SELECT county_code, month, month, kind, id_number, post_id || 'x', 1, 1, 1, 2 FROM payroll_line LIMIT 1",
                    "UPDATE payroll_run SET state = 'draft'", "DELETE FROM payroll_run", "TRUNCATE payroll_line"] {
            let result = try runProcess("/usr/bin/psql", [world.database.conninfo, "-v", "ON_ERROR_STOP=1", "-c", sql])
            #expect(result.status != 0, "\(sql) was allowed")
            #expect(result.stderr.contains("approved and can never change"), "\(sql): \(result.stderr)")
        }
        #expect(try lines(db) == first)
        let cli = try welfarePosts(["payroll", "run", "2026-05"], on: world.database)
        #expect(cli.status == 1)
        #expect(cli.stderr.hasPrefix("error: [PAYROLL_LOCKED]"), "\(cli.stderr)")
    }

    @Test func lateExitBecomesNegativeAdjustmentsOnce() throws {
        let world = try World()
        let db = world.connection
        let leaver = try world.person(born: "1970-01-01"), stayer = try world.person(born: "1971-01-01")
        try world.hire(try world.post(), leaver, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), stayer, "2026-01-01", "2026-12-31")
        for month in ["2026-10", "2026-11"] {
            _ = try Payroll.run(db, month: Month(iso: month)!, region: nil)
            _ = try Payroll.approve(db, month: Month(iso: month)!, region: Fixtures.county)
        }
        // Recorded in December: the leaver's last day was 15 October.
        _ = try Placements.exit(db, person: leaver, on: Day(iso: "2026-10-15")!, reason: "resigned")
        let outcome = try Payroll.run(db, month: Month(iso: "2026-12")!, region: nil)
        #expect(outcome.adjustmentLines == 2)
        // The totals the run reports are those of the month's lines as written (sql/0035: counted
        // from the inserts themselves, not read back).
        let written = try db.query("""
            SELECT count(*) FILTER (WHERE kind = 'regular') AS regular, sum(total_fen) AS total, sum(adjustment_fen) AS adjustment
            FROM payroll_line WHERE month = '2026-12-01'
            """)[0]
        #expect(String(outcome.regularLines) == written["regular"] && String(outcome.totalFen) == written["total"]
                && String(outcome.adjustmentFen) == written["adjustment"] && outcome.adjustmentFen == -166774 && outcome.heldLines == 0,
                "\(outcome) \(written)")
        // October: paid 110000 for 31 days, due 15 days: 38710 + 14516 = 53226 → −56774. November: −110000.
        let adjustments = try db.query("""
            SELECT to_char(for_month, 'YYYY-MM') AS m, adjustment_fen FROM payroll_line
            WHERE kind = 'adjustment' AND id_number = $1 ORDER BY for_month
            """, [leaver.value]).map { "\($0["m"]!) \($0["adjustment_fen"]!)" }
        #expect(adjustments == ["2026-10 -56774", "2026-11 -110000"])
        // The overpayment exactly: what was approved minus what is due now.
        let overpaid = try db.query("""
            SELECT (SELECT sum(total_fen) FROM payroll_line WHERE id_number = $1 AND month IN ('2026-10-01', '2026-11-01'))
                 - (SELECT coalesce(sum(post_subsidy_fen + social_insurance_fen), 0) FROM payroll_due('2026-10-01', '2026-11-01') WHERE id_number = $1) AS o
            """, [leaver.value])[0]["o"]
        #expect(overpaid == "166774")
        #expect(try db.query("SELECT count(*) AS n FROM payroll_line WHERE month = '2026-12-01' AND id_number = $1 AND kind = 'regular'", [leaver.value])[0]["n"] == "0")
        let december = try lines(db)
        _ = try Payroll.run(db, month: Month(iso: "2026-12")!, region: nil)
        #expect(try lines(db) == december)
        // Approved, then January: nothing more to adjust.
        _ = try Payroll.approve(db, month: Month(iso: "2026-12")!, region: Fixtures.county)
        let january = try Payroll.run(db, month: Month(iso: "2027-01")!, region: nil)
        #expect(january.adjustmentLines == 0)
    }

    @Test func exportOpensAsASpreadsheet() throws {
        let world = try World()
        let db = world.connection
        let person = try world.person(born: "1970-01-01")
        let post = try world.post()
        try world.hire(post, person, "2026-01-16", "2026-12-31")
        _ = try Payroll.run(db, month: Month(iso: "2026-01")!, region: nil)
        let draft = try welfarePosts(["payroll", "export", "2026-01"], on: world.database)
        #expect(draft.status == 1)
        #expect(draft.stderr.hasPrefix("error: [PAYROLL_NOT_APPROVED]"))
        _ = try Payroll.approve(db, month: Month(iso: "2026-01")!, region: Fixtures.county)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).csv").path
        let result = try welfarePosts(["payroll", "export", "2026-01", "--lang", "zh", "--output", file], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        let bytes = Array(FileManager.default.contents(atPath: file)!)
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let rows = try parseCSV(String(decoding: bytes.dropFirst(3), as: UTF8.self))
        #expect(rows.first == ["发放月份", "县区代码", "乡镇", "村", "岗位编号", "岗位类型", "资金渠道", "姓名", "身份证号", "银行账号",
                               "在岗天数", "岗位补贴", "社保补贴", "补扣发", "合计"])
        #expect(rows.count == 2)
        let name = try db.query("SELECT name, bank_account FROM person WHERE id_number = $1", [person.value])[0]
        #expect(rows[1] == ["2026-01", "320321", "首羡镇", "首羡村", post, "保洁员", "就业补助资金", name["name"]!, person.value,
                            name["bank_account"]!, "16", "412.90", "154.84", "0.00", "567.74"])
        let english = try welfarePosts(["payroll", "export", "2026-01"], on: world.database)
        // (Foundation drops the byte-order mark when it decodes standard output; the file above kept it.)
        #expect(english.stdout.contains("month,county_code,township,village,post_id,post_type,funding_channel,name,id_number,bank_account,days_in_post,post_subsidy,social_insurance_subsidy,adjustment,total\n"))
        let summary = try welfarePosts(["payroll", "summary", "2026-01", "--format", "csv"], on: world.database)
        #expect(summary.stdout.contains("total,,,1,1,0.00,567.74"), "\(summary.stdout)")
        #expect(summary.stdout.contains("funding_channel,employment-fund,就业补助资金,1,1,0.00,567.74"), "\(summary.stdout)")
    }

    @Test func reconcileRecordsPaymentsOnce() throws {
        let world = try World()
        let db = world.connection
        let a = try world.person(born: "1970-01-01"), b = try world.person(born: "1971-01-01")
        try world.hire(try world.post(), a, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), b, "2026-01-01", "2026-12-31")
        _ = try Payroll.run(db, month: Month(iso: "2026-03")!, region: nil)
        _ = try Payroll.approve(db, month: Month(iso: "2026-03")!, region: Fixtures.county)
        let accounts = try db.query("SELECT id_number, bank_account FROM person ORDER BY id_number")
        let account = Dictionary(uniqueKeysWithValues: accounts.map { ($0["id_number"]!, $0["bank_account"]!) })
        let bank = "身份证号,银行账号,金额,发放日期\n\(a.value),\(account[a.value]!),1100.00,2026-04-10\n\(b.value),\(account[b.value]!),1100,2026-04-10\n"
        let file = try temporaryFile(bank)
        let result = try welfarePosts(["payroll", "reconcile", "2026-03", file, "--format", "json"], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        // A bank result pays a line to the fen (SPEC §15): a short amount is refused, see BankTests.
        #expect(result.stdout.contains("\"paid\":\"2200.00\",\"booked\":\"2200.00\",\"mismatches\":\"0\""), "\(result.stdout)")
        #expect(try db.query("SELECT count(*) AS n FROM disbursement WHERE month = '2026-03-01'")[0]["n"] == "2")
        let again = try welfarePosts(["payroll", "reconcile", "2026-03", file], on: world.database)
        #expect(again.status == 2)
        #expect(again.stderr.hasPrefix("error: [ALREADY_IMPORTED]"))
        let history = "id_number,month,post_id,bank_account,amount,paid_on\n\(a.value),2025-13,,123,abc,2025-12-40\n\(residentID(born: "1990-01-01", sequence: 1)),2025-12,320321-99999,6228480300000001,10,2026-01-05\n"
        let bad = try welfarePosts(["disbursement", "import", try temporaryFile(history)], on: world.database)
        #expect(bad.status == 2)
        for place in ["line 2, column 2 (month)", "line 2, column 4 (bank_account)", "line 2, column 5 (amount)", "line 2, column 6 (paid_on)",
                      "line 3, column 1 (id_number)", "line 3, column 3 (post_id)"] {
            #expect(bad.stderr.contains(place), "\(place) in \(bad.stderr)")
        }
        #expect(try db.query("SELECT count(*) AS n FROM disbursement")[0]["n"] == "2")
    }

    @Test func assessmentsAreForPeopleInPost() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), person, "2026-03-01", "2026-12-31")
        let early = #expect(throws: AppError.self) {
            _ = try Assessments.record(world.connection, person: person, month: Month(iso: "2026-02")!, result: "pass", absentDays: 0)
        }
        #expect(early?.code == "NOT_IN_POST")
        let tooMany = #expect(throws: AppError.self) {
            _ = try Assessments.record(world.connection, person: person, month: Month(iso: "2026-04")!, result: "pass", absentDays: 31)
        }
        #expect(tooMany?.category == .input)
        let file = try temporaryFile("身份证号,考核月份,考核结果,缺勤天数\n\(person.value),2026-04,不合格,\n\(person.value),2026-05,合格,3\n")
        let imported = try welfarePosts(["assessment", "import", file, "--format", "json"], on: world.database)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"inserted\":\"2\""))
        let again = try welfarePosts(["assessment", "import", file, "--format", "json"], on: world.database)
        #expect(again.stdout.contains("\"inserted\":\"0\",\"updated\":\"0\",\"unchanged\":\"2\""), "\(again.stdout)")
        let rows = try world.connection.query("SELECT to_char(month, 'YYYY-MM') AS m, result, absent_days FROM assessment ORDER BY month")
        #expect(rows.map { "\($0["m"]!) \($0["result"]!) \($0["absent_days"]!)" } == ["2026-04 fail 0", "2026-05 pass 3"])
    }

    /// A small RFC 4180 reader, as a spreadsheet would read the file.
    func parseCSV(_ text: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" || c == "\r\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
