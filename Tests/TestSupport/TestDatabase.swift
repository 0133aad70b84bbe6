import Foundation
import Postgres
import WelfarePosts

/// A database of its own for one test, created from a migrated template so tests run in
/// parallel and never see each other's rows.
///
/// The server is one throw-away cluster per test process (`deploy/throwaway-cluster.sh`),
/// or the server named by `WELFARE_POSTS_TEST_DATABASE_URL` when that is set.
public struct TestDatabase: Sendable {
    /// libpq connection string of this test's database.
    public let conninfo: String
    public let name: String

    /// A migrated database, or an empty one when `migrated` is false (to test an upgrade).
    public init(migrated: Bool = true) throws {
        let server = try TestServer.shared.get()
        let name = "t_\(getpid())_\(TestServer.nextNumber())"
        try TestServer.createLock.withLock {
            let admin = try Connection(server.adminConninfo)
            try admin.execute("CREATE DATABASE \(name) TEMPLATE \(migrated ? server.templateName : "template0")")
        }
        self.name = name
        conninfo = server.conninfo(database: name)
    }

    public func connect() throws -> Connection { try Connection(conninfo) }
}

/// The server all tests of this process share.
struct TestServer: Sendable {
    let base: String
    let adminConninfo: String
    let templateName: String

    static let shared: Result<TestServer, Error> = Result { try TestServer.start() }
    static let createLock = NSLock()
    private static let counter = Counter()

    static func nextNumber() -> Int { counter.next() }

    func conninfo(database: String) -> String { "\(base) dbname=\(database)" }

    private static func start() throws -> TestServer {
        let admin: String
        if let url = ProcessInfo.processInfo.environment["WELFARE_POSTS_TEST_DATABASE_URL"], !url.isEmpty {
            admin = url
        } else {
            admin = try startCluster()
        }
        // Keep every libpq keyword but the database name, to name other databases on it.
        let connection = try Connection(admin)
        let rows = try connection.query("SELECT current_user AS u")
        let user = rows[0]["u"] ?? "postgres"
        let base = try baseConninfo(admin, user: user)
        let template = "wp_template_\(getpid())"
        try connection.execute("DROP DATABASE IF EXISTS \(template)")
        try connection.execute("CREATE DATABASE \(template)")
        do {
            let migrating = try Connection("\(base) dbname=\(template)")
            _ = try Migrator(connection: migrating).migrate()
        }
        return TestServer(base: base, adminConninfo: "\(base) dbname=postgres", templateName: template)
    }

    /// The connection string without its database, from a URL or keyword form.
    private static func baseConninfo(_ admin: String, user: String) throws -> String {
        if admin.hasPrefix("postgres://") || admin.hasPrefix("postgresql://") {
            guard var parts = URLComponents(string: admin) else { return "user=\(user)" }
            parts.path = ""
            var words: [String] = []
            if let host = parts.host, !host.isEmpty { words.append("host=\(host)") }
            if let port = parts.port { words.append("port=\(port)") }
            words.append("user=\(parts.user ?? user)")
            if let password = parts.password { words.append("password=\(password)") }
            for item in parts.queryItems ?? [] where item.name != "dbname" {
                words.append("\(item.name)=\(item.value ?? "")")
            }
            return words.joined(separator: " ")
        }
        return admin.split(separator: " ").filter { !$0.hasPrefix("dbname=") }.joined(separator: " ")
    }

    private static func startCluster() throws -> String {
        let script = packageRoot.appendingPathComponent("deploy/throwaway-cluster.sh").path
        let result = try runProcess("/bin/bash", [script, String(getpid())])
        guard result.status == 0 else {
            throw TestSupportError("could not start a throw-away PostgreSQL cluster: \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The package's root folder, found from this source file's path.
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
