import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Daily attendance and evidence of work (SPEC §14, issue 15) through the binary: the import,
/// what it does to the post subsidy (to the fen), held lines and their adjustments under each
/// evidence policy, and the audit rule PAID_WITHOUT_EVIDENCE. The World's cleaner earns 800.00
/// a month and 300.00 of social insurance.
@Suite("attendance and evidence")
struct EvidenceTests {
    func run(_ world: World, _ arguments: [String]) throws -> ProcessResult {
        try welfarePosts(arguments + ["--format", "json"], on: world.database)
    }

    @discardableResult
    func ok(_ world: World, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try run(world, arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// An attendance file: for each person, the days of a month from `first` to `last` with
    /// `status(day)` (nil leaves the day out).
    func attendance(_ rows: [(ResidentID, String, ClosedRange<Int>, (Int) -> String?)], chinese: Bool = false) throws -> String {
        var text = chinese ? "身份证号,日期,考勤状态\n" : "id_number,date,status\n"
        for (person, month, days, status) in rows {
            for day in days {
                guard let value = status(day) else { continue }
                text += "\(person.value),\(month)-\(day < 10 ? "0" : "")\(day),\(value)\n"
            }
        }
        return try temporaryFile(text)
    }

    /// A regular line's post subsidy, social insurance and held reason, in fen.
    func line(_ world: World, _ person: ResidentID, _ month: String) throws -> String {
        try world.connection.query("""
            SELECT post_subsidy_fen || '/' || social_insurance_fen || '/' || coalesce(held_reason, '-') AS l FROM payroll_line
            WHERE id_number = $1 AND month = $2::date AND kind = 'regular'
            """, [person.value, month + "-01"]).first?["l"] ?? "none"
    }

    func adjustment(_ world: World, _ person: ResidentID, paidWith month: String, for earlier: String) throws -> String {
        try world.connection.query("""
            SELECT coalesce(sum(adjustment_fen), 0) AS a FROM payroll_line
            WHERE id_number = $1 AND month = $2::date AND for_month = $3::date AND kind = 'adjustment'
            """, [person.value, month + "-01", earlier + "-01"])[0]["a"] ?? ""
    }

    @Test func absentDaysAndUnpaidLeaveComeFromAttendance() throws {
        let world = try World()
        let (a, b, c, d, e) = (try world.person(born: "1970-01-01"), try world.person(born: "1971-01-01"), try world.person(born: "1972-01-01"),
                               try world.person(born: "1973-01-01"), try world.person(born: "1974-01-01"))
        for person in [a, b, c, d, e] { try world.hire(try world.post(), person, "2026-03-01", "2026-12-31") }
        // Two leave days a month are paid from March.
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-03", "--paid-leave-days", "2"])
        let file = try attendance([
            // 3 absent, 4 leave (2 of them unpaid): 26 of 31 days paid.
            (a, "2026-03", 1...31, { $0 <= 3 ? "absent" : $0 <= 7 ? "leave" : "present" }),
            // Weekdays only, one absent: days the book leaves blank are neither absent nor paid less.
            (b, "2026-03", 1...31, { [1, 7, 8, 14, 15, 21, 22, 28, 29].contains($0) ? nil : $0 == 10 ? "缺勤" : "出勤" }),
            // Every day absent.
            (c, "2026-03", 1...31, { _ in "absent" }),
            // Present, but failed the month's assessment.
            (d, "2026-03", 1...31, { _ in "present" }),
        ])
        let imported = try ok(world, ["attendance", "import", file])
        #expect(imported.contains("\"rows\":\"115\",\"person_months\":\"4\",\"inserted\":\"4\""), "\(imported)")
        try ok(world, ["assess", "--person", d.value, "--month", "2026-03", "--result", "fail"])
        try ok(world, ["payroll", "run", "2026-03"])
        #expect(try line(world, a, "2026-03") == "67097/30000/-")   // 80000 × 26 / 31 = 67096.77
        #expect(try line(world, b, "2026-03") == "77419/30000/-")   // 80000 × 30 / 31 = 77419.35
        #expect(try line(world, c, "2026-03") == "0/30000/-")
        #expect(try line(world, d, "2026-03") == "0/30000/-")
        #expect(try line(world, e, "2026-03") == "80000/30000/-")   // no attendance, no policy: paid in full
        // Without paid leave, all four leave days count: 80000 × 24 / 31 = 61935.48.
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-03", "--paid-leave-days", "0"])
        try ok(world, ["payroll", "run", "2026-03"])
        #expect(try line(world, a, "2026-03") == "61935/30000/-")
        let shown = try ok(world, ["attendance", "show", "--person", a.value])
        #expect(shown.contains("\"month\":\"2026-03\",\"days\":\"AAALLLLPPPPPPPPPPPPPPPPPPPPPPPP\",\"present\":\"24\",\"absent\":\"3\",\"leave\":\"4\",\"unrecorded\":\"0\""), "\(shown)")
        // Where attendance is recorded, an assessment gives no absent days of its own.
        let refused = try run(world, ["assess", "--person", a.value, "--month", "2026-03", "--result", "pass", "--absent-days", "2"])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("error: [ATTENDANCE_RECORDED]"), "\(refused.stderr)")
        let file2 = try temporaryFile("id_number,month,result,absent_days\n\(b.value),2026-03,pass,1\n\(e.value),2026-03,pass,1\n")
        let refusedFile = try run(world, ["assessment", "import", file2])
        #expect(refusedFile.status == 2 && refusedFile.stderr.contains("line 2, column 4 (absent_days)") && !refusedFile.stderr.contains("line 3"),
                "\(refusedFile.stderr)")
        // And the other way round: attendance for a month whose assessment gives absent days.
        try ok(world, ["assess", "--person", e.value, "--month", "2026-04", "--result", "pass", "--absent-days", "2"])
        let late = try run(world, ["attendance", "import", try attendance([(e, "2026-04", 1...2, { _ in "present" })])])
        #expect(late.status == 2 && late.stderr.contains("line 2, column 1 (id_number): the assessment of 2026-04 gives 2 absent days"), "\(late.stderr)")
    }

    @Test func theImportListsEveryBadLineAndWritesNothing() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01"), idle = try world.person(born: "1971-01-01")
        try world.hire(try world.post(), person, "2026-03-10", "2026-12-31")
        try world.connection.query("UPDATE placement SET exit_on = '2026-03-20', exit_reason = 'resigned'")
        let unknown = residentID(born: "1980-01-01", sequence: 997)
        let bad = """
            id_number,date,status
            \(person.value),2026-03-10,present
            \(person.value),2026-03-09,present
            \(person.value),2026-03-11,present
            \(person.value),2026-03-11,absent
            \(person.value),2026-03-12,sick
            \(person.value),2026-03-32,present
            \(person.value),2026-03-21,leave
            \(idle.value),2026-03-15,present
            \(unknown),2026-03-15,present
            \(person.value),2099-03-13,present
            \(person.value),2026-03-13,present
            \(person.value),2026-03-13,present

            """
        let result = try run(world, ["attendance", "import", try temporaryFile(bad)])
        #expect(result.status == 2, "\(result.stderr)")
        for place in ["line 3, column 2 (date): this person is not in a placement on this day",
                      "line 5, column 3 (status): two statuses for one day: line 4 says present on 2026-03-11, this line absent",
                      "line 6, column 3 (status): unknown attendance status 'sick'",
                      "line 7, column 2 (date): '2026-03-32' is not a date",
                      "line 8, column 2 (date): this person is not in a placement",
                      "line 9, column 2 (date): this person is not in a placement",
                      "line 10, column 1 (id_number): no person with this resident ID is registered",
                      "line 11, column 2 (date): 2099-03-13 is in the future",
                      "line 13, column 2 (date): this person's attendance on 2026-03-13 is already on line 12"] {
            #expect(result.stderr.contains(place), "\(place): \(result.stderr)")
        }
        for fine in ["line 2,", "line 4,", "line 12,"] { #expect(!result.stderr.contains("  \(fine)"), "\(fine) \(result.stderr)") }
        #expect(try world.connection.query("SELECT count(*) AS n FROM attendance")[0]["n"] == "0")
        // Week by week: a later file fills in its days and keeps the others; the same file again changes nothing.
        let first = try attendance([(person, "2026-03", 10...14, { _ in "present" })])
        let dry = try ok(world, ["attendance", "import", first, "--dry-run"])
        #expect(dry.contains("\"inserted\":\"1\"") && dry.contains("\"dry_run\":\"true\""), "\(dry)")
        #expect(try world.connection.query("SELECT count(*) AS n FROM attendance")[0]["n"] == "0")
        try ok(world, ["attendance", "import", first])
        let second = try attendance([(person, "2026-03", 14...20, { $0 == 14 ? "absent" : "present" })], chinese: true)
        #expect(try ok(world, ["attendance", "import", second]).contains("\"updated\":\"1\""))
        #expect(try ok(world, ["attendance", "import", second]).contains("\"unchanged\":\"1\""))
        #expect(try world.connection.query("SELECT days FROM attendance")[0]["days"] == "---------PPPPAPPPPPP-----------")
    }

    /// A county that requires no evidence in March, assessments in April and attendance in May.
    @Test func heldLinesUnderEachPolicyArePaidByAdjustmentWhenTheEvidenceArrives() throws {
        let world = try World()
        let a = try world.person(born: "1970-01-01"), b = try world.person(born: "1971-01-01")
        try world.hire(try world.post(), a, "2026-03-01", "2026-12-31")
        try world.hire(try world.post(), b, "2026-03-01", "2026-12-31")
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-04", "--require", "assessment"])
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-05", "--require", "attendance"])
        let shown = try ok(world, ["policy", "show", "--region", Fixtures.villageA1, "--on", "2026-04-15"])
        #expect(shown.contains("{\"kind\":\"evidence\",\"item\":\"require\",\"value\":\"assessment\""), "\(shown)")
        // March: none required, nothing recorded, both paid in full.
        try ok(world, ["payroll", "run", "2026-03"])
        #expect(try line(world, a, "2026-03") == "80000/30000/-" && line(world, b, "2026-03") == "80000/30000/-")
        try ok(world, ["payroll", "approve", "2026-03", "--region", "320321"])
        // April: assessments required; b has none and is held (social insurance still paid).
        try ok(world, ["assess", "--person", a.value, "--month", "2026-04", "--result", "pass"])
        let april = try ok(world, ["payroll", "run", "2026-04"])
        #expect(april.contains("\"held_lines\":\"1\"") && april.contains("\"total\":\"1400.00\""), "\(april)")
        #expect(try line(world, a, "2026-04") == "80000/30000/-")
        #expect(try line(world, b, "2026-04") == "0/30000/assessment-missing")
        let held = try welfarePosts(["payroll", "held", "2026-04", "--format", "csv", "--lang", "zh"], on: world.database)
        #expect(held.stdout.contains(",30,300.00,未登记考核"), "\(held.stdout)")
        try ok(world, ["payroll", "approve", "2026-04", "--region", "320321"])
        // The evidence arrives late; May requires attendance: a has it, b not (held again).
        try ok(world, ["assess", "--person", b.value, "--month", "2026-04", "--result", "pass"])
        try ok(world, ["attendance", "import", try attendance([(a, "2026-05", 1...31, { $0 == 5 ? "absent" : "present" })])])
        let may = try ok(world, ["payroll", "run", "2026-05"])
        #expect(may.contains("\"adjustment_lines\":\"1\",\"held_lines\":\"1\""), "\(may)")
        #expect(try line(world, a, "2026-05") == "77419/30000/-")   // 80000 × 30 / 31
        #expect(try line(world, b, "2026-05") == "0/30000/attendance-missing")
        #expect(try adjustment(world, b, paidWith: "2026-05", for: "2026-04") == "80000")
        #expect(try adjustment(world, a, paidWith: "2026-05", for: "2026-04") == "0")
        // A failed assessment arriving for a held month keeps it at zero: no adjustment.
        try ok(world, ["payroll", "approve", "2026-05", "--region", "320321"])
        try ok(world, ["assess", "--person", b.value, "--month", "2026-05", "--result", "fail"])
        try ok(world, ["attendance", "import", try attendance([(b, "2026-05", 1...31, { _ in "present" })])])
        try ok(world, ["payroll", "run", "2026-06"])
        #expect(try adjustment(world, b, paidWith: "2026-06", for: "2026-05") == "0")
        #expect(try line(world, b, "2026-06") == "0/30000/attendance-missing")
    }

    @Test func paidWithoutEvidenceIsFoundByTheAudit() throws {
        let world = try World()
        let absent = try world.person(born: "1970-01-01"), present = try world.person(born: "1971-01-01")
        let unrecorded = try world.person(born: "1972-01-01"), untouched = try world.person(born: "1973-01-01")
        let posts = try (0..<4).map { _ in try world.post() }
        for (post, person) in zip(posts, [absent, present, unrecorded, untouched]) { try world.hire(post, person, "2026-03-01", "2026-12-31") }
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-04", "--require", "attendance"])
        try ok(world, ["attendance", "import", try attendance([
            (absent, "2026-03", 1...31, { _ in "absent" }), (present, "2026-03", 1...31, { $0 == 1 ? "present" : "absent" }),
            (absent, "2026-04", 1...30, { _ in "present" }), (present, "2026-04", 1...30, { _ in "present" }),
        ])])
        // Payroll booked both months (a held line pays the social-insurance subsidy only); the bank
        // paid everyone in full, post subsidy too.
        try ok(world, ["payroll", "run", "2026-03"])
        try ok(world, ["payroll", "run", "2026-04"])
        let accounts = try world.connection.query("SELECT id_number, bank_account FROM person")
        var csv = "id_number,month,bank_account,amount,paid_on\n"
        for row in accounts {
            for month in ["2026-03", "2026-04"] { csv += "\(row["id_number"]!),\(month),\(row["bank_account"]!),1100.00,\(month == "2026-03" ? "2026-04-10" : "2026-05-10")\n" }
        }
        try ok(world, ["disbursement", "import", try temporaryFile(csv)])
        let report = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--rule", "PAID_WITHOUT_EVIDENCE", "--format", "csv",
                                       "--reveal"], on: world.database)
        #expect(report.status == 0, "\(report.stderr)")
        let cases = report.stdout.split(separator: "\n").dropFirst()
        #expect(cases.count == 3, "\(report.stdout)")
        // March: attendance shows no day at work. April: attendance required and none recorded.
        #expect(cases.contains { $0.contains(absent.value) && $0.contains(",2026-03,800.00,\"paid 1100.00 for 2026-03 (800.00 beyond the social-insurance subsidy), a month in which the attendance shows no day at work (31 days recorded, none present)") },
                "\(report.stdout)")
        for person in [unrecorded, untouched] {
            #expect(cases.contains { $0.contains(person.value) && $0.contains(",2026-04,800.00,paid 1100.00 for 2026-04 (800.00 beyond the social-insurance subsidy) without the attendance the county requires") },
                    "\(report.stdout)")
        }
        #expect(!cases.contains { $0.contains(present.value) })
        #expect(cases.allSatisfy { $0.hasPrefix("PAID_WITHOUT_EVIDENCE,") && $0.hasSuffix("人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为") })
        let zh = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--rule", "PAID_WITHOUT_EVIDENCE", "--format", "csv",
                                   "--lang", "zh"], on: world.database)
        #expect(zh.stdout.contains("2026-03 考勤无一日出勤（登记 31 天，出勤 0 天）却发放 1100.00 元（社保补贴之外 800.00 元）"), "\(zh.stdout)")
        // Paid only what a held line booked (the social-insurance subsidy): no case.
        let held = try world.person(born: "1974-01-01")
        try world.hire(try world.post(), held, "2026-03-01", "2026-12-31")
        try ok(world, ["payroll", "run", "2026-04"])
        let account = try world.connection.query("SELECT bank_account FROM person WHERE id_number = $1", [held.value])[0]["bank_account"]!
        try ok(world, ["disbursement", "import", try temporaryFile("id_number,month,bank_account,amount,paid_on\n\(held.value),2026-04,\(account),300.00,2026-05-10\n")])
        // The whole report finds it beside the other rules, and so does the summary.
        let all = try welfarePosts(["audit", "summary", "--as-of", "2026-06-30", "--format", "csv"], on: world.database)
        #expect(all.stdout.contains("PAID_WITHOUT_EVIDENCE,total,,3,2400.00"), "\(all.stdout)")
        try world.connection.execute("SET welfare_posts.as_of = '2026-06-30'")
        #expect(try world.connection.query("SELECT count(*) AS n FROM audit_violation WHERE rule = 'PAID_WITHOUT_EVIDENCE'")[0]["n"] == "3")
    }

    /// A township records the attendance of its posts' holders, and refuses another township's.
    @Test func aTownshipRecordsTheAttendanceOfItsOwnHoldersOnly() throws {
        let scene = try AccessTests.Scene()
        let admin = try scene.login("township-admin", Fixtures.townshipA)
        let own = try attendance([(scene.personA2, "2026-03", 1...31, { _ in "present" })])
        let other = try attendance([(scene.personA2, "2026-04", 1...30, { _ in "present" }), (scene.personB, "2026-04", 1...30, { _ in "present" })])
        _ = try scene.expectOK(admin, ["attendance", "import", own])
        let refused = try scene.cli(admin, ["attendance", "import", other])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("error: [OUTSIDE_REGION] 30 row(s)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 32, column 1 (id_number): this person is registered in another region"), "\(refused.stderr)")
        #expect(try scene.connection.query("SELECT count(*) AS n FROM attendance")[0]["n"] == "1")
        let psql = try scene.psql(admin, "SELECT count(*) FROM attendance")
        #expect(psql.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(psql)")
        let other2 = try scene.login("township-admin", Fixtures.townshipB)
        let hidden = try scene.psql(other2, "SELECT count(*) FROM attendance")
        #expect(hidden.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(hidden)")
        // Evidence policy is the county's.
        try scene.expectRefused(admin, ["policy", "evidence", "--region", "320321", "--from", "2026-05", "--require", "attendance"], ["PERMISSION_DENIED"])
        let county = try scene.login("county-admin", Fixtures.county)
        _ = try scene.expectOK(county, ["policy", "evidence", "--region", "320321", "--from", "2026-05", "--require", "attendance"])
    }

    /// sql/0019_3's definition of what is due (payroll_due_worked of sql/0017d, payroll_evidence
    /// and the wrapper over both), as it was before sql/0024 folded the evidence into one pass:
    /// the reference the new definition must equal, row for row. One fix: it cut a contract's
    /// part of the month's attendance before dropping the empty ones, so attendance in a month
    /// after a death (the placement still open) failed the whole query with "negative substring
    /// length"; the new definition counts nothing there, and so does this copy.
    static let definitionBefore = """
        CREATE FUNCTION pg_temp.old_worked(from_month date, to_month date, county_prefix text, persons text[])
        RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int, post_subsidy_fen bigint, social_insurance_fen bigint,
                       post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint) LANGUAGE sql STABLE AS $$
        WITH months AS (
            SELECT m::date AS first, (m + interval '1 month' - interval '1 day')::date AS last,
                   extract(day FROM m + interval '1 month' - interval '1 day')::int AS days
            FROM generate_series(from_month, to_month, interval '1 month') m
          ), deaths AS (
            SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
            WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix AND (persons IS NULL OR s.id_number = ANY (persons))
            GROUP BY s.id_number
          ), worked AS (
            SELECT pl.id AS placement_id, pl.county_code, pl.post_id, pl.id_number, m.first, m.days,
                   sum(greatest(0, least(c.end_on, coalesce(pl.exit_on, c.end_on), m.last, coalesce(d.died_on - 1, c.end_on))
                                   - greatest(c.start_on, pl.start_on, m.first) + 1))::int AS days_in_post
            FROM placement pl
            JOIN contract c ON c.placement_id = pl.id
            JOIN months m ON c.start_on <= m.last AND c.end_on >= m.first
                         AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
            LEFT JOIN deaths d ON d.id_number = pl.id_number
            WHERE pl.county_code ^@ county_prefix AND (persons IS NULL OR pl.id_number = ANY (persons))
            GROUP BY pl.id, m.first, m.days
          ), standards AS (
            SELECT k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
            FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code ^@ county_prefix) k
            CROSS JOIN months m
            CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, m.first) s
          )
          SELECT w.county_code, w.first, w.id_number, w.post_id, sum(w.days_in_post)::int,
                 sum(CASE WHEN a.result = 'fail' THEN 0
                          ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END)::bigint,
                 sum((2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days))::bigint,
                 max(s.monthly_fen), max(s.social_insurance_fen)
          FROM worked w
          JOIN post p ON p.id = w.post_id
          LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
          LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
          WHERE w.days_in_post > 0
          GROUP BY w.county_code, w.first, w.id_number, w.post_id;
        $$;
        CREATE FUNCTION pg_temp.old_evidence(from_month date, to_month date, county_prefix text)
        RETURNS TABLE (county_code text, month date, id_number text, post_id text, post_type text,
                       recorded_days int, present_days int, absent_days int, leave_days int) LANGUAGE sql STABLE AS $$
        WITH deaths AS (
            SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
            WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix GROUP BY s.id_number
          ), segments AS (
            SELECT x.county_code, x.month, x.id_number, x.post_id, x.part
            FROM (
              SELECT y.county_code, y.month, y.id_number, y.post_id, y.first, y.last, substr(y.days, y.first, greatest(0, y.last - y.first + 1)) AS part
              FROM (
              SELECT pl.county_code, a.month, a.id_number, pl.post_id, a.days,
                     greatest(c.start_on, pl.start_on, a.month) - a.month + 1 AS first,
                     least(c.end_on, coalesce(pl.exit_on, c.end_on), (a.month + interval '1 month' - interval '1 day')::date,
                           coalesce(d.died_on - 1, c.end_on)) - a.month + 1 AS last
              FROM attendance a
              JOIN placement pl ON pl.id_number = a.id_number
               AND pl.start_on < (a.month + interval '1 month')::date AND (pl.exit_on IS NULL OR pl.exit_on >= a.month)
              JOIN contract c ON c.placement_id = pl.id AND c.start_on < (a.month + interval '1 month')::date AND c.end_on >= a.month
              LEFT JOIN deaths d ON d.id_number = a.id_number
              WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix
                AND pl.county_code ^@ county_prefix
              OFFSET 0) y
              OFFSET 0) x
            WHERE x.last >= x.first
          )
          SELECT s.county_code, s.month, s.id_number, s.post_id, min(p.post_type),
                 sum(length(replace(s.part, '-', '')))::int,
                 sum(length(s.part) - length(replace(s.part, 'P', '')))::int,
                 sum(length(s.part) - length(replace(s.part, 'A', '')))::int,
                 sum(length(s.part) - length(replace(s.part, 'L', '')))::int
          FROM segments s JOIN post p ON p.id = s.post_id
          GROUP BY s.county_code, s.month, s.id_number, s.post_id;
        $$;
        CREATE FUNCTION pg_temp.old_due(from_month date, to_month date, county_prefix text, persons text[])
        RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
                       post_subsidy_fen bigint, social_insurance_fen bigint,
                       post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint, held_reason text) LANGUAGE sql STABLE AS $$
        WITH evidence AS (
            SELECT * FROM pg_temp.old_evidence(from_month, to_month, county_prefix)
          ), policy AS (
            SELECT k.county_code, m.m::date AS month, e.require, e.paid_leave_days
            FROM (SELECT r.county_code FROM region r WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
            CROSS JOIN generate_series(from_month, to_month, interval '1 month') m
            CROSS JOIN LATERAL evidence_on(k.county_code || '000000', m.m::date) e
          ), assessed AS (
            SELECT pl.county_code, a.month, pl.id_number, pl.post_id, bool_or(a.result = 'fail') AS failed
            FROM assessment a JOIN placement pl ON pl.id = a.placement_id
            WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix
              AND (EXISTS (SELECT 1 FROM evidence) OR EXISTS (SELECT 1 FROM policy WHERE policy.require = 'assessment'))
            GROUP BY pl.county_code, a.month, pl.id_number, pl.post_id
          ), standards AS (
            SELECT k.county_code, k.post_type, k.month, s.monthly_fen
            FROM (SELECT DISTINCT e.county_code, e.post_type, e.month FROM evidence e) k
            CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, k.month) s
          )
          SELECT d.county_code, d.month, d.id_number, d.post_id, d.days_in_post,
                 CASE WHEN h.reason IS NOT NULL THEN 0
                      WHEN e.recorded_days > 0 AND a.failed IS NOT TRUE
                        THEN (2 * coalesce(s.monthly_fen, 0)
                                * greatest(0, d.days_in_post - e.absent_days - greatest(0, e.leave_days - coalesce(p.paid_leave_days, 0))) + m.days)
                             / (2 * m.days)
                      ELSE d.post_subsidy_fen END::bigint,
                 d.social_insurance_fen, d.post_subsidy_standard_fen, d.social_insurance_standard_fen, h.reason
          FROM pg_temp.old_worked(from_month, to_month, county_prefix, persons) d
          LEFT JOIN policy p ON p.county_code = d.county_code AND p.month = d.month
          LEFT JOIN evidence e ON e.county_code = d.county_code AND e.month = d.month AND e.id_number = d.id_number AND e.post_id = d.post_id
          LEFT JOIN assessed a ON a.county_code = d.county_code AND a.month = d.month AND a.id_number = d.id_number AND a.post_id = d.post_id
          LEFT JOIN standards s ON s.county_code = e.county_code AND s.post_type = e.post_type AND s.month = e.month
          CROSS JOIN LATERAL (SELECT extract(day FROM d.month + interval '1 month' - interval '1 day')::int AS days) m
          CROSS JOIN LATERAL (SELECT CASE WHEN p.require = 'assessment' AND a.county_code IS NULL THEN 'assessment-missing'
                                          WHEN p.require = 'attendance' AND coalesce(e.recorded_days, 0) = 0 THEN 'attendance-missing'
                                     END AS reason) h;
        $$;
        """

    /// Ten persons hired in March 2026 with every kind of month: a start and an exit mid-month,
    /// two contracts in a month, the same post held twice in a month (ids[8]: exited on the 10th,
    /// hired again on the 21st), a death (ids[4], the 25th), a failed assessment (ids[5]) and
    /// assessments with absent days (ids[6], ids[9]).
    static func everyKindOfMonth(_ world: World) throws -> [ResidentID] {
        let db = world.connection
        let people = try (0..<10).map { try world.person(born: "19\(70 + $0)-01-01") }
        for (i, person) in people.enumerated() {
            try world.hire(try world.post(), person, i == 1 ? "2026-03-10" : "2026-03-01", i == 2 ? "2026-03-15" : "2026-12-31")
        }
        let ids = people.map(\.value)
        try db.execute("""
            INSERT INTO contract (county_code, placement_id, start_on, end_on)
            SELECT county_code, id, '2026-03-16', '2026-12-31' FROM placement WHERE id_number = '\(ids[2])';
            UPDATE placement SET exit_on = '2026-03-20', exit_reason = 'resigned' WHERE id_number = '\(ids[3])';
            UPDATE placement SET exit_on = '2026-03-10', exit_reason = 'resigned' WHERE id_number = '\(ids[8])';
            UPDATE contract SET end_on = '2026-03-10' WHERE placement_id = (SELECT id FROM placement WHERE id_number = '\(ids[8])');
            INSERT INTO placement (county_code, post_id, id_number, start_on)
            SELECT county_code, post_id, id_number, '2026-03-21' FROM placement WHERE id_number = '\(ids[8])';
            INSERT INTO contract (county_code, placement_id, start_on, end_on)
            SELECT county_code, id, '2026-03-21', '2026-12-31' FROM placement WHERE id_number = '\(ids[8])' AND start_on = '2026-03-21';
            INSERT INTO assessment (county_code, placement_id, month, result, absent_days)
            SELECT county_code, id, '2026-03-01', 'fail', 0 FROM placement WHERE id_number = '\(ids[5])';
            INSERT INTO assessment (county_code, placement_id, month, result, absent_days)
            SELECT county_code, id, m::date, 'pass', 2 FROM placement CROSS JOIN generate_series(date '2026-03-01', date '2026-05-01', interval '1 month') m
            WHERE id_number IN ('\(ids[6])', '\(ids[9])');
            """)
        _ = try Persons.setStatus(db, id: people[4], status: "deceased", from: Day(iso: "2026-03-25")!, to: nil)
        return people
    }

    /// The rows of `payroll_due` (sql/0024: one pass, and no evidence work at all where none is
    /// recorded or required) against the definition before it, over months with every kind of
    /// case: attendance with absences, leave and blank days, starts and exits mid-month, two
    /// contracts in a month, a death, a failed and an absent-days assessment, the same post held
    /// twice in a month, paid leave, and a policy that requires attendance or assessments.
    @Test func whatIsDueEqualsTheDefinitionBeforeWithAndWithoutEvidence() throws {
        let world = try World()
        let db = world.connection
        let people = try Self.everyKindOfMonth(world)
        let ids = people.map(\.value)
        try db.execute(Self.definitionBefore)
        func differences(_ from: String, _ to: String) throws -> String {
            try db.query("""
                SELECT (SELECT count(*) FROM payroll_due($1::date, $2::date, '320321')) || '/' ||
                       (SELECT count(*) FROM (SELECT * FROM payroll_due($1::date, $2::date, '320321')
                                              EXCEPT ALL SELECT * FROM pg_temp.old_due($1::date, $2::date, '320321', NULL)) x) || '/' ||
                       (SELECT count(*) FROM (SELECT * FROM pg_temp.old_due($1::date, $2::date, '320321', NULL)
                                              EXCEPT ALL SELECT * FROM payroll_due($1::date, $2::date, '320321')) y) || '/' ||
                       (SELECT count(*) FROM (SELECT * FROM payroll_due($1::date, $2::date, '320321', $3::text[])
                                              EXCEPT ALL SELECT * FROM pg_temp.old_due($1::date, $2::date, '320321', $3::text[])) z) AS d
                """, [from + "-01", to + "-01", "{\(ids[2]),\(ids[8])}"])[0]["d"] ?? ""
        }
        // Nothing recorded or required: the lines without any evidence work.
        do { let d = try differences("2026-03", "2026-05"); #expect(d == "26/0/0/0", "\(d)") }
        #expect(try db.query("SELECT count(*) AS n FROM payroll_due('2026-03-01', '2026-05-01', '320321') WHERE held_reason IS NOT NULL")[0]["n"] == "0")
        // Attendance in March and April, two leave days a month paid.
        try db.execute("""
            INSERT INTO attendance (county_code, id_number, month, days)
            SELECT '320321', p, m::date, left(CASE WHEN m = '2026-03-01' THEN d.march ELSE d.april END,
                                             extract(day FROM m + interval '1 month' - interval '1 day')::int)
            FROM unnest(ARRAY['\(ids[0])', '\(ids[1])', '\(ids[2])', '\(ids[3])', '\(ids[4])', '\(ids[5])', '\(ids[8])'],
                        ARRAY['AAALLLLPPPPPPPPPPPPPPPPPPPPPPPP', 'PPPPPPPPPAAPLLLPPPPPPPPPPPPPPPP', 'PPPPPPPPPPPPPPAAPPPPPPPPPPLLLPP',
                              'PPPP--PPPPPPAPPPPPPPAAAAAAAAAAA', 'PPPPPPPPPPPPPPPPPPPPPPPPAAAAAAA', 'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP',
                              'PPPPPPPPPAAAAAAAAAALLLLPPPPPPPP'],
                        ARRAY['PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '-------------------------------',
                              'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP', 'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP', 'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL',
                              'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPL']) AS d(p, march, april)
            CROSS JOIN generate_series(date '2026-03-01', date '2026-04-01', interval '1 month') m
            """)
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-03", "--paid-leave-days", "2"])
        do { let d = try differences("2026-03", "2026-05"); #expect(d == "26/0/0/0", "\(d)") }
        #expect(try line(world, people[0], "2026-03") == "none")
        try ok(world, ["payroll", "run", "2026-03"])
        #expect(try line(world, people[0], "2026-03") == "67097/30000/-")   // 80000 × 26 / 31
        // Attendance required from April, assessments from May: lines held where there is none.
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-04", "--require", "attendance"])
        try ok(world, ["policy", "evidence", "--region", "320321", "--from", "2026-05", "--require", "assessment"])
        do { let d = try differences("2026-03", "2026-05"); #expect(d == "26/0/0/0", "\(d)") }
        let held = try db.query("""
            SELECT string_agg(to_char(month, 'MM') || ':' || held_reason, ',' ORDER BY month, held_reason) AS h
            FROM (SELECT month, held_reason FROM payroll_due('2026-03-01', '2026-05-01', '320321') WHERE held_reason IS NOT NULL
                  GROUP BY month, held_reason) x
            """)[0]["h"]
        #expect(held == "04:attendance-missing,05:assessment-missing")
    }

    /// The audit's payment half books for each person, month and post what the payroll booked
    /// (sql/0042: what is due summed per placement where no evidence of work counts, payroll_due's
    /// lines where it does). With months approved and nothing paid, every line with money is an
    /// UNPAID_LATE case of exactly its total: the same post held twice in a month, a failed
    /// assessment, a death, then attendance with absent days.
    @Test func theAuditBooksWhatThePayrollBookedWithAndWithoutEvidence() throws {
        let world = try World()
        let db = world.connection
        let people = try Self.everyKindOfMonth(world)
        func compare(_ months: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let report = try welfarePosts(["audit", "violations", "--as-of", "2026-12-31", "--rule", "UNPAID_LATE", "--format", "csv", "--reveal"],
                                          on: world.database)
            #expect(report.status == 0, "\(report.stderr)", sourceLocation: sourceLocation)
            let cases = report.stdout.split(separator: "\n").dropFirst().map { line in
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                return "\(cells[4]),\(cells[9]),\(cells[10])"
            }.sorted()
            let booked = try db.query("""
                SELECT id_number || ',' || to_char(month, 'YYYY-MM') || ',' || yuan_text(total_fen) AS l FROM payroll_line
                WHERE kind = 'regular' AND total_fen > 0 AND to_char(month, 'YYYY-MM') = ANY ($1::text[]) ORDER BY 1
                """, ["{\(months.joined(separator: ","))}"]).map { $0["l"] ?? "" }
            #expect(cases.count == booked.count && cases == booked.sorted(), "\(cases) against \(booked)", sourceLocation: sourceLocation)
        }
        for month in ["2026-03", "2026-04"] {
            try ok(world, ["payroll", "run", month])
            try ok(world, ["payroll", "approve", month, "--region", "320321"])
        }
        // ids[8] held the same post twice in March: one line, both placements' days.
        #expect(try db.query("SELECT days_in_post FROM payroll_line WHERE id_number = $1 AND month = '2026-03-01'",
                             [people[8].value]).map { $0["days_in_post"] ?? "" } == ["21"])
        try compare(["2026-03", "2026-04"])
        // Attendance for May with absent days: the month's amounts are no sum of placements'.
        try db.execute("""
            INSERT INTO attendance (county_code, id_number, month, days)
            VALUES ('320321', '\(people[0].value)', '2026-05-01', 'AAAAAAAAAAPPPPPPPPPPPPPPPPPPPPP'),
                   ('320321', '\(people[8].value)', '2026-05-01', 'PPPPPPPPPPAAAAAAAAAAPPPPPPPPPPP')
            """)
        try ok(world, ["payroll", "run", "2026-05"])
        try ok(world, ["payroll", "approve", "2026-05", "--region", "320321"])
        #expect(try line(world, people[0], "2026-05") == "54194/30000/-")   // 80000 × 21 / 31
        try compare(["2026-03", "2026-04", "2026-05"])
    }
}
