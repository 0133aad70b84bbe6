import Dispatch
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

    /// Opens a second connection to the same database as the same role, for the half of a
    /// report that runs beside the other.
    public typealias Opener = @Sendable () throws -> Connection

    /// Every case, in the order of SPEC §7, then by region, person, post and date. With an
    /// opener, the payment rules (most of the work over a province: what is due for every
    /// person-month) run on a second connection beside the others, in the same snapshot.
    public static func violations(_ connection: Connection, _ filter: Filter, parallel open: Opener? = nil) throws -> [Row] {
        let rules = try Self.rules(connection)
        let prefix = try check(connection, filter, rules.map(\.code))
        let rule = filter.rule ?? ""
        let paymentRules = Set(rules.filter(\.fromPayments).map(\.code))
        let wantPayment = rule.isEmpty || paymentRules.contains(rule)
        let wantState = rule.isEmpty || !paymentRules.contains(rule)
        // The two halves hold different rules: order them together as one ORDER BY would. Each
        // row's key is made once (made in every comparison, it was a tenth of the report's CPU
        // over a province: a row finds a column by name). The state half's cases are keyed and
        // ordered while the payment half is still running; the payment half's, when they come,
        // and the two are merged (on equal keys the state half's first, as one stable sort of
        // both would give).
        let position = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.code, $0) })
        typealias Key = (Int, String, String, String, String)
        func ordered(_ rows: [Row]) -> [(key: Key, row: Row)] {
            let keyed = rows.map { row in
                (key: (position[row["rule"] ?? ""] ?? rules.count, row["region_code"] ?? "", row["id_number"] ?? "\u{FFFF}",
                       row["post_id"] ?? "\u{FFFF}", row["from_on"] ?? "\u{FFFF}"), row: row)
            }
            return keyed.indices.sorted { keyed[$0].key < keyed[$1].key }.map { keyed[$0] }
        }
        let (state, payment) = try Database.mapped {
            try connection.transaction(.repeatableRead) {
                try prepare(connection, filter, prefix)
                var payment = PendingRows()
                if wantPayment {
                    if let open, wantState {
                        let snapshot = try connection.query("SELECT pg_export_snapshot() AS s")[0]["s"] ?? ""
                        payment = PendingRows(reading: { try Database.mapped {
                            let other = try open()
                            return try other.transaction(.repeatableRead) {
                                try prepare(other, filter, prefix, snapshot: snapshot)
                                return try other.query(select(from: "audit_payment_case"), [prefix, rule])
                            }
                        } })
                    } else {
                        payment = PendingRows(try connection.query(select(from: "audit_payment_case"), [prefix, rule]))
                    }
                }
                let state = ordered(wantState ? try connection.query(select(from: "audit_state_violation"), [prefix, rule]) : [])
                return (state, ordered(try payment.wait()))
            }
        }
        var merged: [Row] = []
        merged.reserveCapacity(state.count + payment.count)
        var (i, j) = (0, 0)
        while i < state.count || j < payment.count {
            if j == payment.count || (i < state.count && !(payment[j].key < state[i].key)) {
                merged.append(state[i].row)
                i += 1
            } else {
                merged.append(payment[j].row)
                j += 1
            }
        }
        return merged
    }

    /// Cases and money at stake per rule and county: each rule's total first (county empty),
    /// then its counties, and the grand total last (rule and county empty).
    public static func summary(_ connection: Connection, _ filter: Filter, parallel open: Opener? = nil) throws -> [Row] {
        summary(of: try violations(connection, filter, parallel: open))
    }

    /// The summary of cases already read (in `violations`' order), for a report that shows both.
    public static func summary(of cases: [Row]) -> [Row] {
        let columns = ["rule", "county_code", "county", "cases", "amount_fen"]
        func line(_ rule: String, _ county: String, _ name: String?, _ group: some Collection<Row>) -> Row {
            Row(columns: columns, values: [rule, county, name, String(group.count),
                                           String(group.reduce(Int64(0)) { $0 + (Int64($1["amount_fen"] ?? "") ?? 0) })])
        }
        var lines: [Row] = []
        var index = cases.startIndex
        while index < cases.endIndex {
            let rule = cases[index]["rule"] ?? ""
            let end = cases[index...].firstIndex { $0["rule"] != rule } ?? cases.endIndex
            let ofRule = cases[index..<end]
            lines.append(line(rule, "", nil, ofRule))
            for county in Set(ofRule.compactMap { $0["county_code"] }).sorted() {
                let inCounty = ofRule.filter { $0["county_code"] == county }
                lines.append(line(rule, county, inCounty.first?["county"], inCounty))
            }
            index = end
        }
        lines.append(line("", "", nil, cases))
        return lines
    }

    /// The rule codes in SPEC §7's order, each with the half of the report that finds it: the
    /// payments (`audit_payment_case`) or the state of posts and persons (sql/0012).
    public static func rules(_ connection: Connection) throws -> [(code: String, fromPayments: Bool)] {
        try ruleTitles(connection).map { ($0.code, $0.fromPayments) }
    }

    /// The rules in SPEC §7's order with their Chinese titles and basis (依据), for reports.
    public static func ruleTitles(_ connection: Connection) throws -> [(code: String, fromPayments: Bool, titleZh: String, basis: String)] {
        try Database.mapped {
            try connection.query("SELECT code, from_payments, title_zh, basis FROM audit_rule ORDER BY position").map {
                ($0["code"] ?? "", $0["from_payments"] == "t", $0["title_zh"] ?? "", $0["basis"] ?? "")
            }
        }
    }

    /// The cases of one of the unions, with the names of their regions and persons.
    private static func select(from view: String) -> String {
        """
        SELECT v.rule, v.region_code, v.county_code, c.name AS county, v.township_code, t.name AS township, v.village_code,
               vi.name AS village, v.id_number, pe.name, v.post_id, v.from_on::text, v.to_on::text,
               to_char(v.month, 'YYYY-MM') AS month, v.amount_fen, v.explanation, v.explanation_zh, v.basis
        FROM \(view) v
        LEFT JOIN person pe ON pe.id_number = v.id_number
        LEFT JOIN region c ON c.code = v.county_code || '000000'
        LEFT JOIN region t ON t.code = v.township_code
        LEFT JOIN region vi ON vi.code = v.village_code
        WHERE v.region_code ^@ $1 AND ($2 = '' OR v.rule = $2)
        """
    }

    /// Checks the filter and returns the region prefix ('' for all).
    private static func check(_ connection: Connection, _ filter: Filter, _ rules: [String]) throws -> String {
        let region = try filter.region.map { try Regions.require(connection, $0) }
        if let rule = filter.rule, !rules.contains(rule) {
            throw AppError.badInput(Text(en: "unknown rule '\(rule)': use one of \(rules.joined(separator: ", "))",
                                         zh: "未知的规则“\(rule)”：可用 \(rules.joined(separator: "、"))"), code: "UNKNOWN_CODE")
        }
        if let from = filter.from, let to = filter.to, to < from {
            throw AppError.toBeforeFrom(from, to)
        }
        return region?.significantPrefix ?? ""
    }

    /// Makes the transaction read-only (in `snapshot`, when given: another transaction's, so
    /// that both see the same data) and sets the views' parameters. Payment rules compute
    /// entitlements only for the counties of the region `prefix`.
    private static func prepare(_ connection: Connection, _ filter: Filter, _ prefix: String, snapshot: String? = nil) throws {
        try connection.execute("SET TRANSACTION READ ONLY")
        if let snapshot {
            // The server's own snapshot name: SET TRANSACTION SNAPSHOT takes no parameter.
            guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw PostgresError(kind: .server, message: "unexpected snapshot name")
            }
            try connection.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
        }
        try Database.tuneForBulk(connection)
        try connection.query("""
            SELECT set_config('welfare_posts.as_of', $1, true), set_config('welfare_posts.from_month', $2, true),
                   set_config('welfare_posts.to_month', $3, true), set_config('welfare_posts.county', $4, true)
            """, [filter.asOf?.iso ?? "", filter.from?.firstDay.iso ?? "", filter.to?.firstDay.iso ?? "", String(prefix.prefix(6))])
    }
}

/// Rows being read on another thread (or already read), to be waited for.
final class PendingRows: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<[Row], Error> = .success([])

    init(_ rows: [Row] = []) {
        result = .success(rows)
        done.signal()
    }

    init(reading body: @escaping @Sendable () throws -> [Row]) {
        DispatchQueue.global().async {
            self.result = Result { try body() }
            self.done.signal()
        }
    }

    func wait() throws -> [Row] {
        done.wait()
        done.signal()
        return try result.get()
    }
}
