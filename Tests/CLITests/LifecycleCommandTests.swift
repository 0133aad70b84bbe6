import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// The lifecycle commands as an administrator types them.
@Suite("lifecycle commands")
struct LifecycleCommandTests {
    func run(_ world: World, _ arguments: [String]) throws -> ProcessResult {
        try welfarePosts(arguments + ["--format", "json"], on: world.database)
    }

    @Test func proposeApproveHireRenewExitThroughTheBinary() throws {
        let world = try World()
        let person = try world.person(born: "1975-04-04")
        let proposed = try run(world, ["post", "propose", "--region", Fixtures.villageA1, "--type", "保洁员", "--funding", "就业补助资金",
                                       "--developer", "首羡镇人民政府", "--need", "村道保洁", "--on", "2025-12-01"])
        #expect(proposed.status == 0, "\(proposed.stderr)")
        #expect(proposed.stdout.contains("\"id\":\"320321-00001\""), "\(proposed.stdout)")
        #expect(proposed.stdout.contains("\"state\":\"proposed\""))
        let township = try run(world, ["post", "propose", "--region", Fixtures.county, "--type", "cleaner", "--funding", "other",
                                       "--developer", "县", "--need", "x"])
        #expect(township.status == 2)
        #expect(township.stderr.hasPrefix("error: [POST_REGION]"))
        let early = try run(world, ["hire", "--post", "320321-00001", "--person", person.value, "--start", "2026-01-01", "--end", "2026-12-31"])
        #expect(early.status == 1)
        #expect(early.stderr.hasPrefix("error: [POST_NOT_OPEN]"), "\(early.stderr)")
        #expect(early.stderr.contains("basis: 人社部发〔2021〕26号（十二）健全\"按需设岗、以岗聘任、在岗领补、有序退岗\"管理机制"))
        #expect(try run(world, ["post", "approve", "320321-00001", "--on", "2026-01-01"]).status == 0)
        let again = try run(world, ["post", "approve", "320321-00001"])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("error: [POST_STATE]"))
        let tooLong = try welfarePosts(["hire", "--post", "320321-00001", "--person", person.value, "--start", "2026-01-01",
                                        "--end", "2027-01-01", "--lang", "zh"], on: world.database)
        #expect(tooLong.status == 1)
        #expect(tooLong.stderr.contains("[CONTRACT_TERM]"))
        #expect(tooLong.stderr.contains("依据: 人社部发〔2021〕26号（十二）依法签订劳动合同或劳务协议，每次签订期限不超过1年"))
        let hired = try run(world, ["hire", "--post", "320321-00001", "--person", person.value, "--start", "2026-01-01", "--end", "2026-06-30"])
        #expect(hired.status == 0, "\(hired.stderr)")
        #expect(hired.stdout.contains("\"contract_end\":\"2026-06-30\""))
        #expect(!hired.stdout.contains(person.value), "a full resident ID in output")
        let renewed = try run(world, ["renew", "--person", person.value, "--end", "2026-12-31", "--kind", "劳动合同"])
        #expect(renewed.status == 0, "\(renewed.stderr)")
        #expect(renewed.stdout.contains("\"contract_start\":\"2026-07-01\""))
        #expect(renewed.stdout.contains("\"contract_kind\":\"labor-contract\""))
        let badReason = try run(world, ["exit", "--person", person.value, "--on", "2026-09-30", "--reason", "bored"])
        #expect(badReason.status == 2)
        #expect(badReason.stderr.hasPrefix("error: [UNKNOWN_CODE]"))
        let exited = try run(world, ["exit", "--person", person.value, "--on", "2026-09-30", "--reason", "实现其他就业"])
        #expect(exited.status == 0, "\(exited.stderr)")
        #expect(exited.stdout.contains("\"exit_reason\":\"employed-elsewhere\""))
        let shown = try welfarePosts(["post", "show", "320321-00001", "--format", "table"], on: world.database)
        #expect(shown.stdout.contains("2026-01-01") && shown.stdout.contains("2026-09-30") && shown.stdout.contains("employed-elsewhere"))
        let person2 = try run(world, ["person", "show", person.value])
        #expect(person2.stdout.contains("\"placements\":[{\"post_id\":\"320321-00001\""), "\(person2.stdout)")
        #expect(person2.stdout.contains("service-agreement 2026-01-01…2026-06-30; labor-contract 2026-07-01…2026-12-31"))
        #expect(person2.stdout.contains("\"insurance\":[{\"insurer\":\"人保财险\""))
    }

    @Test func postListFiltersAndVacancy() throws {
        let world = try World()
        let a = try world.post(region: Fixtures.villageA1), b = try world.post(region: Fixtures.villageA2)
        let c = try world.post(region: Fixtures.villageB1)
        try world.hire(a, try world.person(born: "1970-01-01"), "2026-01-01", "2026-12-31")
        let underA = try welfarePosts(["post", "list", "--region", Fixtures.townshipA, "--on", "2026-03-01", "--format", "csv"], on: world.database)
        #expect(underA.stdout.contains(a) && underA.stdout.contains(b) && !underA.stdout.contains(c))
        let vacant = try welfarePosts(["post", "list", "--vacant", "--on", "2026-03-01", "--format", "csv"], on: world.database)
        #expect(!vacant.stdout.contains(a) && vacant.stdout.contains(b) && vacant.stdout.contains(c))
        let before = try welfarePosts(["post", "list", "--vacant", "--on", "2025-12-31", "--format", "csv"], on: world.database)
        #expect(before.stdout.contains(a))
        let closed = try welfarePosts(["post", "list", "--state", "closed", "--format", "csv"], on: world.database)
        #expect(closed.stdout.split(separator: "\n").count == 1)
    }

    @Test func insuranceAddAndImport() throws {
        let world = try World()
        let person = try world.person(born: "1970-01-01", insured: false)
        let backwards = try run(world, ["insurance", "add", "--person", person.value, "--insurer", "太平洋", "--policy", "A1",
                                        "--from", "2026-02-01", "--to", "2026-01-31"])
        #expect(backwards.status == 2)
        let ok = try run(world, ["insurance", "add", "--person", person.value, "--insurer", "太平洋", "--policy", "A1",
                                 "--from", "2026-01-01", "--to", "2026-06-30", "--premium", "45.5"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("\"premium\":\"45.50\""))
        let other = try world.person(born: "1971-01-01", insured: false)
        let good = "身份证号,保险公司,保单号,起保日期,终保日期,保费\n\(person.value),太平洋,A2,2026-07-01,2026-12-31,45.50\n\(other.value),人保,B1,2026-01-01,2026-12-31,\n"
        let imported = try run(world, ["insurance", "import", try temporaryFile(good)])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"inserted\":\"2\""))
        let coverage = try world.connection.query("SELECT insurance_coverage($1)::text AS c", [person.value])[0]["c"]
        #expect(coverage == "{[2026-01-01,2027-01-01)}")
        let unknown = residentID(born: "1980-01-01", sequence: 999)
        let bad = "id_number,insurer,policy_number,from,to\n\(other.value),人保,B2,2026-13-01,2026-12-31\n\(unknown),人保,B3,2026-01-01,2026-12-31\n\(other.value),人保,B4,2026-05-01,2026-04-30\n"
        let before = try world.fingerprint()
        let refused = try run(world, ["insurance", "import", try temporaryFile(bad)])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("line 2, column 4 (from)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 3, column 1 (id_number)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 4, column 5 (to)"), "\(refused.stderr)")
        #expect(try world.fingerprint() == before)
    }

    @Test func dueListsContractsInsuranceAndAges() throws {
        let world = try World()
        let today = Day.today()
        func iso(_ days: Int) -> String { today.adding(days: days).iso }
        // A contract ending in 10 days, insurance ending in 20, and someone who turns 66 in 25.
        let contract = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), contract, iso(-100), iso(10))
        let insurance = try world.person(born: "1971-01-01", insured: false)
        try world.insure(insurance, from: iso(-100), to: iso(20))
        try world.hire(try world.post(), insurance, iso(-50), iso(15))
        let turning = today.adding(days: 25)
        let old = try world.person(born: Day(year: turning.year - 66, month: turning.month, day: turning.day)?.iso ?? "1960-01-01")
        try world.hire(try world.post(), old, iso(-30), iso(300))
        let due = try welfarePosts(["due", "--within", "30", "--format", "csv"], on: world.database)
        #expect(due.status == 0, "\(due.stderr)")
        #expect(due.stdout.contains("contract-ends,\(iso(10))"), "\(due.stdout)")
        #expect(due.stdout.contains("insurance-ends,\(iso(20))"), "\(due.stdout)")
        #expect(due.stdout.contains("ages-out,\(iso(25))"), "\(due.stdout)")
        let soon = try welfarePosts(["due", "--within", "12", "--format", "csv"], on: world.database)
        #expect(soon.stdout.contains("contract-ends") && !soon.stdout.contains("insurance-ends,\(iso(20))") && !soon.stdout.contains("ages-out"))
    }
}
