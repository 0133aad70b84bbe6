import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// SPEC §11: an interrupted command (Ctrl-C, SIGTERM) cancels its query on the server. Each
/// test makes the command wait inside its query (another session holds a table lock), signals
/// the binary, and checks, while the lock is still held, that the server is no longer running
/// the command's statement: the cancel did it, not the lock's release.
@Suite("interrupted commands")
struct InterruptTests {
    /// Holds `LOCK TABLE payroll_line IN ACCESS EXCLUSIVE MODE` until `release()`.
    final class Lock {
        let connection: Connection
        init(_ database: TestDatabase) throws {
            connection = try database.connect()
            try connection.execute("BEGIN")
            try connection.execute("LOCK TABLE payroll_line IN ACCESS EXCLUSIVE MODE")
        }
        func release() throws { try connection.execute("COMMIT") }
    }

    /// The backend of the command named `application`, once it waits for a lock.
    static func waitingBackend(_ connection: Connection, _ application: String) throws -> String? {
        var pid: String?
        _ = try eventually(seconds: 30) {
            pid = try connection.query("""
                SELECT pid::text AS pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'
                """, [application]).first?["pid"]
            return pid != nil
        }
        return pid
    }

    /// What the server still runs for that backend (nothing once it is cancelled).
    static func stillRunning(_ connection: Connection, _ pid: String) throws -> Bool {
        try connection.query("SELECT 1 AS x FROM pg_stat_activity WHERE pid = $1::int AND state = 'active'", [pid]).count > 0
    }

    static func counts(_ connection: Connection) throws -> String {
        try connection.query("SELECT (SELECT count(*) FROM payroll_line) || '/' || (SELECT count(*) FROM payroll_run) AS n")[0]["n"] ?? ""
    }

    /// Ctrl-C on `payroll run` waiting inside its query: the process ends at once with exit 130
    /// and INTERRUPTED, the server stops the statement (with the lock still held), and no line
    /// is written.
    @Test func ctrlCCancelsTheRunningQuery() throws {
        let world = try World()
        try world.hire(try world.post(), try world.person(born: "1970-01-01"), "2026-01-01", "2026-12-31")
        let before = try InterruptTests.counts(world.connection)
        let lock = try Lock(world.database)
        let application = "wp-int-\(UUID().uuidString.prefix(8))"
        let run = try startWelfarePosts(["payroll", "run", "2026-01"], on: world.database, applicationName: application)
        let backend = try #require(try InterruptTests.waitingBackend(world.connection, application), "the command never waited for the lock")
        let sent = Date()
        run.signal(SIGINT)
        let result = try #require(run.wait(seconds: 10), "still running 10 s after Ctrl-C")
        #expect(Date().timeIntervalSince(sent) < 2, "took \(Date().timeIntervalSince(sent)) s to stop")
        #expect(result.status == 130, "\(result.status): \(result.stderr)")
        #expect(result.stderr == "error: [INTERRUPTED] stopped by Ctrl-C (SIGINT): the database cancelled the running statement and rolled back its transaction; nothing was changed\n",
                "\(result.stderr)")
        #expect(try eventually(seconds: 5) { try !InterruptTests.stillRunning(world.connection, backend) },
                "the server still runs the interrupted command's statement")
        try lock.release()
        #expect(try InterruptTests.counts(world.connection) == before, "the interrupted run wrote something")
        // Nothing was left half-done: the same command, uninterrupted, does its work.
        let again = try welfarePosts(["payroll", "run", "2026-01"], on: world.database)
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// SIGTERM (what systemd or `kill` send) on an export waiting inside its query: exit 143,
    /// the statement cancelled, and no file, not even an unfinished one. The old code was killed
    /// at once and left `<out>.partial` behind.
    @Test func sigtermCancelsAnExportAndLeavesNoFile() throws {
        let world = try OutputFileTests.approvedJanuary()
        let folder = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lock = try Lock(world.database)
        let application = "wp-int-\(UUID().uuidString.prefix(8))"
        let run = try startWelfarePosts(["payroll", "export", "2026-01", "--output", folder + "/out.csv", "--lang", "zh"],
                                        on: world.database, applicationName: application)
        let backend = try #require(try InterruptTests.waitingBackend(world.connection, application), "the export never waited for the lock")
        let sent = Date()
        run.signal(SIGTERM)
        let result = try #require(run.wait(seconds: 10), "still running 10 s after SIGTERM")
        #expect(Date().timeIntervalSince(sent) < 2, "took \(Date().timeIntervalSince(sent)) s to stop")
        #expect(result.status == 143, "\(result.status): \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: [INTERRUPTED] 已被终止（SIGTERM）") && result.stderr.contains("未做任何更改"), "\(result.stderr)")
        #expect(try eventually(seconds: 5) { try !InterruptTests.stillRunning(world.connection, backend) },
                "the server still runs the interrupted export's statement")
        #expect(try OutputFileTests.listing(folder) == [], "the interrupted export left a file")
        try lock.release()
    }

    /// The production deploy's `statement_timeout` (deploy/production/bootstrap.sh) reaches the
    /// tool as a clear refusal that changed nothing, exit 3.
    @Test func statementTimeoutIsReported() throws {
        let world = try World()
        try world.hire(try world.post(), try world.person(born: "1970-01-01"), "2026-01-01", "2026-12-31")
        let before = try InterruptTests.counts(world.connection)
        let lock = try Lock(world.database)
        let run = try startWelfarePosts(["payroll", "run", "2026-01"], on: world.database, applicationName: "wp-timeout",
                                        environment: ["PGOPTIONS": "-c statement_timeout=300"])
        let result = run.wait(seconds: 30)
        try lock.release()
        let ended = try #require(result, "statement_timeout did not stop the command")
        #expect(ended.status == 3, "\(ended.status): \(ended.stderr)")
        #expect(ended.stderr.hasPrefix("error: [STATEMENT_TIMEOUT] the database stopped the statement because it ran longer than the database allows (statement_timeout)")
                && ended.stderr.contains("nothing was changed"), "\(ended.stderr)")
        #expect(try InterruptTests.counts(world.connection) == before)
    }
}

extension InterruptTests {
    /// A Unix socket that takes connections and never answers: libpq waits in its connection
    /// start-up, outside any statement, with nothing to cancel.
    final class SilentServer {
        let folder: String
        private let descriptor: Int32

        init() throws {
            folder = try OutputFileTests.folder()
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array((folder + "/.s.PGSQL.5432").utf8CString)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.map { UInt8(bitPattern: $0) }.prefix(raw.count - 1))
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard descriptor >= 0, bound == 0, listen(descriptor, 8) == 0 else { throw TestSupportError("cannot listen in \(folder)") }
        }

        deinit {
            close(descriptor)
            try? FileManager.default.removeItem(atPath: folder)
        }

        var conninfo: String { "host=\(folder) port=5432 user=postgres dbname=nowhere" }
    }

    /// Interrupted where no statement runs (here: connecting to a server that never answers),
    /// the command still ends: three seconds after the signal, or at once on a second one.
    @Test func interruptOutsideAStatementStillEnds() throws {
        let world = try World()
        let server = try SilentServer()
        for (signals, code, name, within) in [([SIGINT], Int32(130), "Ctrl-C (SIGINT)", 5.0),
                                              ([SIGINT, SIGINT], 130, "Ctrl-C (SIGINT)", 1.5),
                                              ([SIGHUP], 129, "the terminal was closed (SIGHUP)", 5.0)] {
            let run = try startWelfarePosts(["post", "list", "--database", server.conninfo], on: world.database, applicationName: "wp-silent")
            usleep(500_000)
            #expect(run.wait(seconds: 0) == nil, "the command did not wait for the silent server")
            let sent = Date()
            for signal in signals {
                run.signal(signal)
                usleep(100_000)
            }
            let result = try #require(run.wait(seconds: 10), "\(signals): still running 10 s after the signal")
            #expect(Date().timeIntervalSince(sent) < within, "\(signals): took \(Date().timeIntervalSince(sent)) s")
            #expect(result.status == code, "\(signals): \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: [INTERRUPTED] stopped") && result.stderr.contains(name)
                    && result.stderr.hasSuffix("nothing was changed\n"), "\(result.stderr)")
        }
    }
}

extension InterruptTests {
    /// `db migrate` commits migration by migration: interrupted in the third, after it saved
    /// the second, it says that what it saved stays, and the status agrees.
    @Test func interruptAfterSavedWorkSaysSo() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try Migrator(connection: connection).migrate(through: "0001_foundation")
        // 0002 does not touch person; 0003 does (its tables refer to it).
        try connection.execute("BEGIN")
        try connection.execute("LOCK TABLE person IN ACCESS EXCLUSIVE MODE")
        let application = "wp-int-\(UUID().uuidString.prefix(8))"
        let run = try startWelfarePosts(["db", "migrate"], on: database, applicationName: application)
        let observer = try database.connect()
        let backend = try #require(try InterruptTests.waitingBackend(observer, application), "db migrate never waited for the lock")
        run.signal(SIGINT)
        let result = try #require(run.wait(seconds: 10), "still running 10 s after Ctrl-C")
        #expect(result.status == 130, "\(result.status): \(result.stderr)")
        #expect(result.stderr == "error: [INTERRUPTED] stopped by Ctrl-C (SIGINT): the database cancelled the running statement and rolled back its transaction; what this command had saved before that stays saved\n",
                "\(result.stderr)")
        #expect(try eventually(seconds: 5) { try !InterruptTests.stillRunning(observer, backend) })
        try connection.execute("COMMIT")
        let applied = try connection.query("SELECT name FROM schema_migration ORDER BY name").compactMap { $0["name"] }
        #expect(applied == ["0001_foundation", "0002_policy"], "\(applied)")
    }
}

extension InterruptTests {
    /// `kill -9` leaves nothing to cancel: the production deploy's
    /// `client_connection_check_interval` (deploy/production/bootstrap.sh) makes the server
    /// notice the lost client while the statement still waits, and end it.
    @Test func killedCommandsStatementEndsWithTheConnectionCheck() throws {
        let world = try World()
        try world.hire(try world.post(), try world.person(born: "1970-01-01"), "2026-01-01", "2026-12-31")
        let lock = try Lock(world.database)
        let application = "wp-int-\(UUID().uuidString.prefix(8))"
        let run = try startWelfarePosts(["payroll", "run", "2026-01"], on: world.database, applicationName: application,
                                        environment: ["PGOPTIONS": "-c client_connection_check_interval=1s"])
        let backend = try #require(try InterruptTests.waitingBackend(world.connection, application), "the command never waited for the lock")
        run.signal(SIGKILL)
        #expect(run.wait(seconds: 5)?.status == 137)
        #expect(try eventually(seconds: 10) { try !InterruptTests.stillRunning(world.connection, backend) },
                "the server still runs the killed command's statement")
        try lock.release()
    }
}
