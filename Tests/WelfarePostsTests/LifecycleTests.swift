import Foundation
import Postgres
import Testing
import TestSupport
@testable import WelfarePosts

@Suite("lifecycle rules")
struct LifecycleTests {
    struct Term: Sendable, CustomTestStringConvertible {
        let start: String, end: String, accepted: Bool
        var testDescription: String { "\(start)→\(end) \(accepted ? "accepted" : "refused")" }
    }

    @Test(arguments: [
        Term(start: "2026-01-01", end: "2026-12-31", accepted: true),
        Term(start: "2026-01-01", end: "2027-01-01", accepted: false),
        Term(start: "2024-02-29", end: "2025-02-28", accepted: true),
        Term(start: "2024-02-29", end: "2025-03-01", accepted: false),
        Term(start: "2027-03-01", end: "2028-02-29", accepted: true),
        Term(start: "2026-05-10", end: "2026-05-09", accepted: false),
        Term(start: "2026-05-10", end: "2026-05-10", accepted: true),
    ])
    func contractTerm(_ term: Term) throws {
        let world = try World()
        let post = try world.post(), person = try world.person(born: "1970-01-01")
        if term.accepted {
            try world.hire(post, person, term.start, term.end)
            #expect(try world.connection.query("SELECT end_on::text FROM contract")[0]["end_on"] == term.end)
        } else {
            _ = try world.expectRefusal("CONTRACT_TERM") { try world.hire(post, person, term.start, term.end) }
        }
    }

    struct Age: Sendable, CustomTestStringConvertible {
        let born: String, start: String, maxAge: Int?, accepted: Bool
        var testDescription: String { "born \(born), start \(start), max \(maxAge ?? 65): \(accepted)" }
    }

    @Test(arguments: [
        Age(born: "2010-06-15", start: "2026-06-15", maxAge: nil, accepted: true),   // turns 16 on the start
        Age(born: "2010-06-16", start: "2026-06-15", maxAge: nil, accepted: false),  // one day younger
        Age(born: "1961-06-16", start: "2026-06-15", maxAge: nil, accepted: true),   // 64, turns 65 tomorrow
        Age(born: "1960-06-16", start: "2026-06-15", maxAge: nil, accepted: true),   // 65, turns 66 tomorrow
        Age(born: "1960-06-15", start: "2026-06-15", maxAge: nil, accepted: false),  // turns 66 on the start
        Age(born: "2008-02-29", start: "2024-02-29", maxAge: nil, accepted: true),   // born 29 Feb, 16 on 29 Feb
        Age(born: "2008-02-29", start: "2024-02-28", maxAge: nil, accepted: false),
        Age(born: "2008-02-29", start: "2025-02-28", maxAge: 16, accepted: true),    // still 16: the anniversary is 1 March
        Age(born: "2008-02-29", start: "2025-03-01", maxAge: 16, accepted: false),   // 17 on 1 March of a non-leap year
    ])
    func age(_ age: Age) throws {
        let world = try World()
        if let max = age.maxAge {
            _ = try Policy.setEligibility(world.connection, region: Fixtures.county, from: Day(iso: "2020-01-01")!,
                                          minAge: nil, maxAge: max, householdCap: nil, categories: nil)
        }
        let post = try world.post(), person = try world.person(born: age.born)
        let end = Day(iso: age.start)!.adding(days: 30).iso
        if age.accepted {
            try world.hire(post, person, age.start, end)
        } else {
            _ = try world.expectRefusal("AGE") { try world.hire(post, person, age.start, end) }
        }
    }

    @Test func householdCapOfOne() throws {
        let world = try World()
        let first = try world.person(born: "1970-01-01", household: "HH1"), second = try world.person(born: "1972-01-01", household: "HH1")
        let postA = try world.post(), postB = try world.post()
        try world.hire(postA, first, "2026-01-01", "2026-12-31")
        _ = try world.expectRefusal("HOUSEHOLD_CAP") { try world.hire(postB, second, "2026-03-01", "2026-12-31") }
        _ = try Placements.exit(world.connection, person: first, on: Day(iso: "2026-02-28")!, reason: "resigned")
        // On the exit day the first is still in post; the day after, the place is free.
        _ = try world.expectRefusal("HOUSEHOLD_CAP") { try world.hire(postB, second, "2026-02-28", "2026-12-31") }
        try world.hire(postB, second, "2026-03-01", "2026-12-31")
    }

    @Test func householdCapOfTwoSetByPolicy() throws {
        let world = try World()
        _ = try Policy.setEligibility(world.connection, region: Fixtures.county, from: Day(iso: "2026-01-01")!,
                                      minAge: nil, maxAge: nil, householdCap: 2, categories: nil)
        let members = try (0..<3).map { try world.person(born: "197\($0)-01-01", household: "HH2") }
        let posts = try (0..<3).map { _ in try world.post() }
        try world.hire(posts[0], members[0], "2026-01-01", "2026-12-31")
        try world.hire(posts[1], members[1], "2026-01-01", "2026-12-31")
        _ = try world.expectRefusal("HOUSEHOLD_CAP") { try world.hire(posts[2], members[2], "2026-01-01", "2026-12-31") }
        // Before the policy took effect the cap was 1.
        let world2 = try World()
        _ = try Policy.setEligibility(world2.connection, region: Fixtures.county, from: Day(iso: "2026-01-01")!,
                                      minAge: nil, maxAge: nil, householdCap: 2, categories: nil)
        let a = try world2.person(born: "1970-01-01", household: "HH3"), b = try world2.person(born: "1971-01-01", household: "HH3")
        try world2.hire(try world2.post(), a, "2025-06-01", "2026-05-31")
        let another = try world2.post()
        _ = try world2.expectRefusal("HOUSEHOLD_CAP") { try world2.hire(another, b, "2025-07-01", "2026-06-30") }
    }

    @Test func categoryAndLabourCapacity() throws {
        let world = try World()
        let post = try world.post()
        let other = try world.person(born: "1970-01-01", category: "other")
        _ = try world.expectRefusal("CATEGORY") { try world.hire(post, other, "2026-01-01", "2026-12-31") }
        let none = try world.person(born: "1970-01-01", capacity: "none")
        _ = try world.expectRefusal("LABOUR_CAPACITY") { try world.hire(post, none, "2026-01-01", "2026-12-31") }
        _ = try Policy.setEligibility(world.connection, region: Fixtures.county, from: Day(iso: "2026-01-01")!, minAge: nil,
                                      maxAge: nil, householdCap: nil, categories: ["poverty-alleviated", "other"])
        try world.hire(post, other, "2026-01-01", "2026-12-31")
    }

    @Test func excludedStatusOnTheStart() throws {
        let world = try World()
        let post = try world.post()
        let employed = try world.person(born: "1970-01-01")
        _ = try Persons.setStatus(world.connection, id: employed, status: "employed", from: Day(iso: "2025-01-01")!, to: Day(iso: "2026-03-01")!)
        _ = try world.expectRefusal("EXCLUDED_STATUS") { try world.hire(post, employed, "2026-03-01", "2026-12-31") }
        // A status that ended the day before the start does not stand in the way.
        try world.hire(post, employed, "2026-03-02", "2026-12-31")

        let member = try world.person(born: "1975-01-01", household: "HC"), cadre = try world.person(born: "1960-01-01", household: "HC")
        _ = try Persons.setStatus(world.connection, id: cadre, status: "village-cadre", from: Day(iso: "2024-01-01")!, to: nil)
        let second = try world.post()
        let error = try world.expectRefusal("EXCLUDED_STATUS") { try world.hire(second, member, "2026-03-01", "2026-12-31") }
        #expect(error?.message.zh.contains("村干部") == true)
    }

    @Test func insuranceMustCoverEveryDay() throws {
        let world = try World()
        let gap = try world.person(born: "1970-01-01", insured: false)
        try world.insure(gap, from: "2026-01-01", to: "2026-06-30")
        try world.insure(gap, from: "2026-07-02", to: "2026-12-31")
        let post = try world.post()
        let error = try world.expectRefusal("INSURANCE") { try world.hire(post, gap, "2026-01-01", "2026-12-31") }
        #expect(error?.message.en.contains("2026-07-01") == true)
        let covered = try world.person(born: "1970-01-01", insured: false)
        try world.insure(covered, from: "2026-01-01", to: "2026-06-30")
        try world.insure(covered, from: "2026-07-01", to: "2026-12-31")
        try world.hire(try world.post(), covered, "2026-01-01", "2026-12-31")
    }

    @Test func postMustBeApprovedOpenAndVacant() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let proposed = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "local-fiscal",
                                         developer: "镇政府", need: "保洁", on: Day(iso: "2025-12-01")!).id
        _ = try world.expectRefusal("POST_NOT_OPEN") { try world.hire(proposed, person, "2026-01-01", "2026-12-31") }
        let rejected = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "local-fiscal",
                                         developer: "镇政府", need: "保洁", on: Day(iso: "2025-12-01")!).id
        _ = try Posts.reject(world.connection, rejected, reason: "重复申报")
        _ = try world.expectRefusal("POST_NOT_OPEN") { try world.hire(rejected, person, "2026-01-01", "2026-12-31") }
        let closed = try world.post()
        _ = try Posts.close(world.connection, closed, on: Day(iso: "2025-12-01")!, reason: "撤并", exitHolder: false)
        _ = try world.expectRefusal("POST_NOT_OPEN") { try world.hire(closed, person, "2026-01-01", "2026-12-31") }
        let occupied = try world.post()
        try world.hire(occupied, try world.person(born: "1971-01-01"), "2026-01-01", "2026-12-31")
        _ = try world.expectRefusal("POST_NOT_OPEN") { try world.hire(occupied, person, "2026-06-01", "2026-12-31") }
    }

    @Test func payStandardOnApprovalAndOnEveryContractStart() throws {
        let world = try World()
        let elder = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "elder-care", funding: "local-fiscal",
                                      developer: "镇政府", need: "助老", on: Day(iso: "2025-12-01")!).id
        let before = try world.fingerprint()
        let error = #expect(throws: AppError.self) { try Posts.approve(world.connection, elder, on: Day(iso: "2026-01-01")!) }
        #expect(error?.code == "PAY_STANDARD")
        #expect(try world.fingerprint() == before)
        // A post is approved only with a standard in force, and one stays in force after it; a
        // standard removed later (here: the county replaced 2020's by one from 2021) leaves 2020's
        // contracts without one.
        let post = try world.post(approvedOn: "2020-01-01"), person = try world.person(born: "1970-01-01")
        _ = try Policy.setPay(world.connection, region: Fixtures.county, type: "cleaner", monthly: Fen(80_000),
                              socialInsurance: Fen(30_000), from: Month(year: 2021, month: 1)!)
        try world.connection.command("DELETE FROM pay_standard WHERE effective_from = '2020-01-01'")
        _ = try world.expectRefusal("PAY_STANDARD") { try world.hire(post, person, "2020-06-01", "2021-05-31") }
    }

    @Test func quotaHoldsApprovals() throws {
        let world = try World()
        _ = try Policy.setQuota(world.connection, region: Fixtures.county, year: 2026, posts: 1)
        let first = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "local-fiscal", developer: "镇政府", need: "保洁", on: Day(iso: "2025-12-01")!).id
        let second = try Posts.propose(world.connection, region: Fixtures.villageA2, type: "cleaner", funding: "local-fiscal", developer: "镇政府", need: "保洁", on: Day(iso: "2025-12-01")!).id
        _ = try Posts.approve(world.connection, first, on: Day(iso: "2026-02-01")!)
        let before = try world.fingerprint()
        let error = #expect(throws: AppError.self) { try Posts.approve(world.connection, second, on: Day(iso: "2026-02-02")!) }
        #expect(error?.code == "QUOTA")
        #expect(error?.category == .rule)
        #expect(try world.fingerprint() == before)
        _ = try Posts.close(world.connection, first, on: Day(iso: "2026-03-01")!, reason: "撤并", exitHolder: false)
        _ = try Posts.approve(world.connection, second, on: Day(iso: "2026-03-02")!)
    }

    @Test func exitAndRehire() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let postA = try world.post(), postB = try world.post()
        _ = try world.expectRefusal("NOT_IN_POST") { _ = try Placements.exit(world.connection, person: person, on: Day(iso: "2026-01-01")!, reason: "resigned") }
        try world.hire(postA, person, "2026-01-01", "2026-12-31")
        _ = try world.expectRefusal("EXIT_BEFORE_START") { _ = try Placements.exit(world.connection, person: person, on: Day(iso: "2025-12-31")!, reason: "resigned") }
        _ = try world.expectRefusal("ONE_POST_PER_PERSON") { try world.hire(postB, person, "2026-03-01", "2026-12-31") }
        _ = try Placements.exit(world.connection, person: person, on: Day(iso: "2026-02-28")!, reason: "employed-elsewhere")
        try world.hire(postB, person, "2026-03-01", "2026-12-31")
        // Exit on the start date: one day in post.
        _ = try Placements.exit(world.connection, person: person, on: Day(iso: "2026-03-01")!, reason: "resigned")
        let rows = try world.connection.query("SELECT post_id, start_on::text, exit_on::text, exit_reason FROM placement ORDER BY start_on")
        #expect(rows.map { "\($0["post_id"]!) \($0["start_on"]!)…\($0["exit_on"]!) \($0["exit_reason"]!)" } ==
                ["\(postA) 2026-01-01…2026-02-28 employed-elsewhere", "\(postB) 2026-03-01…2026-03-01 resigned"])
    }

    @Test func renewFollowsTheLastContractAndAllowsAGap() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), person, "2025-01-01", "2025-12-31")
        _ = try Placements.renew(world.connection, person: person, start: nil, end: Day(iso: "2026-12-31")!, kind: "labor-contract")
        _ = try world.expectRefusal("CONTRACT_TERM") { _ = try Placements.renew(world.connection, person: person, start: nil, end: Day(iso: "2028-01-01")!, kind: nil) }
        _ = try world.expectRefusal("CONTRACT_OVERLAP") { _ = try Placements.renew(world.connection, person: person, start: Day(iso: "2026-12-01")!, end: Day(iso: "2027-06-30")!, kind: nil) }
        _ = try Placements.renew(world.connection, person: person, start: Day(iso: "2027-01-04")!, end: Day(iso: "2027-12-31")!, kind: nil)
        let contracts = try world.connection.query("SELECT kind, start_on::text, end_on::text FROM contract ORDER BY start_on")
        #expect(contracts.map { "\($0["kind"]!) \($0["start_on"]!) \($0["end_on"]!)" } == [
            "service-agreement 2025-01-01 2025-12-31", "labor-contract 2026-01-01 2026-12-31", "service-agreement 2027-01-04 2027-12-31"])
    }

    @Test func closeWithExitHolder() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01")
        let post = try world.post()
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        _ = try world.expectRefusal("POST_OCCUPIED") { _ = try Posts.close(world.connection, post, on: Day(iso: "2026-07-01")!, reason: "撤并", exitHolder: false) }
        _ = try Posts.close(world.connection, post, on: Day(iso: "2026-07-01")!, reason: "撤并", exitHolder: true)
        let placement = try world.connection.query("SELECT exit_on::text, exit_reason FROM placement")[0]
        #expect(placement["exit_on"] == "2026-06-30")
        #expect(placement["exit_reason"] == "post-closed")
        #expect(try world.connection.query("SELECT state, closed_on::text FROM post WHERE id = $1", [post])[0]["closed_on"] == "2026-07-01")
    }

    @Test func constraintsHoldAgainstPlainSQL() throws {
        let world = try World()
        let a = try world.person(born: "1970-01-01"), b = try world.person(born: "1971-01-01")
        let postA = try world.post(), postB = try world.post()
        try world.hire(postA, a, "2026-01-01", "2026-12-31")
        func psql(_ sql: String) throws -> ProcessResult {
            try runProcess("/usr/bin/psql", [world.database.conninfo, "-v", "ON_ERROR_STOP=1", "-c", sql])
        }
        let twoPosts = try psql("INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ('320321', '\(postB)', '\(a.value)', '2026-06-01')")
        #expect(twoPosts.status != 0)
        #expect(twoPosts.stderr.contains("one_post_per_person"), "\(twoPosts.stderr)")
        let twoHolders = try psql("INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ('320321', '\(postA)', '\(b.value)', '2026-06-01')")
        #expect(twoHolders.stderr.contains("one_holder_per_post"), "\(twoHolders.stderr)")
        let longContract = try psql("UPDATE contract SET end_on = '2027-01-01'")
        #expect(longContract.stderr.contains("contract_term"), "\(longContract.stderr)")
        let leapContract = try psql("INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ('320321', '\(postB)', '\(b.value)', '2024-02-29') RETURNING id")
        #expect(leapContract.status == 0)
        let tooLong = try psql("INSERT INTO contract (county_code, placement_id, start_on, end_on) SELECT '320321', id, '2024-02-29', '2025-03-01' FROM placement WHERE id_number = '\(b.value)'")
        #expect(tooLong.stderr.contains("contract_term"), "\(tooLong.stderr)")
        let fits = try psql("INSERT INTO contract (county_code, placement_id, start_on, end_on) SELECT '320321', id, '2024-02-29', '2025-02-28' FROM placement WHERE id_number = '\(b.value)'")
        #expect(fits.status == 0, "\(fits.stderr)")
        // The same breach through the tool names the rule.
        let mapped = AppError(PostgresError(kind: .server, sqlState: "23P01", message: "conflicting key value", constraintName: "one_holder_per_post"))
        #expect(mapped.code == "ONE_HOLDER_PER_POST")
        #expect(mapped.category == .rule)
    }
}
