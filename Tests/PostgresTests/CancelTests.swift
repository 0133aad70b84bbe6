import Foundation
import Postgres
import Testing
import TestSupport

/// `Canceller`: a running statement, a COPY either way and a transaction stopped from another
/// thread, as the command line's SIGINT handler does. (Only per-connection cancels here:
/// `Connection.cancelAll()` would cancel every other test of this process too.)
@Suite("cancel")
struct CancelTests {
    /// Cancels `connection` from another thread after `delay` seconds.
    func cancel(_ connection: Connection, after delay: Double = 0.3) {
        let canceller = connection.canceller
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { canceller.cancel() }
    }

    @Test func cancelStopsARunningStatement() throws {
        let db = try TestDatabase().connect()
        cancel(db)
        let started = Date()
        let error = #expect(throws: PostgresError.self) { try db.query("SELECT pg_sleep(30)") }
        #expect(error?.kind == .cancelled)
        #expect(Date().timeIntervalSince(started) < 5)
        // The server ignores a cancel between statements, so the connection refuses the next one.
        let next = #expect(throws: PostgresError.self) { try db.query("SELECT 1") }
        #expect(next?.kind == .cancelled)
    }

    @Test func cancelRollsBackTheTransaction() throws {
        let database = try TestDatabase()
        let db = try database.connect()
        try db.execute("CREATE TABLE t (k int)")
        try db.transaction { try db.command("INSERT INTO t VALUES (1)") }
        #expect(db.hasCommittedWrites)
        let reader = try database.connect()
        try reader.transaction { _ = try reader.query("SELECT count(*) FROM t") }
        #expect(!reader.hasCommittedWrites, "a read-only transaction counted as a write")
        let writer = try database.connect()
        cancel(writer)
        let error = #expect(throws: PostgresError.self) {
            try writer.transaction {
                try writer.command("INSERT INTO t VALUES (2)")
                try writer.query("SELECT pg_sleep(30)")
            }
        }
        #expect(error?.kind == .cancelled)
        #expect(!writer.hasCommittedWrites)
        #expect(try reader.query("SELECT count(*) AS n FROM t")[0]["n"] == "1")
        // No transaction left open on the server for that connection.
        #expect(try reader.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")[0]["n"] == "0")
    }

    @Test func cancelStopsCopyOut() throws {
        let db = try TestDatabase().connect()
        cancel(db)
        var chunks = 0
        let error = #expect(throws: PostgresError.self) {
            try db.copyOut("COPY (SELECT g, pg_sleep(0.01) FROM generate_series(1, 100000) g) TO STDOUT") { _ in chunks += 1 }
        }
        #expect(error?.kind == .cancelled)
        #expect(chunks < 100_000)
    }

    @Test func cancelStopsCopyIn() throws {
        let database = try TestDatabase()
        let db = try database.connect()
        try db.execute("CREATE TABLE t (k int, v text)")
        let error = #expect(throws: PostgresError.self) {
            try db.transaction {
                try db.copyIn("COPY t FROM STDIN") { writer in
                    for row in 0..<1_000_000 {
                        if row == 1000 { db.canceller.cancel() }
                        try writer.write("\(row)\tsome text to fill the buffer\n")
                    }
                }
            }
        }
        #expect(error?.kind == .cancelled)
        #expect(try database.connect().query("SELECT count(*) AS n FROM t")[0]["n"] == "0")
    }

    /// statement_timeout has the same SQLSTATE as a cancel, but is the server's doing.
    @Test func statementTimeoutIsNoCancel() throws {
        let db = try TestDatabase().connect()
        try db.execute("SET statement_timeout = 100")
        let error = #expect(throws: PostgresError.self) { try db.query("SELECT pg_sleep(5)") }
        #expect(error?.kind == .server && error?.isQueryCanceled == true)
        #expect(try db.query("SELECT 1 AS one")[0]["one"] == "1")
    }
}
