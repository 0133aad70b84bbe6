import Postgres

/// Applies the migrations carried in the binary (`sql/NNNN_name.sql`), each once, in order,
/// each in its own transaction, recorded in `schema_migration`.
public struct Migrator {
    public struct Entry: Sendable {
        public let name: String
        /// When it was applied, as the server prints it; nil while pending.
        public let appliedAt: String?
    }

    /// Every migration the binary knows, in order.
    public static var migrations: [(name: String, sql: String)] { embeddedMigrations }

    let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Applies what is pending (only up to and including `last` when given, as an upgrade test
    /// needs) and returns the names applied. Concurrent runs wait for each other.
    @discardableResult
    public func migrate(through last: String? = nil) throws -> [String] {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migration (
              name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        try connection.query("SELECT pg_advisory_lock(hashtext('welfare-posts migrate'))")
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(hashtext('welfare-posts migrate'))") }
        let done = Set(try connection.query("SELECT name FROM schema_migration").compactMap { $0["name"] })
        var applied: [String] = []
        for migration in Self.migrations where !done.contains(migration.name) && migration.name <= (last ?? migration.name) {
            try connection.transaction {
                try connection.execute(migration.sql)
                try connection.command("INSERT INTO schema_migration (name) VALUES ($1)", [migration.name])
            }
            applied.append(migration.name)
        }
        return applied
    }

    /// Every known migration with the time it was applied, or nil when pending.
    public func status() throws -> [Entry] {
        let applied = try appliedTimes()
        return Self.migrations.map { Entry(name: $0.name, appliedAt: applied[$0.name]) }
    }

    /// Throws `NOT_MIGRATED` (exit 3) unless every migration has been applied.
    public func requireCurrent() throws {
        let applied = try appliedTimes()
        let pending = Self.migrations.filter { applied[$0.name] == nil }
        guard pending.isEmpty else {
            throw AppError(.database, code: "NOT_MIGRATED", Text(
                en: "the database is not migrated (\(pending.count) migration(s) pending): run `welfare-posts db migrate` first",
                zh: "数据库尚未迁移（\(pending.count) 个迁移待执行）：请先运行 `welfare-posts db migrate`"))
        }
    }

    private func appliedTimes() throws -> [String: String] {
        let exists = try connection.query("SELECT to_regclass('schema_migration') IS NOT NULL AS present")
        guard exists.first?["present"] == "t" else { return [:] }
        let rows = try connection.query("SELECT name, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') AS at FROM schema_migration")
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in row["name"].map { ($0, row["at"] ?? "") } })
    }
}
