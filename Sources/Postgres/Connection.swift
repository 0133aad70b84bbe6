import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq connection. Every statement with values goes through `query` with bound
/// parameters; `execute` runs parameterless scripts (migrations) only.
///
/// Not thread-safe: one connection per command run, or per test. Only its `canceller` may be
/// used from another thread.
public final class Connection {
    private let handle: OpaquePointer
    /// Stops this connection's running statement from another thread; see `Canceller`.
    public let canceller: Canceller
    /// Whether this connection committed a transaction that wrote something, or ran a writing
    /// statement outside a transaction.
    public private(set) var hasCommittedWrites = false

    /// Connects with a libpq connection string or URL. An empty string lets libpq use its own
    /// `PG*` environment variables and service file.
    public init(_ conninfo: String = "") throws {
        guard let handle = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, message: "out of memory while connecting")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Connection.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(kind: .connection, message: message)
        }
        self.handle = handle
        canceller = Canceller(handle, requested: false)
        if ConnectionRegistry.shared.add(canceller) { canceller.cancel() }
        // Notices (e.g. "extension already exists, skipping") are not for the user's terminal.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        ConnectionRegistry.shared.remove(canceller)
        PQfinish(handle)
    }

    /// The role this session acts as (after any `SET ROLE`).
    public var user: String { String(cString: PQuser(handle)) }

    // MARK: Statements

    /// Runs one statement with bound, text-format parameters (`$1`, `$2`, …) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> [Row] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return rows(of: result)
    }

    /// Runs one statement and returns the number of rows it inserted, updated, deleted or copied.
    @discardableResult
    public func command(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs a script of several statements without parameters (migrations, fixed DDL).
    public func execute(_ script: String) throws {
        try refuseIfCancelled()
        let autocommit = PQtransactionStatus(handle) == PQTRANS_IDLE
        let result = PQexec(handle, script)
        defer { PQclear(result) }
        try check(result)
        if autocommit, let result { noteAutocommitted(result) }
    }

    // MARK: Transactions

    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws
    /// (or when the connection was cancelled meanwhile).
    @discardableResult
    public func transaction<T>(_ isolation: Isolation = .readCommitted, _ body: () throws -> T) throws -> T {
        try execute("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        let value: T
        let wrote: Bool
        do {
            value = try body()
            // A transaction that wrote anything has been given a transaction ID. (An aborted
            // one is rolled back by its COMMIT, as before.)
            wrote = PQtransactionStatus(handle) == PQTRANS_INTRANS
                ? try query("SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS w").first?["w"] == "t" : false
            try execute("COMMIT")
        } catch {
            rollback()
            throw error
        }
        if wrote { noteWrite() }
        return value
    }

    /// Ends a failed or cancelled transaction. Runs even on a cancelled connection; the
    /// original error matters more than a failed rollback on a broken connection.
    private func rollback() {
        if PQtransactionStatus(handle) == PQTRANS_IDLE { return }
        PQclear(PQexec(handle, "ROLLBACK"))
    }

    // MARK: COPY

    /// Runs `COPY … FROM STDIN` and lets `body` stream the data through the writer. If `body`
    /// throws, the COPY is aborted and nothing it sent is kept. Returns the rows copied.
    @discardableResult
    public func copyIn(_ sql: String, _ body: (CopyWriter) throws -> Void) throws -> Int {
        try refuseIfCancelled()
        let autocommit = PQtransactionStatus(handle) == PQTRANS_IDLE
        let start = PQexec(handle, sql)
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            try check(start)
            throw PostgresError(kind: .server, message: "statement is not COPY FROM STDIN")
        }
        let writer = CopyWriter(connection: self)
        do {
            try body(writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by client")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError() }
        var copied = 0
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            if failure == nil {
                do { try check(result) } catch let error as PostgresError { failure = error }
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            }
            PQclear(result)
        }
        if let failure { throw failure }
        if autocommit && copied > 0 { noteWrite() }
        return copied
    }

    /// Runs `COPY … TO STDOUT` and hands each chunk of data to `body` as it arrives, so an
    /// export of a million rows is never held in memory whole.
    public func copyOut(_ sql: String, _ body: ([UInt8]) throws -> Void) throws {
        try copyOut(raw: sql) { try body(Array($0)) }
    }

    /// `copyOut`, each chunk lent in place (valid only during `body`), not copied into an array.
    public func copyOut(raw sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try refuseIfCancelled()
        let start = PQexec(handle, sql)
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            try check(start)
            throw PostgresError(kind: .server, message: "statement is not COPY TO STDOUT")
        }
        var bodyError: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                if bodyError == nil {
                    let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
                    do { try body(bytes) } catch { bodyError = error }
                }
                PQfreemem(buffer)
            } else if length == -1 {
                break
            } else {
                throw connectionError()
            }
        }
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            if failure == nil {
                do { try check(result) } catch let error as PostgresError { failure = error }
            }
            PQclear(result)
        }
        if let failure { throw failure }
        if let bodyError { throw bodyError }
    }

    /// Sends COPY data in chunks of about 64 KiB.
    public final class CopyWriter {
        private unowned let connection: Connection
        private var buffer: [UInt8] = []

        init(connection: Connection) {
            self.connection = connection
            buffer.reserveCapacity(1 << 17)
        }

        public func write(_ text: String) throws {
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= 1 << 16 { try flush() }
        }

        /// One byte, such as a tab or a line break. Concrete, not generic: a generic called
        /// from another module runs unspecialised, and imports call this millions of times.
        public func write(byte: UInt8) throws {
            buffer.append(byte)
            if buffer.count >= 1 << 16 { try flush() }
        }

        /// A value as a field of COPY's text format: backslash, tab and line breaks escaped, in
        /// one pass over its bytes.
        public func write(field text: String) throws {
            var text = text
            text.withUTF8 { bytes in
                // Checked first, then appended whole: one access to the buffer, not one a byte.
                guard bytes.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
                    buffer.append(contentsOf: bytes)
                    return
                }
                var escaped: [UInt8] = []
                escaped.reserveCapacity(bytes.count + 8)
                for byte in bytes {
                    switch byte {
                    case 0x5C: escaped.append(0x5C); escaped.append(0x5C)
                    case 0x09: escaped.append(0x5C); escaped.append(UInt8(ascii: "t"))
                    case 0x0A: escaped.append(0x5C); escaped.append(UInt8(ascii: "n"))
                    case 0x0D: escaped.append(0x5C); escaped.append(UInt8(ascii: "r"))
                    default: escaped.append(byte)
                    }
                }
                buffer.append(contentsOf: escaped)
            }
            if buffer.count >= 1 << 16 { try flush() }
        }

        /// A whole number in decimal, without making a string of it.
        public func write(decimal value: Int) throws {
            var value = value
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let count = withUnsafeMutableBytes(of: &digits) { raw in
                var at = raw.count
                let negative = value < 0
                repeat {
                    at -= 1
                    raw[at] = UInt8(ascii: "0") + UInt8(abs(value % 10))
                    value /= 10
                } while value != 0
                if negative { at -= 1; raw[at] = UInt8(ascii: "-") }
                return raw.count - at
            }
            withUnsafeBytes(of: &digits) { raw in buffer.append(contentsOf: raw[(raw.count - count)...]) }
            if buffer.count >= 1 << 16 { try flush() }
        }

        public func write(bytes: [UInt8]) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 16 { try flush() }
        }

        func flush() throws {
            // A cancelled COPY FROM STDIN stops sending: copyIn then aborts it.
            try connection.refuseIfCancelled()
            guard !buffer.isEmpty else { return }
            let sent = buffer.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) {
                    PQputCopyData(connection.handle, $0.baseAddress, Int32($0.count))
                }
            }
            guard sent == 1 else { throw connection.connectionError() }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    // MARK: Internals

    private func run(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> OpaquePointer {
        try refuseIfCancelled()
        let autocommit = PQtransactionStatus(handle) == PQTRANS_IDLE
        let texts = parameters.map { $0.postgresText }
        var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { pointers.forEach { free($0) } }
        let result = pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                PQexecParams(handle, sql, Int32(texts.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        guard let result else { throw connectionError() }
        do {
            try check(result)
        } catch {
            PQclear(result)
            throw error
        }
        if autocommit { noteAutocommitted(result) }
        return result
    }

    // MARK: Cancel

    /// The error of a statement stopped, or refused, because this connection was cancelled.
    private static let cancelled = PostgresError(
        kind: .cancelled, sqlState: "57014", message: "canceling statement due to user request")

    /// A cancelled connection runs nothing more (a cancel that reached the server between two
    /// statements was ignored there, so the client must stop the next one itself).
    fileprivate func refuseIfCancelled() throws {
        if canceller.isRequested { throw Connection.cancelled }
    }

    private func noteWrite() {
        hasCommittedWrites = true
        ConnectionRegistry.shared.noteWrite()
    }

    /// A statement that ran outside a transaction was committed by itself: note it if its
    /// command tag says it may have written.
    private func noteAutocommitted(_ result: OpaquePointer) {
        let tag = String(cString: PQcmdStatus(result))
        let verb = tag.split(separator: " ").first.map(String.init) ?? ""
        let reading: Set<String> = ["", "SELECT", "SET", "SHOW", "RESET", "BEGIN", "START", "ROLLBACK", "EXPLAIN"]
        if !reading.contains(verb) { noteWrite() }
    }

    private func check(_ result: OpaquePointer?) throws {
        guard let result else { throw connectionError() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return
        default:
            if PQstatus(handle) != CONNECTION_OK { throw connectionError() }
            func field(_ code: Int32) -> String? {
                PQresultErrorField(result, code).map { String(cString: $0) }
            }
            // Stopped at our request, not by statement_timeout (the same SQLSTATE).
            if field(WP_DIAG_SQLSTATE) == "57014" && canceller.isRequested { throw Connection.cancelled }
            throw PostgresError(
                kind: .server,
                sqlState: field(WP_DIAG_SQLSTATE) ?? "",
                message: field(WP_DIAG_MESSAGE_PRIMARY) ?? Connection.trimmed(PQresultErrorMessage(result)),
                detail: field(WP_DIAG_MESSAGE_DETAIL),
                hint: field(WP_DIAG_MESSAGE_HINT),
                constraintName: field(WP_DIAG_CONSTRAINT_NAME),
                tableName: field(WP_DIAG_TABLE_NAME),
                columnName: field(WP_DIAG_COLUMN_NAME)
            )
        }
    }

    private func rows(of result: OpaquePointer) -> [Row] {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        return (0..<PQntuples(result)).map { row in
            Row(columns: columns, values: (0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
    }

    private func drainResults() {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    fileprivate func connectionError() -> PostgresError {
        PostgresError(kind: .connection, message: Connection.trimmed(PQerrorMessage(handle)))
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        var text = String(cString: message)
        while text.last?.isNewline == true || text.last == " " { text.removeLast() }
        return text
    }
}
