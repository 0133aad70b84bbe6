import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// `audit` and `ledger` as an auditor types them.
@Suite("audit and ledger commands")
struct AuditCommandTests {
    /// A death recorded while in post, and a post nobody has held since January.
    func county() throws -> (World, ResidentID, String, String) {
        let world = try World()
        let person = try world.person(born: "1968-08-08")
        let held = try world.post(approvedOn: "2026-01-01"), vacant = try world.post(region: Fixtures.villageB1, approvedOn: "2026-01-01")
        try world.hire(held, person, "2026-01-01", "2026-12-31")
        _ = try Persons.setStatus(world.connection, id: person, status: "deceased", from: Day(iso: "2026-05-10")!, to: nil)
        return (world, person, held, vacant)
    }

    @Test func violationsAsCSVJSONAndInChinese() throws {
        let (world, person, held, vacant) = try county()
        let csv = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--format", "csv"], on: world.database)
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "rule,county,township,village,id_number,name,post_id,from,to,month,amount,explanation,basis")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("DECEASED_IN_POST,丰县,首羡镇,首羡村,\(person.masked),"), "\(lines[1])")
        #expect(lines[1].contains(",\(held),2026-05-10,2026-06-30,,0.00,\"died on 2026-05-10 and is still in post"), "\(lines[1])")
        #expect(lines[2].hasPrefix("VACANT_TOO_LONG,丰县,顺河镇,顺河村,,,\(vacant),2026-01-01,2026-06-30,,,vacant for 181 days"), "\(lines[2])")
        #expect(!csv.stdout.contains(person.value))

        let revealed = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--reveal", "--format", "csv"], on: world.database)
        #expect(revealed.stdout.contains(person.value))

        let zh = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--lang", "zh", "--format", "csv", "--region", "320321101"],
                                  on: world.database)
        #expect(zh.status == 0)
        #expect(zh.stdout.hasPrefix("规则,县区,乡镇,村,身份证号,姓名,岗位编号,起始日期,终止日期,月份,涉及金额,说明,依据\n"), "\(zh.stdout)")
        #expect(zh.stdout.contains("已于 2026-05-10 死亡仍在岗"))
        #expect(!zh.stdout.contains("VACANT_TOO_LONG"), "the vacant post is in another township")

        let json = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--rule", "vacant_too_long", "--format", "json"], on: world.database)
        let objects = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(objects?.count == 1)
        #expect(objects?.first?["post_id"] as? String == vacant)
        #expect((objects?.first?["basis"] as? String)?.contains("规模总体稳定") == true)

        let summary = try welfarePosts(["audit", "summary", "--as-of", "2026-06-30", "--format", "csv"], on: world.database)
        #expect(summary.stdout == """
            rule,county_code,county,cases,amount
            DECEASED_IN_POST,total,,1,0.00
            DECEASED_IN_POST,320321,丰县,1,0.00
            VACANT_TOO_LONG,total,,1,0.00
            VACANT_TOO_LONG,320321,丰县,1,0.00
            total,,,2,0.00

            """, "\(summary.stdout)")
    }

    /// `--rule` with a rule of the payment half (found from what is paid against what is due)
    /// and with one of the state half: each finds its own case and nothing of the other half.
    @Test func ruleFilterReachesBothHalvesOfTheReport() throws {
        let (world, person, _, vacant) = try county()
        _ = try Payroll.run(world.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        _ = try Payroll.approve(world.connection, month: Month(year: 2026, month: 1)!, region: "320321")
        let unpaid = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--rule", "unpaid_late", "--reveal", "--format", "csv"],
                                      on: world.database)
        let lines = unpaid.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == 1 && lines.first?.hasPrefix("UNPAID_LATE,") == true && lines.first?.contains(person.value) == true
                && lines.first?.contains(",2026-01,1100.00,") == true, "\(unpaid.stdout)")
        let state = try welfarePosts(["audit", "violations", "--as-of", "2026-06-30", "--rule", "vacant_too_long", "--format", "csv"],
                                     on: world.database)
        let stateLines = state.stdout.split(separator: "\n").dropFirst()
        #expect(stateLines.count == 1 && stateLines.first?.hasPrefix("VACANT_TOO_LONG,") == true
                && stateLines.first?.contains(",\(vacant),") == true, "\(state.stdout)")
    }

    @Test func nothingFoundIsNotAnError() throws {
        let (world, _, _, _) = try county()
        let result = try welfarePosts(["audit", "violations", "--as-of", "2026-03-31", "--format", "csv"], on: world.database)
        #expect(result.status == 0)
        #expect(result.stdout == "rule,county,township,village,id_number,name,post_id,from,to,month,amount,explanation,basis\n")
    }

    @Test(arguments: [
        (["audit", "violations", "--rule", "NOPE"], "UNKNOWN_CODE"),
        (["audit", "violations", "--as-of", "2026-02-30"], "BAD_DATE"),
        (["audit", "summary", "--from", "2026-05", "--to", "2026-04"], "BAD_INPUT"),
        (["audit", "violations", "--region", "99"], "NOT_FOUND"),
        (["ledger", "scale", "--from", "2026-05", "--to", "2026-13"], "BAD_MONTH"),
        (["ledger", "posts", "--as-of", "yesterday"], "BAD_DATE"),
    ])
    func badInputExits2(_ example: ([String], String)) throws {
        let world = try World()
        let result = try welfarePosts(example.0, on: world.database)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: [\(example.1)]"), "\(result.stderr)")
    }

    @Test func ledgerCommandsMaskAndCount() throws {
        let (world, person, held, vacant) = try county()
        let posts = try welfarePosts(["ledger", "posts", "--as-of", "2026-03-01", "--format", "csv"], on: world.database)
        #expect(posts.status == 0, "\(posts.stderr)")
        #expect(posts.stdout.contains("\(held),首羡镇,首羡村,cleaner,employment-fund,首羡镇人民政府,800.00,300.00,approved,\(person.masked),"))
        #expect(posts.stdout.contains("\(vacant),顺河镇,顺河村,cleaner,employment-fund,首羡镇人民政府,800.00,300.00,approved,,,"))
        #expect(!posts.stdout.contains(person.value))
        let revealed = try welfarePosts(["ledger", "posts", "--as-of", "2026-03-01", "--reveal", "--format", "csv"], on: world.database)
        #expect(revealed.stdout.contains(person.value))
        let scale = try welfarePosts(["ledger", "scale", "--from", "2025-12", "--to", "2026-02", "--format", "csv"], on: world.database)
        #expect(scale.stdout == "month,posts,filled,people,hires,exits\n2025-12,0,0,0,0,0\n2026-01,2,1,1,1,0\n2026-02,2,1,1,0,0\n", "\(scale.stdout)")
        let summary = try welfarePosts(["ledger", "summary", "--as-of", "2026-03-01", "--lang", "zh", "--format", "csv"], on: world.database)
        #expect(summary.stdout.contains("合计,,,,,2,1,1,1100.00"), "\(summary.stdout)")
    }
}
