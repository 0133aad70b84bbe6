import Foundation
import Postgres
import Testing
import TestSupport
@testable import WelfarePosts

/// The management ledger (SPEC §8), as of any date.
@Suite("ledger")
struct LedgerTests {
    func day(_ text: String) -> Day { Day(iso: text)! }

    /// 24 months of placements, coming and going, against counts made here month by month.
    @Test func scaleOver24MonthsMatchesThePlacements() throws {
        let world = try World()
        let db = world.connection
        let posts = try (0..<6).map { try world.post(approvedOn: $0 == 5 ? "2025-06-01" : "2025-01-01") }
        // (post, start, end of contract, exit)
        let stories: [(Int, String, String, String?)] = [
            (0, "2025-01-01", "2025-12-31", "2025-12-31"), (0, "2026-01-01", "2026-12-31", nil),
            (1, "2025-03-15", "2026-03-14", "2025-08-20"), (1, "2025-10-01", "2026-09-30", "2026-09-30"),
            (2, "2025-06-30", "2026-06-29", nil),
            (3, "2025-02-01", "2026-01-31", "2025-02-01"), (3, "2026-02-02", "2027-02-01", "2026-11-30"),
            (4, "2025-01-01", "2025-12-31", "2026-06-30"),
            (5, "2025-06-01", "2026-05-31", "2026-05-31"),
        ]
        var placements: [(start: Day, exit: Day?)] = []
        for (index, story) in stories.enumerated() {
            let person = try world.person(born: "19\(60 + index)-03-03")
            try world.hire(posts[story.0], person, story.1, story.2)
            if let exit = story.3 { _ = try Placements.exit(db, person: person, on: day(exit), reason: "resigned") }
            placements.append((day(story.1), story.3.map(day)))
        }
        _ = try Posts.close(db, posts[4], on: day("2026-07-01"), reason: "撤并", exitHolder: false)
        let approved = posts.indices.map { day($0 == 5 ? "2025-06-01" : "2025-01-01") }
        let rows = try Ledger.scale(db, region: Fixtures.county, from: Month(iso: "2025-01")!, to: Month(iso: "2026-12")!)
        #expect(rows.count == 24)
        for (offset, row) in rows.enumerated() {
            let month = Month(iso: "2025-01")!.adding(months: offset)
            let (first, last) = (month.firstDay, month.lastDay)
            let inForce = posts.indices.filter { approved[$0] <= last && !($0 == 4 && day("2026-07-01") <= last) }.count
            let openAtEnd = zip(stories, placements).filter { $0.1.start <= last && ($0.1.exit.map { $0 >= last } ?? true) }
            let inMonth = placements.filter { $0.start <= last && ($0.exit.map { $0 >= first } ?? true) }
            let expected = [month.iso, String(inForce), String(Set(openAtEnd.map { $0.0.0 }).count), String(inMonth.count),
                            String(placements.filter { $0.start >= first && $0.start <= last }.count),
                            String(placements.filter { $0.exit.map { $0 >= first && $0 <= last } ?? false }.count)]
            #expect([row.month, String(row.posts), String(row.filled), String(row.people), String(row.hires), String(row.exits)] == expected)
        }
    }

    @Test func postsAndSummaryAsOfADate() throws {
        let world = try World()
        let db = world.connection
        _ = try Policy.setPay(db, region: Fixtures.county, type: "cleaner", monthly: Fen(90_000), socialInsurance: Fen(30_000),
                              from: Month(iso: "2026-07")!)
        let person = try world.person(born: "1970-01-01", insured: false)
        _ = try Insurance.add(db, person: person, insurer: "人保财险", policy: "L-1", from: day("2026-01-01"), to: day("2026-12-31"), premium: nil)
        let held = try world.post(approvedOn: "2026-01-01"), vacant = try world.post(approvedOn: "2026-01-01")
        let later = try world.post(region: Fixtures.villageB1, approvedOn: "2026-08-01")
        try world.hire(held, person, "2026-02-01", "2026-12-31")

        let march = try Ledger.posts(db, region: nil, asOf: day("2026-03-01"))
        #expect(march.map { "\($0.id) \($0.state.rawValue) \($0.monthlyFen!) \($0.holderID ?? "-") \($0.contractEnd?.iso ?? "-") \($0.insuredTo?.iso ?? "-")" } == [
            "\(held) approved 80000 \(person.value) 2026-12-31 2026-12-31",
            "\(vacant) approved 80000 - - -",
            "\(later) proposed 80000 - - -",
        ])
        let august = try Ledger.posts(db, region: Fixtures.townshipB, asOf: day("2026-08-01"))
        #expect(august.map { "\($0.id) \($0.state.rawValue) \($0.monthlyFen!)" } == ["\(later) approved 90000"])

        let summary = try Ledger.summary(db, region: nil, asOf: day("2026-08-01"))
        let shown = summary.map { "\($0.level) \($0.townshipCode ?? "-") \($0.fundingChannel ?? "-") \($0.posts) \($0.filled) \($0.vacant) \($0.commitmentFen)" }
        #expect(shown == [
            "detail \(Fixtures.townshipA) employment-fund 2 1 1 120000",
            "detail \(Fixtures.townshipB) employment-fund 1 0 1 0",
            "funding_channel - employment-fund 3 1 2 120000",
            "total - - 3 1 2 120000",
        ])
    }

    /// No statement of the tool is JIT-compiled, whatever the server's settings: a province's
    /// `ledger summary` spent 0.8 s of its 1.1 s compiling (its cost passes jit_above_cost).
    /// The database here asks for JIT on every statement; the tool's session turns it off.
    @Test func reportsAreNeverJITCompiled() throws {
        let world = try World()
        _ = try world.post(approvedOn: "2025-01-01")
        try world.connection.execute("""
            ALTER DATABASE \(world.database.name) SET jit = on;
            ALTER DATABASE \(world.database.name) SET jit_above_cost = 0
            """)
        let plan = "EXPLAIN (ANALYZE) SELECT count(*), sum(length(p.id)) FROM post p JOIN region r ON r.code = p.region_code"
        func compiled(_ connection: Connection) throws -> Bool {
            try connection.query(plan).contains { ($0["QUERY PLAN"] ?? "").hasPrefix("JIT:") }
        }
        let tool = try Database.connect(world.database.conninfo, environment: [:])
        #expect(try tool.query("SHOW jit")[0]["jit"] == "off")
        #expect(try !compiled(tool))
        #expect(try Ledger.summary(tool, region: Fixtures.county, asOf: day("2026-06-30")).count == 3)
        // Where the server can compile at all, a plain session on this database does.
        let plain = try world.database.connect()
        if try plain.query("SELECT pg_jit_available() AS a")[0]["a"] == "t" {
            #expect(try compiled(plain))
        }
    }
}
