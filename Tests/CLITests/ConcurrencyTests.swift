import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Two administrators at once (SPEC §5): real `welfare-posts` processes racing on one server.
@Suite("concurrent hiring", .serialized)
struct ConcurrencyTests {
    /// Starts every command at once and waits for all of them.
    func race(_ commands: [[String]], on database: TestDatabase) throws -> [ProcessResult] {
        let results = Locked<[Int: ProcessResult]>([:])
        DispatchQueue.concurrentPerform(iterations: commands.count) { index in
            let result = (try? welfarePosts(commands[index], on: database)) ?? ProcessResult(status: -1, stdout: "", stderr: "could not start")
            results.mutate { $0[index] = result }
        }
        return (0..<commands.count).map { results.value[$0]! }
    }

    @Test func eightPeopleOnePost() throws {
        let world = try World()
        for round in 0..<20 {
            let post = try world.post()
            let people = try (0..<8).map { try world.person(born: "19\(60 + $0)-0\(1 + round % 9)-1\(round % 10)") }
            let results = try race(people.map { ["hire", "--post", post, "--person", $0.value, "--start", "2026-01-01", "--end", "2026-12-31"] },
                                   on: world.database)
            let winners = results.filter { $0.status == 0 }
            #expect(winners.count == 1, "round \(round): \(results.map(\.stderr))")
            for loser in results where loser.status != 0 {
                #expect(loser.status == 1, "round \(round): \(loser.stderr)")
                #expect(loser.stderr.hasPrefix("error: [POST_NOT_OPEN]") || loser.stderr.hasPrefix("error: [ONE_HOLDER_PER_POST]"), "\(loser.stderr)")
            }
            #expect(try world.connection.query("SELECT count(*) AS n FROM placement WHERE post_id = $1", [post])[0]["n"] == "1")
        }
    }

    @Test func twoOfOneHouseholdIntoTwoPosts() throws {
        let world = try World()
        for round in 0..<20 {
            let posts = try [world.post(), world.post()]
            let household = "RACE\(round)"
            let members = try [world.person(born: "1970-02-0\(1 + round % 9)", household: household),
                               world.person(born: "1972-03-0\(1 + round % 9)", household: household)]
            let results = try race((0..<2).map { ["hire", "--post", posts[$0], "--person", members[$0].value, "--start", "2026-01-01", "--end", "2026-12-31"] },
                                   on: world.database)
            #expect(results.filter { $0.status == 0 }.count == 1, "round \(round): \(results.map(\.stderr))")
            #expect(results.contains { $0.status == 1 && $0.stderr.hasPrefix("error: [HOUSEHOLD_CAP]") }, "round \(round): \(results.map(\.stderr))")
            let placed = try world.connection.query("""
                SELECT count(*) AS n FROM placement pl JOIN person p ON p.id_number = pl.id_number WHERE p.household_id = $1
                """, [household])[0]["n"]
            #expect(placed == "1")
        }
    }
}

/// A value shared by threads, behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
