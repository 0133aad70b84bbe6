import Foundation
import Postgres
import Testing
import TestSupport

@Suite("libpq layer against a live server")
struct ConnectionTests {
    @Test func boundParametersRoundTrip() throws {
        let db = try TestDatabase().connect()
        let rows = try db.query("SELECT $1::text AS t, $2::int AS i, $3::bool AS b, $4::text AS n, $5::text[] AS a",
                                ["多'引\"号", 42, true, String?.none, ["a,b", "c\"d"]])
        #expect(rows.count == 1)
        #expect(rows[0]["t"] == "多'引\"号")
        #expect(try rows[0].decode("i", as: Int.self) == 42)
        #expect(try rows[0].decode("b", as: Bool.self) == true)
        #expect(rows[0]["n"] == nil)
        #expect(rows[0]["a"] == "{\"a,b\",\"c\\\"d\"}")
    }

    @Test func syntaxErrorCarriesSQLState() throws {
        let db = try TestDatabase().connect()
        let error = #expect(throws: PostgresError.self) { try db.query("SELEC 1") }
        #expect(error?.sqlState == "42601")
        #expect(error?.kind == .server)
        // The connection is still usable after a failed statement.
        #expect(try db.query("SELECT 1 AS one")[0]["one"] == "1")
    }

    @Test func uniqueViolationNamesItsConstraint() throws {
        let db = try TestDatabase().connect()
        try db.execute("CREATE TABLE t (k int CONSTRAINT one_k UNIQUE)")
        try db.command("INSERT INTO t VALUES ($1)", [1])
        let error = #expect(throws: PostgresError.self) { try db.command("INSERT INTO t VALUES ($1)", [1]) }
        #expect(error?.isUniqueViolation == true)
        #expect(error?.constraintName == "one_k")
        #expect(error?.detail?.contains("(k)=(1)") == true)
    }

    @Test func unreachableServerIsAConnectionError() throws {
        let error = #expect(throws: PostgresError.self) {
            try Connection("host=/nonexistent-folder-for-test port=5999 user=nobody dbname=x connect_timeout=2")
        }
        #expect(error?.kind == .connection)
        #expect(error?.message.isEmpty == false)
    }

    @Test func transactionCommitsOrRollsBack() throws {
        let db = try TestDatabase().connect()
        try db.execute("CREATE TABLE t (k int)")
        try db.transaction { try db.command("INSERT INTO t VALUES (1)") }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.command("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT array_agg(k) AS ks FROM t")[0]["ks"] == "{1}")
    }

    @Test func copyInAndOutStream() throws {
        let db = try TestDatabase().connect()
        try db.execute("CREATE TABLE t (k int, v text)")
        let copied = try db.copyIn("COPY t FROM STDIN") { writer in
            for i in 1...50_000 { try writer.write("\(i)\tv\(i)\n") }
        }
        #expect(copied == 50_000)
        var bytes = 0
        var chunks = 0
        try db.copyOut("COPY (SELECT * FROM t ORDER BY k) TO STDOUT") { chunk in
            bytes += chunk.count
            chunks += 1
        }
        #expect(chunks == 50_000)
        #expect(bytes > 500_000)
    }

    @Test func abortedCopyKeepsNothing() throws {
        let db = try TestDatabase().connect()
        try db.execute("CREATE TABLE t (k int)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.copyIn("COPY t FROM STDIN") { writer in
                try writer.write("1\n")
                throw Stop()
            }
        }
        let bad = #expect(throws: PostgresError.self) {
            try db.copyIn("COPY t FROM STDIN") { try $0.write("not-a-number\n") }
        }
        #expect(bad?.sqlState == "22P02")
        #expect(try db.query("SELECT count(*) AS n FROM t")[0]["n"] == "0")
    }
}
