import Postgres

/// Accident-injury insurance (意外伤害商业保险). A day is covered when any of the person's
/// policies covers it; policies may overlap. The same policy (person, insurer, number) recorded
/// again replaces its dates and premium.
public enum Insurance {
    public static let columns = [
        ImportColumn("id_number", "身份证号"), ImportColumn("insurer", "保险公司", kind: .name), ImportColumn("policy_number", "保单号"),
        ImportColumn("from", "起保日期"), ImportColumn("to", "终保日期"), .amount("premium", "保费", required: false),
    ]

    static let upsert = """
        INSERT INTO insurance_policy AS i (county_code, id_number, insurer, policy_number, valid_from, valid_to, premium_fen)
        SELECT p.county_code, s.id_number, s.insurer, s.policy_number, s.valid_from::date, s.valid_to::date, s.premium_fen::bigint
        FROM %@ s JOIN person p ON p.id_number = s.id_number
        ON CONFLICT (id_number, insurer, policy_number) DO UPDATE SET valid_from = EXCLUDED.valid_from,
          valid_to = EXCLUDED.valid_to, premium_fen = EXCLUDED.premium_fen, recorded_at = now()
        WHERE (i.valid_from, i.valid_to, i.premium_fen) IS DISTINCT FROM (EXCLUDED.valid_from, EXCLUDED.valid_to, EXCLUDED.premium_fen)
        """

    public static func add(_ connection: Connection, person: ResidentID, insurer: String, policy: String,
                           from: Day, to: Day, premium: Fen?) throws -> Row {
        guard to >= from else {
            throw AppError.badInput(Text(en: "the policy ends (\(to)) before it starts (\(from))", zh: "保单终保日期（\(to)）早于起保日期（\(from)）"))
        }
        for (name, value) in [("--insurer", insurer), ("--policy", policy)] where value.trimmingWhitespace().isEmpty {
            throw AppError.badInput(Text(en: "\(name) must not be empty", zh: "\(name) 不能为空"))
        }
        _ = try Persons.find(connection, person)
        return try Database.mapped {
            try connection.transaction {
                try connection.execute("CREATE TEMP TABLE insurance_one (id_number text, insurer text, policy_number text, valid_from text, valid_to text, premium_fen text) ON COMMIT DROP")
                try connection.command("INSERT INTO insurance_one VALUES ($1, $2, $3, $4, $5, $6)",
                                       [person.value, insurer.trimmingWhitespace(), policy.trimmingWhitespace(), from.iso, to.iso,
                                        premium.map { String($0.value) }])
                try connection.command(upsert.replacingOccurrences(of: "%@", with: "insurance_one"))
                return try connection.query("""
                    SELECT id_number, insurer, policy_number, valid_from::text, valid_to::text, premium_fen FROM insurance_policy
                    WHERE id_number = $1 AND insurer = $2 AND policy_number = $3
                    """, [person.value, insurer.trimmingWhitespace(), policy.trimmingWhitespace()])[0]
            }
        }
    }

    public static func importFile(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> ImportOutcome {
        try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "insurance_stage",
                                          stagingColumns: ["id_number", "insurer", "policy_number", "valid_from", "valid_to", "premium_fen"]) { row in
                    let id = row.residentID(today: today)
                    let insurer = row.required("insurer", "保险公司"), number = row.required("policy_number", "保单号")
                    let from = row.date("from", "起保日期"), to = row.date("to", "终保日期")
                    if let from, let to, to < from {
                        row.problem("to", Text(en: "the policy ends (\(to)) before it starts (\(from))", zh: "终保日期（\(to)）早于起保日期（\(from)）"))
                    }
                    let premium = row.amount("premium", "保费", required: false).map { String($0.value) }
                    guard let id, let insurer, let number, let from, let to else { return nil }
                    return [id, insurer, number, from.iso, to.iso, premium]
                }
                let unseen = "NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)"
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM insurance_stage s WHERE \(unseen) AND NOT \(staging.personOutsideRegion)
                    """) { _ in Text(en: "no person with this resident ID is registered: import them with `person import` first",
                                     zh: "未登记该身份证号的人员：请先用 `person import` 导入") }
                try staging.check(connection, """
                    SELECT line, 'policy_number' AS key, first FROM (SELECT line, min(line) OVER (PARTITION BY id_number, insurer, policy_number) AS first
                      FROM insurance_stage) d WHERE line > first
                    """) { Text(en: "the same policy is already on line \($0["first"] ?? "?")", zh: "同一保单已在第 \($0["first"] ?? "?") 行出现") }
                try staging.requireNoProblems()
                try staging.refusePersonsOutsideRegion(connection, where: unseen)
                let counts = try connection.query("""
                    SELECT count(*) FILTER (WHERE i.id IS NULL) AS inserted,
                           count(*) FILTER (WHERE i.id IS NOT NULL AND (i.valid_from, i.valid_to, i.premium_fen)
                             IS DISTINCT FROM (s.valid_from::date, s.valid_to::date, s.premium_fen::bigint)) AS updated
                    FROM insurance_stage s LEFT JOIN insurance_policy i
                      ON i.id_number = s.id_number AND i.insurer = s.insurer AND i.policy_number = s.policy_number
                    """)[0]
                if !dryRun { try connection.command(upsert.replacingOccurrences(of: "%@", with: "insurance_stage")) }
                return ImportOutcome(rows: staging.rowCount, inserted: try counts.decode("inserted"),
                                     updated: try counts.decode("updated"), dryRun: dryRun)
            }
        }
    }

    /// A person's policies, oldest first.
    public static func policies(_ connection: Connection, person: String) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT insurer, policy_number, valid_from::text, valid_to::text, premium_fen FROM insurance_policy
                WHERE id_number = $1 ORDER BY valid_from, policy_number
                """, [person])
        }
    }
}

extension ImportRow {
    /// The required `id_number` cell as a checked resident ID (upper-case X), or a problem.
    public mutating func residentID(today: Day) -> String? {
        guard let text = required("id_number", "身份证号") else { return nil }
        do {
            return try ResidentID(text, today: today).value
        } catch {
            problem("id_number", error.explanation(text))
            return nil
        }
    }

    /// A required ISO date cell, or a problem.
    public mutating func date(_ key: String, _ zh: String) -> Day? {
        guard let text = required(key, zh) else { return nil }
        guard let day = Day(iso: text) else {
            problem(key, Text(en: "'\(TextValue.quoted(text))' is not a date: write YYYY-MM-DD", zh: "“\(TextValue.quoted(text))”不是日期：请写成 YYYY-MM-DD"))
            return nil
        }
        return day
    }
}
