import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Selection and public notice (SPEC §13, issue 15) through the binary: applications, the
/// ranking, notices with their objections, and `hire` refused with NOT_PUBLICISED.
@Suite("selection and notice")
struct SelectionTests {
    func run(_ world: World, _ arguments: [String]) throws -> ProcessResult {
        try welfarePosts(arguments + ["--format", "json"], on: world.database)
    }

    @discardableResult
    func ok(_ world: World, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try run(world, arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Everything selection writes, beside the lifecycle's rows.
    func fingerprint(_ world: World) throws -> String {
        try world.fingerprint() + (try world.connection.query("""
            SELECT concat_ws('/', (SELECT count(*) || md5(coalesce(string_agg(a::text, '|' ORDER BY id), '')) FROM application a),
              (SELECT count(*) || md5(coalesce(string_agg(n::text, '|' ORDER BY id), '')) FROM notice n),
              (SELECT count(*) || md5(coalesce(string_agg(o::text, '|' ORDER BY id), '')) FROM notice_objection o)) AS f
            """)[0]["f"] ?? "")
    }

    /// A refusal with exit `status` and `code`, changing nothing.
    func refused(_ world: World, _ arguments: [String], _ code: String, exit status: Int32 = 1,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let before = try fingerprint(world)
        let result = try run(world, arguments)
        #expect(result.status == status, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: [\(code)]"), "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(try fingerprint(world) == before, "\(arguments) changed the database", sourceLocation: sourceLocation)
        return result.stderr
    }

    @Test func applicantsRankedByPriorityWithTheRulesEachWouldBreak() throws {
        let world = try World()
        let post = try world.post()
        // Applied in this order; the ranking is category, then capacity, then the date.
        let lowIncomeFull = try world.person(born: "1970-01-01", category: "low-income", capacity: "full")
        let monitoredFull = try world.person(born: "1971-01-01", category: "monitored", capacity: "full")
        let alleviatedWeak = try world.person(born: "1972-01-01", category: "poverty-alleviated", capacity: "weak")
        let other = try world.person(born: "1973-01-01", category: "other", capacity: "half")
        let monitoredHalf = try world.person(born: "1974-01-01", category: "monitored", capacity: "half")
        let alleviatedHalf = try world.person(born: "1975-01-01", category: "poverty-alleviated", capacity: "half", insured: false)
        let tooOld = try world.person(born: "1955-01-01", category: "monitored", capacity: "weak")
        let unable = try world.person(born: "1976-01-01", category: "low-income", capacity: "none")
        let cadre = try world.person(born: "1977-01-01", category: "low-income", capacity: "half")
        _ = try Persons.setStatus(world.connection, id: cadre, status: "village-cadre", from: Day(iso: "2025-01-01")!, to: nil)
        // A member of lowIncomeFull's household is in post already.
        let household = try world.connection.query("SELECT household_id FROM person WHERE id_number = $1", [lowIncomeFull.value])[0]["household_id"]!
        let member = try world.person(born: "1978-01-01", household: household)
        try world.hire(try world.post(), member, "2026-01-01", "2026-12-31")
        let dates = [(lowIncomeFull, "2026-03-01"), (monitoredFull, "2026-03-02"), (alleviatedWeak, "2026-03-03"), (other, "2026-03-04"),
                     (alleviatedHalf, "2026-03-05"), (tooOld, "2026-03-06"), (unable, "2026-03-07"), (cadre, "2026-03-08")]
        for (person, day) in dates {
            try ok(world, ["apply", "--post", post, "--person", person.value, "--on", day])
        }
        // The last applicant comes by file, with Chinese headers; the same file again changes nothing.
        let file = try temporaryFile("岗位编号,身份证号,报名日期\n\(post),\(monitoredHalf.value),2026-03-09\n")
        #expect(try ok(world, ["application", "import", file]).contains("\"inserted\":\"1\""))
        #expect(try ok(world, ["application", "import", file]).contains("\"unchanged\":\"1\""))

        let ranked = try welfarePosts(["applicants", "--post", post, "--on", "2026-04-01", "--format", "csv", "--reveal"], on: world.database)
        #expect(ranked.status == 0, "\(ranked.stderr)")
        let rows = ranked.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { $0[1] } == [tooOld, monitoredHalf, monitoredFull, alleviatedWeak, alleviatedHalf, cadre, lowIncomeFull, unable, other].map(\.value),
                "\(ranked.stdout)")
        let breaks = Dictionary(uniqueKeysWithValues: rows.map { ($0[1], $0[7]) })
        #expect(breaks[monitoredHalf.value] == "")
        #expect(breaks[tooOld.value] == "AGE")
        #expect(breaks[alleviatedHalf.value] == "INSURANCE")
        #expect(breaks[cadre.value] == "EXCLUDED_STATUS")
        #expect(breaks[lowIncomeFull.value] == "HOUSEHOLD_CAP")
        #expect(breaks[unable.value] == "LABOUR_CAPACITY")
        #expect(breaks[other.value] == "CATEGORY")
        #expect(rows.map { $0[0] } == (1...9).map(String.init))
        // On a day the post is held, every applicant would break POST_NOT_OPEN; the holder also ONE_POST_PER_PERSON.
        try world.hire(post, alleviatedWeak, "2026-05-01", "2026-12-31")
        let held = try welfarePosts(["applicants", "--post", post, "--on", "2026-06-01", "--format", "csv", "--lang", "zh"], on: world.database)
        #expect(held.stdout.hasPrefix("排序,身份证号,姓名,人员类别"), "\(held.stdout)")
        #expect(held.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.contains("POST_NOT_OPEN") }, "\(held.stdout)")
        #expect(held.stdout.contains("POST_NOT_OPEN ONE_POST_PER_PERSON"))
        #expect(!held.stdout.contains(monitoredHalf.value), "a full resident ID without --reveal")
    }

    @Test func applicationsAreCheckedWholeFileAndOneByOne() throws {
        let world = try World()
        let post = try world.post()
        let person = try world.person(born: "1970-01-01")
        let proposed = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "other",
                                         developer: "首羡镇人民政府", need: "村道保洁", on: Day(iso: "2026-02-01")!).id
        let rejected = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "other",
                                         developer: "首羡镇人民政府", need: "村道保洁", on: Day(iso: "2026-02-01")!).id
        _ = try Posts.reject(world.connection, rejected, reason: "重复申报")
        let unknown = residentID(born: "1980-01-01", sequence: 998)
        let bad = """
            post_id,id_number,applied_on
            \(post),\(person.value),2026-03-01
            320321-99999,\(person.value),2026-03-01
            \(post),\(unknown),2026-03-01
            \(post),\(person.value),2026-03-02
            \(rejected),\(person.value),2026-03-01
            \(proposed),\(person.value),2026-01-15
            \(post),\(person.value),2026-02-30

            """
        let stderr = try refused(world, ["application", "import", try temporaryFile(bad)], "BAD_FILE", exit: 2)
        for place in ["line 3, column 1 (post_id)", "line 4, column 2 (id_number)", "line 5, column 2 (id_number)",
                      "line 6, column 3 (applied_on)", "line 7, column 3 (applied_on)", "line 8, column 3 (applied_on)"] {
            #expect(stderr.contains(place), "\(place): \(stderr)")
        }
        #expect(!stderr.contains("line 2,"), "\(stderr)")
        // One by one: a proposed post takes applications, a rejected one does not.
        try ok(world, ["apply", "--post", proposed, "--person", person.value, "--on", "2026-03-01"])
        _ = try refused(world, ["apply", "--post", rejected, "--person", person.value, "--on", "2026-03-01"], "POST_NOT_OPEN")
        _ = try refused(world, ["apply", "--post", "320321-99999", "--person", person.value], "NOT_FOUND", exit: 2)
    }

    /// A county with five days' notice from 2026, an eligible applicant for a vacant post.
    struct Scene {
        let world: World
        let post: String
        let person: ResidentID
        init(noticeDays: Int = 5) throws {
            world = try World()
            post = try world.post()
            person = try world.person(born: "1970-01-01")
            _ = try Policy.setEligibility(world.connection, region: Fixtures.county, from: Day(iso: "2026-01-01")!, minAge: nil,
                                          maxAge: nil, householdCap: nil, categories: nil, noticeDays: noticeDays)
            _ = try Applications.apply(world.connection, post: post, person: person, on: Day(iso: "2026-02-20")!)
        }
        var hire: [String] { ["hire", "--post", post, "--person", person.value, "--end", "2026-12-31"] }
    }

    @Test func noHireWithoutANoticeWhereThePolicyAsksForOne() throws {
        let scene = try Scene(), world = scene.world
        let none = try refused(world, scene.hire + ["--start", "2026-03-10"], "NOT_PUBLICISED")
        #expect(none.contains("has not been publicised") && none.contains("5 days' public notice"), "\(none)")
        #expect(none.contains("basis: 人社部发〔2021〕26号（十二）健全\"按需设岗、以岗聘任……\"管理机制; county practice: 公开招聘、公示5天无异议后聘用"), "\(none)")
        // A notice only for someone who applied, and never fewer days than the policy's.
        let stranger = try world.person(born: "1971-01-01")
        _ = try refused(world, ["notice", "publish", "--post", scene.post, "--person", stranger.value, "--from", "2026-03-01"], "NO_APPLICATION")
        _ = try refused(world, ["notice", "publish", "--post", scene.post, "--person", scene.person.value, "--from", "2026-03-01",
                                "--days", "3"], "NOTICE_DAYS", exit: 2)
        let published = try ok(world, ["notice", "publish", "--post", scene.post, "--person", scene.person.value, "--from", "2026-03-01"])
        #expect(published.contains("\"from\":\"2026-03-01\",\"to\":\"2026-03-05\",\"days\":\"5\""), "\(published)")
        #expect(published.contains("\"contact\":\"首羡镇人民政府\""))
        // One intended holder of a post at a time.
        let rival = try world.person(born: "1972-01-01")
        _ = try Applications.apply(world.connection, post: scene.post, person: rival, on: Day(iso: "2026-02-21")!)
        _ = try refused(world, ["notice", "publish", "--post", scene.post, "--person", rival.value, "--from", "2026-03-03"], "NOTICE_OVERLAP")
        // The notice ends on 2026-03-05: a hire on that day is refused, the next day goes through.
        let onEnd = try refused(world, scene.hire + ["--start", "2026-03-05"], "NOT_PUBLICISED")
        #expect(onEnd.contains("runs from 2026-03-01 to 2026-03-05") && onEnd.contains("2026-03-06 at the earliest"), "\(onEnd)")
        try ok(world, scene.hire + ["--start", "2026-03-06"])
        // Before the policy asked for notice, a hire needed none (the default keeps working).
        try ok(world, ["hire", "--post", try world.post(), "--person", stranger.value, "--start", "2025-12-01", "--end", "2025-12-31"])
    }

    @Test func anObjectionOpenAtTheStartStopsTheHireUntilDismissed() throws {
        let scene = try Scene(), world = scene.world
        try ok(world, ["notice", "publish", "--post", scene.post, "--person", scene.person.value, "--from", "2026-03-01", "--contact", "首羡镇人社所 0516-89200000"])
        let late = try refused(world, ["notice", "object", "1", "--reason", "其子为村干部", "--on", "2026-03-06"], "NOTICE_CLOSED")
        #expect(late.contains("runs 2026-03-01 to 2026-03-05"), "\(late)")
        let objected = try ok(world, ["notice", "object", "1", "--reason", "其子为村干部", "--on", "2026-03-04"])
        #expect(objected.contains("\"objections\":[{\"id\":\"1\",\"raised_on\":\"2026-03-04\",\"reason\":\"其子为村干部\",\"finding\":null"), "\(objected)")
        let open = try refused(world, scene.hire + ["--start", "2026-03-10"], "NOT_PUBLICISED")
        #expect(open.contains("objection 1 to notice 1 is not resolved"), "\(open)")
        let list = try welfarePosts(["notice", "list", "--on", "2026-03-10", "--format", "csv"], on: world.database)
        #expect(list.stdout.contains(",2026-03-01,2026-03-05,5,1,1,0,objection-open"), "\(list.stdout)")
        _ = try refused(world, ["notice", "resolve", "1", "--dismissed", "--note", "经核查，其子不在本村任职", "--on", "2026-03-03"],
                        "BAD_INPUT", exit: 2)
        let usage = try run(world, ["notice", "resolve", "1", "--upheld", "--dismissed", "--note", "x"])
        #expect(usage.status == 2, "\(usage.stderr)")
        let dismissed = try ok(world, ["notice", "resolve", "1", "--dismissed", "--note", "经核查，其子不在本村任职", "--on", "2026-03-08"])
        #expect(dismissed.contains("\"finding\":\"dismissed\",\"note\":\"经核查，其子不在本村任职\",\"resolved_on\":\"2026-03-08\""), "\(dismissed)")
        _ = try refused(world, ["notice", "resolve", "1", "--upheld", "--note", "again"], "NO_OPEN_OBJECTION")
        // A finding stands, whoever tries to change it.
        let rewrite = try? world.connection.query("UPDATE notice_objection SET finding = 'upheld' WHERE id = 1")
        #expect(rewrite == nil)
        try ok(world, scene.hire + ["--start", "2026-03-10"])
    }

    @Test func anUpheldObjectionStopsTheHireOnThatNotice() throws {
        let scene = try Scene(), world = scene.world
        try ok(world, ["notice", "publish", "--post", scene.post, "--person", scene.person.value, "--from", "2026-03-01"])
        try ok(world, ["notice", "object", "1", "--reason", "长期在外务工，不在村居住", "--on", "2026-03-02"])
        try ok(world, ["notice", "resolve", "1", "--upheld", "--note", "经核实属实，不予聘用", "--on", "2026-03-04"])
        let upheld = try refused(world, scene.hire + ["--start", "2026-03-10"], "NOT_PUBLICISED")
        #expect(upheld.contains("objection 1 to notice 1 was upheld on 2026-03-04"), "\(upheld)")
        // Another applicant may be publicised at once; the upheld notice no longer holds the post.
        let next = try world.person(born: "1972-01-01")
        _ = try Applications.apply(world.connection, post: scene.post, person: next, on: Day(iso: "2026-02-21")!)
        try ok(world, ["notice", "publish", "--post", scene.post, "--person", next.value, "--from", "2026-03-05"])
        try ok(world, ["hire", "--post", scene.post, "--person", next.value, "--start", "2026-03-10", "--end", "2026-12-31"])
        // Where the policy asks for no notice, a notice that was published still has to clear.
        let quiet = try Scene(noticeDays: 0)
        try ok(quiet.world, ["notice", "publish", "--post", quiet.post, "--person", quiet.person.value, "--from", "2026-03-01", "--days", "7"])
        try ok(quiet.world, ["notice", "object", "1", "--reason", "x", "--on", "2026-03-02"])
        try ok(quiet.world, ["notice", "resolve", "1", "--upheld", "--note", "属实", "--on", "2026-03-03"])
        _ = try refused(quiet.world, quiet.hire + ["--start", "2026-03-10"], "NOT_PUBLICISED")
        let unasked = try run(quiet.world, ["notice", "publish", "--post", quiet.post, "--person", quiet.person.value, "--from", "2026-04-01"])
        #expect(unasked.status == 2 && unasked.stderr.hasPrefix("error: [NOTICE_DAYS]"), "\(unasked.stderr)")
    }

    @Test func theNoticeSheetIsOneSelfContainedPageWithTheIDMasked() throws {
        let scene = try Scene(), world = scene.world
        try ok(world, ["notice", "publish", "--post", scene.post, "--person", scene.person.value, "--from", "2026-03-01",
                       "--contact", "首羡镇人民政府 <电话 0516-89200000>"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-notice-\(UUID().uuidString).html").path
        let printed = try welfarePosts(["notice", "print", "1", "--output", path], on: world.database)
        #expect(printed.status == 0, "\(printed.stderr)")
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("@page { size: A4;"))
        #expect(html.contains(scene.person.masked) && !html.contains(scene.person.value), "the full resident ID on a public sheet")
        #expect(html.contains("2026年3月1日 至 2026年3月5日") && html.contains("（5 天）"), "\(html)")
        #expect(html.contains("每月岗位补贴 800.00 元，社保补贴 300.00 元"))
        #expect(html.contains("村庄保洁") && html.contains("首羡镇") && html.contains("首羡村"))
        #expect(html.contains("首羡镇人民政府 &lt;电话 0516-89200000&gt;"), "text is escaped")
        // Nothing from a network: no script, no link, no remote address.
        for word in ["<script", "<link", "http:", "https:", "url(", "@import"] {
            #expect(!html.contains(word), "\(word) in the sheet")
        }
        let missing = try welfarePosts(["notice", "print", "9", "--output", path + ".2"], on: world.database)
        #expect(missing.status == 2 && missing.stderr.hasPrefix("error: [NOT_FOUND]"))
    }

    /// Applications and notices belong to the post's region: its township runs them, another
    /// township neither sees nor touches them, through the tool or psql.
    @Test func aTownshipRunsTheNoticesOfItsOwnPostsOnly() throws {
        let scene = try AccessTests.Scene()
        let own = try scene.login("township-admin", Fixtures.townshipA), other = try scene.login("township-admin", Fixtures.townshipB)
        _ = try scene.expectOK(own, ["apply", "--post", scene.postA, "--person", scene.personA.value, "--on", "2026-02-01"])
        try scene.expectRefused(other, ["apply", "--post", scene.postA, "--person", scene.personB.value], ["OUTSIDE_REGION"])
        let notice = try scene.expectOK(own, ["notice", "publish", "--post", scene.postA, "--person", scene.personA.value,
                                              "--from", "2026-02-05", "--days", "5"])
        #expect(notice.contains("\"id\":\"1\""), "\(notice)")
        #expect(try scene.expectOK(other, ["notice", "list"]) == "[]\n")
        let unseen = try scene.cli(other, ["notice", "object", "1", "--reason", "x", "--on", "2026-02-06"])
        #expect(unseen.status == 2 && unseen.stderr.hasPrefix("error: [NOT_FOUND]"), "\(unseen.stderr)")
        let counts = try scene.psql(other, "SELECT (SELECT count(*) FROM application) || '/' || (SELECT count(*) FROM notice)")
        #expect(counts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0/0", "\(counts)")
        let forged = try scene.psql(other, "INSERT INTO notice_objection (county_code, notice_id, raised_on, reason) VALUES ('320321', 1, '2026-02-06', 'x')")
        #expect(forged.status != 0, "\(forged.stderr)")
        #expect(try scene.connection.query("SELECT count(*) AS n FROM notice_objection")[0]["n"] == "0")
        _ = try scene.expectOK(own, ["notice", "object", "1", "--reason", "x", "--on", "2026-02-06"])
        let auditor = try scene.login("auditor", Fixtures.county)
        #expect(try scene.expectOK(auditor, ["notice", "list"]).contains("\"open_objections\":\"1\""))
        try scene.expectRefused(auditor, ["notice", "resolve", "1", "--dismissed", "--note", "x"], ["PERMISSION_DENIED"])
    }
}
