import Foundation
import Postgres
import WelfarePosts

/// A county ready for the lifecycle: the fixture regions, a cleaner's pay standard in force
/// from 2020, and helpers that add persons, insurance and approved posts directly.
public struct World {
    public let database: TestDatabase
    public let connection: Connection
    private static let serial = Counter()

    public init() throws {
        database = try TestDatabase()
        connection = try database.connect()
        try Fixtures.regions(connection)
        _ = try Policy.setPay(connection, region: Fixtures.county, type: "cleaner", monthly: Fen(80_000),
                              socialInsurance: Fen(30_000), from: Month(year: 2020, month: 1)!)
    }

    /// A registered person; insured for 2000–2099 unless `insured` is false.
    @discardableResult
    public func person(born: String, household: String? = nil, category: String = "poverty-alleviated",
                       capacity: String = "weak", village: String = Fixtures.villageA1, insured: Bool = true) throws -> ResidentID {
        let number = World.serial.next()
        let id = try ResidentID(residentID(born: born, sequence: number), today: Day(year: 2099, month: 1, day: 1)!)
        try connection.command("""
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
            VALUES (left($4, 6), $1, $2, $3, $4, $5, $6, $7)
            """, [id.value, "测试\(number)", household ?? "H\(number)", village, category, capacity, "62284803" + String(100_000_000 + number)])
        if insured { try insure(id, from: "2000-01-01", to: "2099-12-31") }
        return id
    }

    public func insure(_ id: ResidentID, from: String, to: String) throws {
        _ = try Insurance.add(connection, person: id, insurer: "人保财险", policy: "P\(World.serial.next())",
                              from: Day(iso: from)!, to: Day(iso: to)!, premium: Fen(5_000))
    }

    /// An approved post (approved on 2020-01-01 unless said otherwise).
    public func post(type: String = "cleaner", region: String = Fixtures.villageA1, approvedOn: String = "2020-01-01") throws -> String {
        let post = try Posts.propose(connection, region: region, type: type, funding: "employment-fund",
                                     developer: "首羡镇人民政府", need: "村庄保洁", on: Day(iso: "2019-12-01")!)
        let id = post.id
        _ = try Posts.approve(connection, id, on: Day(iso: approvedOn)!)
        return id
    }

    public func hire(_ post: String, _ id: ResidentID, _ start: String, _ end: String) throws {
        _ = try Placements.hire(connection, post: post, person: id, start: Day(iso: start)!, end: Day(iso: end)!, kind: nil)
    }

    /// Every lifecycle row, to prove a refusal changed nothing.
    public func fingerprint() throws -> String {
        try connection.query("""
            SELECT concat_ws('/',
              (SELECT count(*) || md5(coalesce(string_agg(p::text, '|' ORDER BY id), '')) FROM post p),
              (SELECT count(*) || md5(coalesce(string_agg(p::text, '|' ORDER BY id), '')) FROM placement p),
              (SELECT count(*) || md5(coalesce(string_agg(c::text, '|' ORDER BY id), '')) FROM contract c),
              (SELECT count(*) || md5(coalesce(string_agg(i::text, '|' ORDER BY id), '')) FROM insurance_policy i)) AS f
            """)[0]["f"] ?? ""
    }

    /// Runs `body`, which must be refused with `code` (and the exit code of `category`), and
    /// checks that nothing changed.
    public func expectRefusal(_ code: String, exit: Int32 = 1, _ body: () throws -> Void) throws -> AppError? {
        let before = try fingerprint()
        var caught: AppError?
        do { try body() } catch let error as AppError { caught = error }
        guard try fingerprint() == before else { throw TestSupportError("the refused command changed the database") }
        guard let caught, caught.code == code, caught.category.rawValue == exit else {
            throw TestSupportError("expected refusal \(code) (exit \(exit)), got \(caught.map { "\($0.code) (exit \($0.category.rawValue)): \($0.message.en)" } ?? "success")")
        }
        return caught
    }
}
