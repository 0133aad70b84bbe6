import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// The rows of a JSON listing, as dictionaries of text.
func jsonRows(_ stdout: String, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: String]] {
    guard let data = stdout.data(using: .utf8),
          let array = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
        Issue.record("not a JSON listing: \(stdout)", sourceLocation: sourceLocation)
        return []
    }
    return array.map { $0.compactMapValues { $0 as? String } }
}

/// A JSON object (one entity), as a dictionary of text.
func jsonObject(_ stdout: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String: String] {
    guard let data = stdout.data(using: .utf8),
          let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        Issue.record("not a JSON object: \(stdout)", sourceLocation: sourceLocation)
        return [:]
    }
    return object.compactMapValues { $0 as? String }
}

/// A county adopting the product brings its own region file (SPEC §3, issue 16).
@Suite("region import of a county's own file")
struct CountyRegionFileTests {
    /// 荔波县 of 黔南州, Guizhou, as the county's office keeps it: no province, no city.
    static let countyFile = """
        区划代码,名称
        522722000000,荔波县
        522722100000,玉屏街道
        522722101000,甲良镇
        522722100201,水浦村
        522722101201,甲良村
        522722101202,新场村

        """

    @Test func ancestorsMissingFromFileAndDatabaseAreRecordedByCode() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        let file = try temporaryFile(Self.countyFile)
        let count = { try connection.query("SELECT count(*) AS n FROM region")[0]["n"] }

        // A dry run says what would be recorded and writes nothing.
        let dry = try welfarePosts(["region", "import", file, "--dry-run", "--format", "table"], on: database)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("520000000000, 522700000000"), "\(dry.stdout)")
        #expect(try count() == "0")

        let imported = try welfarePosts(["region", "import", file, "--format", "json"], on: database)
        #expect(imported.status == 0, "\(imported.stderr)")
        let outcome = jsonObject(imported.stdout)
        #expect(outcome["inserted"] == "6" && outcome["recorded_by_code"] == "2", "\(imported.stdout)")
        let listed = try welfarePosts(["region", "list", "--format", "csv"], on: database)
        #expect(listed.stdout.hasPrefix("""
            code,name,level,parent
            520000000000,,province,
            522700000000,,city,520000000000
            522722000000,荔波县,county,522700000000

            """), "\(listed.stdout)")

        // The county works at once: persons in its villages, a pay standard at the county.
        let id = residentID(area: "522722", born: "1975-04-09", sequence: 21)
        let persons = try temporaryFile("身份证号,姓名,户编号,村代码,人员类别,劳动能力\n\(id),蒙秀英,LB001,522722101201,脱贫人口,弱劳力\n")
        let person = try welfarePosts(["person", "import", persons], on: database)
        #expect(person.status == 0, "\(person.stderr)")
        let pay = try welfarePosts(["policy", "pay", "--region", "522722", "--type", "cleaner", "--monthly", "700", "--from", "2026-01"], on: database)
        #expect(pay.status == 0, "\(pay.stderr)")

        // A later file names them; the county file again changes nothing and records nothing.
        let named = try welfarePosts(["region", "import", try temporaryFile("code,name\n52,贵州省\n5227,黔南布依族苗族自治州\n"),
                                      "--format", "json"], on: database)
        let renamed = jsonObject(named.stdout)
        #expect(named.status == 0 && renamed["updated"] == "2" && renamed["inserted"] == "0", "\(named.stdout) \(named.stderr)")
        let again = jsonObject(try welfarePosts(["region", "import", file, "--format", "json"], on: database).stdout)
        #expect(again["unchanged"] == "6" && again["recorded_by_code"] == "0", "\(again)")
        let province = try connection.query("SELECT name FROM region WHERE code = '520000000000'")[0]["name"]
        #expect(province == "贵州省")
        #expect(try count() == "8")
    }

    @Test func namesAreStillRequiredInTheFile() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        let result = try welfarePosts(["region", "import", try temporaryFile("code,name\n522722000000,\n522722100000,玉屏街道\n")], on: database)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2, column 2 (name)"), "\(result.stderr)")
        #expect(try connection.query("SELECT count(*) AS n FROM region")[0]["n"] == "0")
    }
}

/// `person list` (SPEC §16): finding persons without their ID.
@Suite("person list")
struct PersonListTests {
    @Test func filtersCombineAndInPostFollowsSpec() throws {
        let world = try World()
        let database = world.database, connection = world.connection
        let named = { (id: ResidentID, name: String) in
            try connection.command("UPDATE person SET name = $2 WHERE id_number = $1", [id.value, name])
        }
        let working = try world.person(born: "1970-03-15", household: "H1", village: Fixtures.villageA1)
        let sister = try world.person(born: "1972-08-01", household: "H1", village: Fixtures.villageA1)
        let lapsed = try world.person(born: "1980-01-20", household: "H2", village: Fixtures.villageA2)
        let died = try world.person(born: "1965-11-11", household: "H3", village: Fixtures.villageB1)
        try named(working, "王秀英"); try named(sister, "王秀兰"); try named(lapsed, "李建国"); try named(died, "张德胜")
        try world.hire(try world.post(region: Fixtures.villageA1), working, "2026-01-01", "2026-12-31")
        // A contract that ended without renewal: still holding the post, not in post.
        try world.hire(try world.post(region: Fixtures.villageA2), lapsed, "2026-01-01", "2026-03-31")
        try world.hire(try world.post(region: Fixtures.villageB1), died, "2026-01-01", "2026-12-31")
        _ = try Persons.setStatus(connection, id: died, status: "deceased", from: Day(iso: "2026-05-01")!, to: nil)

        func list(_ arguments: [String]) throws -> [[String: String]] {
            let result = try welfarePosts(["person", "list", "--format", "json"] + arguments, on: database)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return jsonRows(result.stdout)
        }
        func names(_ arguments: [String]) throws -> [String] { try list(arguments).compactMap { $0["name"] } }

        #expect(try names([]) == ["王秀英", "王秀兰", "李建国", "张德胜"])
        #expect(try names(["--name", "秀"]) == ["王秀英", "王秀兰"])
        #expect(try names(["--name", " 德胜 "]) == ["张德胜"])
        #expect(try names(["--household", "H1"]) == ["王秀英", "王秀兰"])
        #expect(try names(["--village", Fixtures.villageA2]) == ["李建国"])
        #expect(try names(["--village", "320321101"]) == ["王秀英", "王秀兰", "李建国"])
        #expect(try names(["--name", "王", "--household", "H1", "--village", Fixtures.villageA1, "--in-post", "--on", "2026-06-01"]) == ["王秀英"])
        #expect(try names(["--in-post", "--on", "2026-02-01"]) == ["王秀英", "李建国", "张德胜"])
        #expect(try names(["--in-post", "--on", "2026-06-01"]) == ["王秀英"])
        #expect(try names(["--in-post", "--on", "2025-12-31"]) == [])

        // On 2026-06-01 the lapsed contract and the death show as holding a post, not in post.
        let june = Dictionary(uniqueKeysWithValues: try list(["--on", "2026-06-01"]).map { ($0["name"] ?? "", $0) })
        #expect(june["李建国"]?["post_id"] != nil && june["李建国"]?["in_post"] == "false")
        #expect(june["张德胜"]?["post_id"] != nil && june["张德胜"]?["in_post"] == "false")
        #expect(june["王秀兰"]?["post_id"] == nil && june["王秀兰"]?["in_post"] == "false")
        #expect(june["王秀英"]?["in_post"] == "true")

        // Masked unless --reveal.
        let masked = try welfarePosts(["person", "list", "--format", "csv"], on: database)
        #expect(!masked.stdout.contains(working.value) && masked.stdout.contains(working.masked), "\(masked.stdout)")
        let revealed = try welfarePosts(["person", "list", "--format", "csv", "--reveal"], on: database)
        #expect(revealed.stdout.contains(working.value), "\(revealed.stdout)")

        // Chinese headers and labels; a table says yes and no in words.
        let zh = try welfarePosts(["person", "list", "--name", "王秀英", "--on", "2026-06-01", "--format", "table", "--lang", "zh"], on: database)
        #expect(zh.stdout.contains("身份证号") && zh.stdout.contains("脱贫人口") && zh.stdout.contains("弱劳力") && zh.stdout.contains("是"),
                "\(zh.stdout)")

        // Bad filters are bad input.
        let badDay = try welfarePosts(["person", "list", "--on", "2026-13-01"], on: database)
        #expect(badDay.status == 2 && badDay.stderr.hasPrefix("error: [BAD_DATE]"), "\(badDay.stderr)")
        let unknown = try welfarePosts(["person", "list", "--village", "320321199201"], on: database)
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("error: [NOT_FOUND]"), "\(unknown.stderr)")
        let notACode = try welfarePosts(["person", "list", "--village", "首羡村"], on: database)
        #expect(notACode.status == 2 && notACode.stderr.hasPrefix("error: [BAD_REGION]"), "\(notACode.stderr)")
    }

    /// Operators see the persons of their region only (row-level security), and --reveal
    /// follows the roles' rules.
    @Test func operatorsListTheirRegionOnly() throws {
        let scene = try AccessTests.Scene()
        let ids = { (stdout: String) in Set(jsonRows(stdout).compactMap { $0["id_number"] }) }
        let masks = { (people: [ResidentID]) in Set(people.map(\.masked)) }

        let township = try scene.login("township-admin", Fixtures.townshipA)
        #expect(ids(try scene.expectOK(township, ["person", "list"])) == masks([scene.personA, scene.personA2]))
        #expect(ids(try scene.expectOK(township, ["person", "list", "--in-post", "--on", "2026-02-01"])) == masks([scene.personA2]))
        #expect(ids(try scene.expectOK(township, ["person", "list", "--reveal"])) == [scene.personA.value, scene.personA2.value])
        // Asking for a whole county gives its own part; another township's village is refused.
        #expect(ids(try scene.expectOK(township, ["person", "list", "--village", "320321"])) == masks([scene.personA, scene.personA2]))
        try scene.expectRefused(township, ["person", "list", "--village", Fixtures.villageB1], ["OUTSIDE_REGION"])

        let county = try scene.login("county-admin", Fixtures.county)
        #expect(ids(try scene.expectOK(county, ["person", "list"])) == masks([scene.personA, scene.personA2, scene.personB]))
        let otherCounty = try scene.login("county-admin", AccessTests.Scene.countyY)
        #expect(ids(try scene.expectOK(otherCounty, ["person", "list", "--in-post", "--on", "2026-06-01"])) == masks([scene.personY]))

        let auditor = try scene.login("auditor", "320300000000")
        #expect(ids(try scene.expectOK(auditor, ["person", "list", "--reveal"]))
                == [scene.personA.value, scene.personA2.value, scene.personB.value, scene.personY.value])

        // Finance reads persons but may not reveal them; a system administrator reads none.
        let finance = try scene.login("finance", Fixtures.county)
        #expect(ids(try scene.expectOK(finance, ["person", "list"])) == masks([scene.personA, scene.personA2, scene.personB]))
        try scene.expectRefused(finance, ["person", "list", "--reveal"], ["REVEAL_NOT_ALLOWED"])
        let system = try scene.login("system-admin", "320000000000")
        try scene.expectRefused(system, ["person", "list"], ["PERMISSION_DENIED"])
    }
}
