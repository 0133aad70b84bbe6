import Foundation
import Postgres
import Testing
import TestSupport
@testable import WelfarePosts

/// Each rule of SPEC §7: a planted case that must be reported exactly (rule, person, post,
/// days or month, amount), beside a near miss that must not be.
@Suite("audit rules")
struct AuditTests {
    /// The cases of one rule as `ID POST FROM TO MONTH AMOUNT` lines (empty fields as `-`).
    func cases(_ world: World, _ rule: String, asOf: String, from: String? = nil, to: String? = nil) throws -> [String] {
        try Audit.violations(world.connection, Audit.Filter(asOf: Day(iso: asOf)!, from: from.flatMap { Month(iso: $0) },
                                                            to: to.flatMap { Month(iso: $0) }, rule: rule)).map { row in
            #expect(row["rule"] == rule)
            #expect(row["basis"]?.isEmpty == false)
            #expect(row["explanation"]?.isEmpty == false && row["explanation_zh"]?.isEmpty == false)
            return [row["id_number"], row["post_id"], row["from_on"], row["to_on"], row["month"], row["amount_fen"]]
                .map { $0 ?? "-" }.joined(separator: " ")
        }
    }

    func day(_ text: String) -> Day { Day(iso: text)! }

    /// Records payments as the bank reported them (a history file: one row per payment).
    func pay(_ world: World, _ payments: [(person: ResidentID, month: String, post: String?, amount: String, on: String, account: String?)]) throws {
        var csv = "id_number,month,post_id,bank_account,amount,paid_on\n"
        for p in payments {
            let account = try p.account ?? world.connection.query("SELECT bank_account FROM person WHERE id_number = $1", [p.person.value])[0]["bank_account"]!
            csv += "\(p.person.value),\(p.month),\(p.post ?? ""),\(account),\(p.amount),\(p.on)\n"
        }
        _ = try Disbursements.importFile(world.connection, file: try CSVFile(data: Array(csv.utf8)), month: nil, dryRun: false)
    }

    @Test func deceasedInPost() throws {
        let world = try World()
        let (dead, exitedBefore, exitedOnDeath) = (try world.person(born: "1965-01-01"), try world.person(born: "1966-01-01"), try world.person(born: "1967-01-01"))
        let post = try world.post()
        try world.hire(post, dead, "2026-01-01", "2026-12-31")
        for person in [exitedBefore, exitedOnDeath] { try world.hire(try world.post(), person, "2026-01-01", "2026-12-31") }
        _ = try Placements.exit(world.connection, person: exitedBefore, on: day("2026-03-10"), reason: "resigned")
        _ = try Placements.exit(world.connection, person: exitedOnDeath, on: day("2026-03-11"), reason: "deceased")
        for person in [dead, exitedBefore, exitedOnDeath] {
            _ = try Persons.setStatus(world.connection, id: person, status: "deceased", from: day("2026-03-11"), to: nil)
        }
        // Nobody is in post on the day they die: the last day in post, the exit, is the day before.
        // An exit recorded on the day of death is a one-day case to correct (nothing was paid for it).
        let found = try cases(world, "DECEASED_IN_POST", asOf: "2026-04-30")
        #expect(found == ["\(dead.value) \(post) 2026-03-11 2026-04-30 - 0", "\(exitedOnDeath.value) 320321-00003 2026-03-11 2026-03-11 - 0"], "\(found)")
        let onDeath = try Audit.violations(world.connection, Audit.Filter(asOf: day("2026-04-30"), rule: "DECEASED_IN_POST"))
        #expect(onDeath.last?["explanation"]?.contains("correct it with `exit --correct` to 2026-03-10, the last day in post") == true)
        #expect(try cases(world, "DECEASED_IN_POST", asOf: "2026-03-10") == [])
    }

    @Test func ineligibleInPost() throws {
        let world = try World()
        let db = world.connection
        let employed = try world.person(born: "1970-01-01"), cadresRelative = try world.person(born: "1971-01-01", household: "H-CADRE")
        let cadre = try world.person(born: "1950-01-01", household: "H-CADRE")
        let endedBefore = try world.person(born: "1972-01-01"), startedAfterExit = try world.person(born: "1973-01-01")
        let lowIncome = try world.person(born: "1974-01-01", category: "low-income")
        let (p1, p2, p3, p4, p5) = (try world.post(), try world.post(), try world.post(), try world.post(), try world.post())
        _ = try Persons.setStatus(db, id: endedBefore, status: "employed", from: day("2025-01-01"), to: day("2025-12-31"))
        try world.hire(p1, employed, "2026-01-01", "2026-12-31")
        try world.hire(p2, cadresRelative, "2026-01-01", "2026-12-31")
        try world.hire(p3, endedBefore, "2026-01-01", "2026-12-31")
        try world.hire(p4, startedAfterExit, "2026-01-01", "2026-12-31")
        try world.hire(p5, lowIncome, "2026-01-01", "2026-12-31")
        _ = try Placements.exit(db, person: startedAfterExit, on: day("2026-04-30"), reason: "employed-elsewhere")
        _ = try Persons.setStatus(db, id: employed, status: "employed", from: day("2026-05-01"), to: nil)
        _ = try Persons.setStatus(db, id: startedAfterExit, status: "employed", from: day("2026-05-01"), to: nil)
        _ = try Persons.setStatus(db, id: cadre, status: "village-cadre", from: day("2026-02-01"), to: day("2026-02-28"))
        // From June the county places only poverty-alleviated people.
        _ = try Policy.setEligibility(db, region: Fixtures.county, from: day("2026-06-01"), minAge: nil, maxAge: nil,
                                      householdCap: nil, categories: ["poverty-alleviated"])
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-06-30").sorted() == [
            // No payroll yet: at stake is what is due for the days, 1,100.00 a month.
            "\(employed.value) \(p1) 2026-05-01 2026-06-30 - 220000",
            "\(cadresRelative.value) \(p2) 2026-02-01 2026-02-28 - 110000",
            // The category judged each day against the policy of that day: from 2026-06-01.
            "\(lowIncome.value) \(p5) 2026-06-01 2026-06-30 - 110000",
        ].sorted())
        // Before the policy changed, the low-income worker was eligible.
        #expect(try cases(world, "INELIGIBLE_IN_POST", asOf: "2026-05-31").count == 2)
    }

    @Test func overAgeInPost() throws {
        let world = try World()
        // Both 65 on their contract's start, so hiring was allowed; one turns 66 within it.
        let older = try world.person(born: "1961-07-15"), younger = try world.person(born: "1961-08-01")
        let post = try world.post()
        try world.hire(post, older, "2026-08-01", "2027-07-31")
        try world.hire(try world.post(), younger, "2026-08-01", "2027-07-31")
        // At stake: 17 of July's 31 days of 1,100.00.
        #expect(try cases(world, "OVER_AGE_IN_POST", asOf: "2027-07-31") == ["\(older.value) \(post) 2027-07-15 2027-07-31 - 60323"])
        #expect(try cases(world, "OVER_AGE_IN_POST", asOf: "2027-07-14") == [])
    }

    // sql/0036: audit_stake is always planned for its own IDs (a generic plan, which PL/pgSQL
    // takes after five calls in a session, compared each line with every ID: a session's second
    // report over a province took 78 s of CPU instead of 6 s), and prices the same every time.
    @Test func theStakeIsPricedTheSameOnEveryReportOfASession() throws {
        let world = try World()
        let older = try world.person(born: "1961-07-15")
        let post = try world.post()
        try world.hire(post, older, "2026-08-01", "2027-07-31")
        for _ in 0..<7 {
            #expect(try cases(world, "OVER_AGE_IN_POST", asOf: "2027-07-31") == ["\(older.value) \(post) 2027-07-15 2027-07-31 - 60323"])
        }
        let config = try world.connection.query("""
            SELECT array_to_string(proconfig, ' ') AS c FROM pg_proc WHERE oid = 'audit_stake(jsonb, boolean)'::regprocedure
            """)[0]["c"] ?? ""
        #expect(config.contains("plan_cache_mode=force_custom_plan"), "\(config)")
    }

    /// The small SQL functions every row of a report calls are inlined into the query (a STRICT
    /// one with a CASE ran as a query of its own on each call: sql/0038), and still give NULL for
    /// NULL and the same values as before.
    @Test func smallFunctionsAreInlinedAndStillNullOnNull() throws {
        let world = try World()
        let db = world.connection
        let calls = [
            "region_level(t)", "is_policy_region(t)", "region_prefix(t)", "township_of(t)", "village_of(t)", "mask_account(t)",
            "anniversary(d, 2027)", "next_anniversary(d)", "age_on(d, '2026-06-01')",
        ]
        for call in calls {
            let name = String(call.prefix { $0 != "(" })
            let plan = try db.query("""
                EXPLAIN (VERBOSE, COSTS OFF) SELECT \(call) FROM (VALUES ('320321101001'::text, '2024-02-29'::date), ('320321000000', '2026-03-01')) v(t, d)
                """).map { $0["QUERY PLAN"] ?? "" }.joined(separator: "\n")
            #expect(!plan.contains(name + "("), "\(name) is not inlined: \(plan)")
            let null = try db.query("SELECT (\(call.replacingOccurrences(of: "(t", with: "(NULL::text").replacingOccurrences(of: "(d", with: "(NULL::date"))) IS NULL AS n")
            #expect(null[0]["n"] == "t", "\(name) of NULL")
        }
        let values = try db.query("""
            SELECT region_level('320321101001') AS l5, region_level('320000000000') AS l1, township_of('320321101001') AS t,
                   village_of('320321101000') IS NULL AS nv, region_prefix('320321000000') AS p, mask_account('6222021234567890') AS m,
                   anniversary('2024-02-29', 2027) AS a1, anniversary('2024-02-29', 2028) AS a2, next_anniversary('2026-03-01') AS n,
                   age_on('1966-06-02', '2026-06-01') AS age
            """)[0]
        #expect([values["l5"], values["l1"], values["t"], values["nv"], values["p"], values["m"]]
                == ["5", "1", "320321101000", "t", "320321", "6222********7890"])
        #expect([values["a1"], values["a2"], values["n"], values["age"]] == ["2027-03-01", "2028-02-29", "2027-03-01", "59"])
    }

    @Test func householdOverCapAfterAMerge() throws {
        let world = try World()
        let db = world.connection
        let first = try world.person(born: "1970-01-01", household: "H1"), second = try world.person(born: "1971-01-01", household: "H2")
        let left = try world.person(born: "1972-01-01", household: "H3"), joined = try world.person(born: "1973-01-01", household: "H4")
        let post = try world.post()
        try world.hire(try world.post(), first, "2026-01-01", "2026-12-31")
        try world.hire(post, second, "2026-03-01", "2026-12-31")
        try world.hire(try world.post(), left, "2026-01-01", "2026-12-31")
        _ = try Placements.exit(db, person: left, on: day("2026-02-28"), reason: "resigned")
        try world.hire(try world.post(), joined, "2026-03-01", "2026-12-31")
        // Households merge after the placements (a marriage, a household register corrected).
        try db.command("UPDATE person SET household_id = 'H1' WHERE id_number = $1", [second.value])
        try db.command("UPDATE person SET household_id = 'H3' WHERE id_number = $1", [joined.value])
        #expect(try cases(world, "HOUSEHOLD_OVER_CAP", asOf: "2026-06-30") == ["\(second.value) \(post) 2026-03-01 2026-06-30 - -"])
    }

    @Test func noContract() throws {
        let world = try World()
        let db = world.connection
        let gap = try world.person(born: "1970-01-01"), lapsed = try world.person(born: "1971-01-01")
        let renewed = try world.person(born: "1972-01-01"), exited = try world.person(born: "1973-01-01")
        let (p1, p2) = (try world.post(), try world.post())
        try world.hire(p1, gap, "2026-01-01", "2026-06-30")
        _ = try Placements.renew(db, person: gap, start: day("2026-07-03"), end: day("2027-06-30"), kind: nil)
        try world.hire(p2, lapsed, "2026-01-01", "2026-06-30")
        try world.hire(try world.post(), renewed, "2026-01-01", "2026-06-30")
        _ = try Placements.renew(db, person: renewed, start: nil, end: day("2027-06-30"), kind: nil)
        try world.hire(try world.post(), exited, "2026-01-01", "2026-06-30")
        _ = try Placements.exit(db, person: exited, on: day("2026-06-30"), reason: "contract-ended")
        #expect(try cases(world, "NO_CONTRACT", asOf: "2026-07-10").sorted() == [
            "\(gap.value) \(p1) 2026-07-01 2026-07-02 - -",
            "\(lapsed.value) \(p2) 2026-07-01 2026-07-10 - -",
        ].sorted())
        #expect(try cases(world, "NO_CONTRACT", asOf: "2026-06-30") == [])
    }

    /// The exit date is the last day in post (and paid), so insurance must cover it: cover
    /// ending on the exit day is no case, cover ending the day before leaves that day uninsured.
    @Test func uninsured() throws {
        let world = try World()
        let db = world.connection
        let short = try world.person(born: "1970-01-01", insured: false), covered = try world.person(born: "1971-01-01", insured: false)
        let post = try world.post()
        for (person, policy) in [(short, "S-1"), (covered, "C-1")] {
            _ = try Insurance.add(db, person: person, insurer: "人保财险", policy: policy, from: day("2026-01-01"), to: day("2026-12-31"), premium: nil)
        }
        try world.hire(post, short, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), covered, "2026-01-01", "2026-12-31")
        for person in [short, covered] { _ = try Placements.exit(db, person: person, on: day("2026-06-30"), reason: "resigned") }
        // The insurer's records, corrected later: the policies end earlier than first recorded.
        _ = try Insurance.add(db, person: short, insurer: "人保财险", policy: "S-1", from: day("2026-01-01"), to: day("2026-06-29"), premium: nil)
        _ = try Insurance.add(db, person: covered, insurer: "人保财险", policy: "C-1", from: day("2026-01-01"), to: day("2026-06-30"), premium: nil)
        #expect(try cases(world, "UNINSURED", asOf: "2026-07-31") == ["\(short.value) \(post) 2026-06-30 2026-06-30 - -"])
        // A gap in the middle, between two policies, is found too.
        _ = try Insurance.add(db, person: short, insurer: "人保财险", policy: "S-1", from: day("2026-01-01"), to: day("2026-03-09"), premium: nil)
        _ = try Insurance.add(db, person: short, insurer: "平安", policy: "S-2", from: day("2026-03-12"), to: day("2026-12-31"), premium: nil)
        #expect(try cases(world, "UNINSURED", asOf: "2026-07-31") == ["\(short.value) \(post) 2026-03-10 2026-03-11 - -"])
    }

    /// Two people in post all year at 800 + 300 a month (110000 fen).
    func twoInPost(_ world: World) throws -> (ResidentID, String, ResidentID, String) {
        let a = try world.person(born: "1970-01-01"), b = try world.person(born: "1971-01-01")
        let (pa, pb) = (try world.post(), try world.post())
        try world.hire(pa, a, "2026-01-01", "2026-12-31")
        try world.hire(pb, b, "2026-01-01", "2026-12-31")
        return (a, pa, b, pb)
    }

    @Test func paidNotDue() throws {
        let world = try World()
        let (a, pa, b, pb) = try twoInPost(world)
        // The exit on 10 March is recorded, but the bank paid March in full and April too.
        _ = try Placements.exit(world.connection, person: a, on: day("2026-03-10"), reason: "resigned")
        try pay(world, [(a, "2026-03", pa, "1100", "2026-04-05", nil), (a, "2026-04", nil, "1100", "2026-05-05", nil),
                        (b, "2026-03", pb, "1100", "2026-04-05", nil), (b, "2026-04", nil, "1100", "2026-05-05", nil)])
        // March: due 10 of 31 days: 25806 + 9677 = 35483, so 110000 − 35483 = 74517 paid not due.
        #expect(try cases(world, "PAID_NOT_DUE", asOf: "2026-05-31") == [
            "\(a.value) \(pa) 2026-03-01 2026-03-31 2026-03 74517",
            "\(a.value) - 2026-04-01 2026-04-30 2026-04 110000",
        ])
        // Only the months asked for.
        #expect(try cases(world, "PAID_NOT_DUE", asOf: "2026-05-31", from: "2026-04", to: "2026-04").count == 1)
    }

    @Test func underpaidAndUnpaidLate() throws {
        let world = try World()
        let db = world.connection
        let (a, pa, b, pb) = try twoInPost(world)
        let c = try world.person(born: "1972-01-01")
        let pc = try world.post()
        try world.hire(pc, c, "2026-01-01", "2026-12-31")
        _ = try Payroll.run(db, month: Month(iso: "2026-02")!, region: nil)
        _ = try Payroll.approve(db, month: Month(iso: "2026-02")!, region: Fixtures.county)
        try pay(world, [(a, "2026-02", pa, "1000", "2026-03-05", nil), (b, "2026-02", pb, "1100", "2026-03-05", nil)])
        #expect(try cases(world, "UNDERPAID", asOf: "2026-03-31") == ["\(a.value) \(pa) 2026-02-01 2026-02-28 2026-02 10000"])
        // February ended on the 28th: 30 days later nothing is late yet, on the 31st day it is.
        #expect(try cases(world, "UNPAID_LATE", asOf: "2026-03-30") == [])
        #expect(try cases(world, "UNPAID_LATE", asOf: "2026-03-31") == ["\(c.value) \(pc) 2026-02-01 2026-02-28 2026-02 110000"])
    }

    @Test func duplicatePaymentAndOtherAccount() throws {
        let world = try World()
        let (a, pa, b, pb) = try twoInPost(world)
        try pay(world, [(a, "2026-02", pa, "1100", "2026-03-05", nil), (a, "2026-02", pa, "1100", "2026-03-20", nil),
                        (b, "2026-02", pb, "1100", "2026-03-05", "6228480399999999"), (b, "2026-03", pb, "1100", "2026-04-05", nil)])
        #expect(try cases(world, "DUPLICATE_PAYMENT", asOf: "2026-04-30") == ["\(a.value) \(pa) 2026-02-01 2026-02-28 2026-02 110000"])
        #expect(try cases(world, "PAID_TO_OTHER_ACCOUNT", asOf: "2026-04-30") == ["\(b.value) \(pb) 2026-03-05 2026-03-05 2026-02 110000"])
        // The second payment was made on 20 March: as of the 19th there was one.
        #expect(try cases(world, "DUPLICATE_PAYMENT", asOf: "2026-03-19") == [])
    }

    @Test func repeatedFailure() throws {
        let world = try World()
        let db = world.connection
        let running = try world.person(born: "1970-01-01"), threeInAYear = try world.person(born: "1971-01-01")
        let twoApart = try world.person(born: "1972-01-01"), exited = try world.person(born: "1973-01-01")
        let (p1, p2) = (try world.post(), try world.post())
        try world.hire(p1, running, "2026-01-01", "2026-12-31")
        try world.hire(p2, threeInAYear, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), twoApart, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), exited, "2026-01-01", "2026-12-31")
        func fail(_ person: ResidentID, _ months: [String]) throws {
            for month in months { _ = try Assessments.record(db, person: person, month: Month(iso: month)!, result: "fail", absentDays: 0) }
        }
        try fail(running, ["2026-02", "2026-03"])
        try fail(threeInAYear, ["2026-02", "2026-05", "2026-09"])
        try fail(twoApart, ["2026-02", "2026-04"])
        try fail(exited, ["2026-02", "2026-03"])
        _ = try Placements.exit(db, person: exited, on: day("2026-04-05"), reason: "failed-assessment")
        #expect(try cases(world, "REPEATED_FAILURE", asOf: "2026-10-10").sorted() == [
            "\(running.value) \(p1) 2026-04-01 2026-10-10 2026-03 -",
            "\(threeInAYear.value) \(p2) 2026-10-01 2026-10-10 2026-09 -",
        ].sorted())
        #expect(try cases(world, "REPEATED_FAILURE", asOf: "2026-04-10") == ["\(running.value) \(p1) 2026-04-01 2026-04-10 2026-03 -"])
    }

    @Test func vacantTooLong() throws {
        let world = try World()
        let never = try world.post(approvedOn: "2026-01-01"), left = try world.post(approvedOn: "2026-01-01")
        try world.hire(left, try world.person(born: "1970-01-01"), "2026-01-01", "2026-12-31")
        _ = try Placements.exit(world.connection, person: try ResidentID(world.connection.query("SELECT id_number FROM placement")[0]["id_number"]!),
                                on: day("2026-02-28"), reason: "resigned")
        // 1 January to 31 March is 90 days; 1 April is the 91st.
        #expect(try cases(world, "VACANT_TOO_LONG", asOf: "2026-03-31") == [])
        #expect(try cases(world, "VACANT_TOO_LONG", asOf: "2026-04-01") == ["- \(never) 2026-01-01 2026-04-01 - -"])
        // The other is vacant from 1 March: 90 days on 29 May, 91 on the 30th.
        #expect(try cases(world, "VACANT_TOO_LONG", asOf: "2026-05-29") == ["- \(never) 2026-01-01 2026-05-29 - -"])
        #expect(try cases(world, "VACANT_TOO_LONG", asOf: "2026-05-30") == ["- \(never) 2026-01-01 2026-05-30 - -", "- \(left) 2026-03-01 2026-05-30 - -"])
    }

    @Test func reportFiltersByRegionAndRefusesUnknownRules() throws {
        let world = try World()
        let post = try world.post(approvedOn: "2026-01-01")
        _ = try world.post(region: Fixtures.villageB1, approvedOn: "2026-01-01")
        let inA = try Audit.violations(world.connection, Audit.Filter(region: Fixtures.townshipA, asOf: day("2026-06-30")))
        #expect(inA.map { $0["post_id"] } == [post])
        #expect(inA.first?["township"] == "首羡镇")
        let all = try Audit.violations(world.connection, Audit.Filter(asOf: day("2026-06-30")))
        #expect(all.count == 2)
        let unknown = #expect(throws: AppError.self) { _ = try Audit.violations(world.connection, Audit.Filter(rule: "NOPE")) }
        #expect(unknown?.code == "UNKNOWN_CODE")
        let summary = try Audit.summary(world.connection, Audit.Filter(asOf: day("2026-06-30")))
        #expect(summary.map { "\($0["rule"]!)|\($0["county_code"]!)|\($0["cases"]!)" } == [
            "VACANT_TOO_LONG||2", "VACANT_TOO_LONG|320321|2", "||2",
        ])
    }

    /// The report's views are shared by two connections (session 25): the payment rules' view
    /// first, then the dearest state rules, then the rest; whichever connection reads a view,
    /// the report is the one connection's, row for row and in order.
    @Test func twoConnectionsShareTheViewsAndGiveTheOneConnectionsReport() throws {
        let rules = try Audit.rules(try World().connection)
        let views = try Audit.views(of: rules, only: "")
        #expect(Array(views.prefix(3)) == ["audit_payment_case", "audit_over_age_in_post", "audit_duplicate_payment"])
        #expect(views.count == rules.filter { !$0.fromPayments }.count + 1 && Set(views).count == views.count)
        #expect(try Audit.views(of: rules, only: "UNDERPAID") == ["audit_payment_case"])
        #expect(try Audit.views(of: rules, only: "NO_CONTRACT") == ["audit_no_contract"])
        #expect(throws: (any Error).self) { _ = try Audit.views(of: rules + [("X; DROP TABLE person", false)], only: "") }

        let world = try World()
        _ = try world.post(approvedOn: "2026-01-01")
        _ = try world.post(region: Fixtures.villageB1, approvedOn: "2026-01-01")
        let hired = try world.person(born: "1975-01-01")
        try world.hire(try world.post(approvedOn: "2026-01-01"), hired, "2026-02-01", "2026-12-31")
        let unpaid = try world.person(born: "1976-01-01")
        try pay(world, [(unpaid, "2026-03", nil, "500.00", "2026-03-20", nil), (hired, "2026-03", nil, "9000.00", "2026-03-20", nil)])
        let filter = Audit.Filter(asOf: day("2026-06-30"))
        let alone = try Audit.violations(world.connection, filter)
        let database = world.database
        let shared = try Audit.violations(world.connection, filter, parallel: { try database.connect() })
        let lines = { (rows: [Row]) in rows.map { row in row.columns.map { row[$0] ?? "-" }.joined(separator: "|") } }
        #expect(lines(shared) == lines(alone))
        let found = Set(alone.compactMap { $0["rule"] })
        #expect(found.isSuperset(of: ["VACANT_TOO_LONG", "PAID_NOT_DUE"]), "\(found)")
        let positions = alone.map { row in rules.firstIndex { $0.code == row["rule"] } ?? -1 }
        #expect(positions == positions.sorted())
    }

    /// `journal show --entity` searches the text of every entry, nearly all of it out of TOAST,
    /// which the planner does not count: priced by the table's own pages, the search ran on one
    /// core (4,000,000 journaled persons: 1.28–1.37 s; on both cores 0.71–0.75 s). In the
    /// lookup's transaction it is planned across parallel workers, and finds the same entries.
    @Test func theJournalsSearchForAnEntityIsReadOnEveryCore() throws {
        let world = try World()
        let person = try world.person(born: "1975-01-01")
        try world.hire(try world.post(approvedOn: "2026-01-01"), person, "2026-02-01", "2026-12-31")
        func plan(_ connection: Connection) throws -> String {
            try connection.query("EXPLAIN " + Journal.entriesNamingKey, [person.value]).compactMap { $0["QUERY PLAN"] }.joined(separator: "\n")
        }
        let tool = try Database.connect(world.database.conninfo, environment: [:])
        let serial = try tool.query(Journal.entriesNamingKey, [person.value])[0]["seqs"]
        #expect(try !plan(tool).contains("Gather"))
        try tool.transaction {
            try Journal.readOnEveryCore(tool)
            let parallel = try plan(tool)
            #expect(parallel.contains("Gather") && parallel.contains("Parallel Seq Scan on journal"), "\(parallel)")
            #expect(try tool.query(Journal.entriesNamingKey, [person.value])[0]["seqs"] == serial)
        }
        #expect(try plan(tool).contains("Gather") == false, "the settings hold for the lookup's transaction only")
        #expect(try Journal.entriesNaming(tool, column: "id_number", key: person.value).hasPrefix(serial?.dropLast() ?? "?"))
        #expect(try plan(tool).contains("Gather") == false, "entriesNaming's settings end with its transaction")
        let shown = try Journal.show(tool, entity: .person(person.value), limit: 100, reveal: true)
        #expect(shown.contains { $0["table_name"] == "person" } && shown.contains { $0["table_name"] == "placement" },
                "\(shown.map { $0["table_name"] ?? "-" })")
    }
}
