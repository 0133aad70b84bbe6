/// An error from libpq or from the server, with the server's own fields so callers can turn a
/// constraint name into a rule code. `description` is deliberately the message only: no
/// parameter values or row data reach logs through it.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or the connection broke.
        case connection
        /// The server refused a statement.
        case server
        /// A row could not be read as the type asked for.
        case decoding
        /// The statement was stopped at this client's request (`Canceller.cancel()`,
        /// `Connection.cancelAll()`): the server rolled its transaction back.
        case cancelled
    }

    public var kind: Kind
    /// Five-character SQLSTATE (`23505` unique violation, …); empty for connection errors.
    public var sqlState: String
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraintName: String?
    public var tableName: String?
    public var columnName: String?

    public init(kind: Kind, sqlState: String = "", message: String, detail: String? = nil,
                hint: String? = nil, constraintName: String? = nil, tableName: String? = nil,
                columnName: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraintName = constraintName
        self.tableName = tableName
        self.columnName = columnName
    }

    public var description: String { message }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isExclusionViolation: Bool { sqlState == "23P01" }
    public var isCheckViolation: Bool { sqlState == "23514" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// Serialization failure or deadlock: the transaction may simply be tried again.
    public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The server stopped the statement: at a client's request, or after `statement_timeout`.
    public var isQueryCanceled: Bool { sqlState == "57014" }
    /// Raised by our own triggers and functions (`RAISE EXCEPTION … USING ERRCODE = 'P0001'`).
    public var isRaised: Bool { sqlState == "P0001" }
}
