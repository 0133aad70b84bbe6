import Postgres

/// Opens the connection a command works through, turning libpq failures into `AppError`s.
public enum Database {
    /// Connects with `--database`, else `DATABASE_URL`, else libpq's own `PG*` variables.
    public static func connect(_ url: String?, environment: [String: String]) throws -> Connection {
        let conninfo = url ?? environment["DATABASE_URL"] ?? ""
        do {
            let connection = try Connection(conninfo)
            // Dates are compared with "today" in China (SPEC §3). No statement of this tool is
            // worth compiling: JIT took 0.8 s of a province's 1.1 s `ledger summary` (its cost
            // estimate passes jit_above_cost; the work itself is a hash join of 93,000 posts), and
            // the bulk statements turned it off already (tuneForBulk, the audit's functions).
            try connection.execute("SET TIME ZONE 'Asia/Shanghai'; SET jit = off")
            return connection
        } catch let error as PostgresError {
            throw AppError(error)
        }
    }

    /// For the rest of the transaction: a million-row statement sorts and hashes in memory, and
    /// is not worth compiling (JIT takes seconds; off for the session already, see `connect`,
    /// and again here for a caller's own connection). Payroll, the audit and the journal use it.
    static func tuneForBulk(_ connection: Connection) throws {
        try connection.execute("SET LOCAL work_mem = '256MB'; SET LOCAL jit = off")
    }

    /// For a statement that reads every line of a month (the exports): hash joins, never a loop
    /// of index lookups per line. A month's lines are usually written moments before they are
    /// exported, before autovacuum has analyzed them, so the planner takes the new month for a
    /// few dozen rows and looked up each line's post and regions one by one (1.05 s instead of
    /// 0.55 s for 200,000 lines; the export's rows are the same either way).
    static func tuneForWholeMonth(_ connection: Connection) throws {
        try tuneForBulk(connection)
        try connection.execute("SET LOCAL enable_nestloop = off")
    }

    /// Runs `body` turning any `PostgresError` into an `AppError`.
    public static func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw AppError(error)
        }
    }
}
