import Postgres

/// 查处: the violations of SPEC §7, read from the SQL views of `sql/0006_audit.sql` (one per
/// rule, and their union `audit_violation`), which take the report's dates from settings of
/// the transaction.
public enum Audit {
    /// What a report covers. Nil values take the views' defaults: today, every month with a
    /// payment or an approved payroll up to the as-of month, every region, every rule.
    public struct Filter: Sendable {
        public var region: String?
        public var asOf: Day?
        public var from: Month?
        public var to: Month?
        public var rule: String?

        public init(region: String? = nil, asOf: Day? = nil, from: Month? = nil, to: Month? = nil, rule: String? = nil) {
            self.region = region
            self.asOf = asOf
            self.from = from
            self.to = to
            self.rule = rule
        }
    }

    /// Every case, in the order of SPEC §7, then by region, person and date.
    public static func violations(_ connection: Connection, _ filter: Filter) throws -> [Row] {
        try report(connection, filter) { prefix, rule in
            try connection.query("""
                SELECT v.rule, v.county_code, c.name AS county, v.township_code, t.name AS township, v.village_code, vi.name AS village,
                       v.id_number, pe.name, v.post_id, v.from_on::text, v.to_on::text, to_char(v.month, 'YYYY-MM') AS month,
                       v.amount_fen, v.explanation, v.explanation_zh, v.basis
                FROM audit_violation v
                JOIN audit_rule r ON r.code = v.rule
                LEFT JOIN person pe ON pe.id_number = v.id_number
                LEFT JOIN region c ON c.code = v.county_code || '000000'
                LEFT JOIN region t ON t.code = v.township_code
                LEFT JOIN region vi ON vi.code = v.village_code
                WHERE v.region_code LIKE $1 || '%' AND ($2 = '' OR v.rule = $2)
                ORDER BY r.position, v.region_code, v.id_number, v.post_id, v.from_on
                """, [prefix, rule])
        }
    }

    /// Cases and money at stake per rule and county, each rule's total, and the grand total
    /// (rule and county empty).
    public static func summary(_ connection: Connection, _ filter: Filter) throws -> [Row] {
        try report(connection, filter) { prefix, rule in
            try connection.query("""
                SELECT coalesce(v.rule, '') AS rule, coalesce(v.county_code, '') AS county_code,
                       (SELECT name FROM region WHERE code = v.county_code || '000000') AS county,
                       count(*) AS cases, coalesce(sum(v.amount_fen), 0) AS amount_fen
                FROM audit_violation v
                WHERE v.region_code LIKE $1 || '%' AND ($2 = '' OR v.rule = $2)
                GROUP BY GROUPING SETS ((v.rule, v.county_code), (v.rule), ())
                ORDER BY (SELECT position FROM audit_rule WHERE code = v.rule) NULLS LAST, v.county_code NULLS FIRST
                """, [prefix, rule])
        }
    }

    /// The rule codes of SPEC §7, in order.
    public static func rules(_ connection: Connection) throws -> [String] {
        try Database.mapped { try connection.query("SELECT code FROM audit_rule ORDER BY position").compactMap { $0["code"] } }
    }

    /// Checks the filter, sets the views' parameters for one read-only transaction, and runs `body`
    /// with the region prefix and rule code ('' for all).
    private static func report(_ connection: Connection, _ filter: Filter, _ body: (String, String) throws -> [Row]) throws -> [Row] {
        let region = try filter.region.map { try Regions.require(connection, $0) }
        if let rule = filter.rule, try !rules(connection).contains(rule) {
            throw AppError.badInput(Text(
                en: "unknown rule '\(rule)': use one of \(try rules(connection).joined(separator: ", "))",
                zh: "未知的规则“\(rule)”：可用 \(try rules(connection).joined(separator: "、"))"), code: "UNKNOWN_CODE")
        }
        if let from = filter.from, let to = filter.to, to < from {
            throw AppError.badInput(Text(en: "--to \(to) is before --from \(from)", zh: "--to \(to) 早于 --from \(from)"))
        }
        // Payment rules compute entitlements only for the counties of the region.
        let county = region.map { String($0.significantPrefix.prefix(6)) } ?? ""
        return try Database.mapped {
            try connection.transaction(.repeatableRead) {
                try connection.execute("SET TRANSACTION READ ONLY")
                try Payroll.tuneForBulk(connection)
                try connection.query("""
                    SELECT set_config('welfare_posts.as_of', $1, true), set_config('welfare_posts.from_month', $2, true),
                           set_config('welfare_posts.to_month', $3, true), set_config('welfare_posts.county', $4, true)
                    """, [filter.asOf?.iso ?? "", filter.from?.firstDay.iso ?? "", filter.to?.firstDay.iso ?? "", county])
                return try body(region?.significantPrefix ?? "", filter.rule ?? "")
            }
        }
    }
}
