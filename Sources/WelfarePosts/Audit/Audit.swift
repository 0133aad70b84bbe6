import Dispatch
import Foundation
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
    /// opener, a second connection in the same snapshot shares the work: the payment rules (what
    /// is due for every person-month, one statement) and each state rule's view are taken in
    /// turn by whichever connection is free, so neither waits while the other still has work.
    public static func violations(_ connection: Connection, _ filter: Filter, parallel open: Opener? = nil) throws -> [Row] {
        let rules = try Self.rules(connection)
        let prefix = try check(connection, filter, rules.map(\.code))
        let rule = filter.rule ?? ""
        let views = try Self.views(of: rules, only: rule)
        // Each row's key is made once (made in every comparison, it was a tenth of the report's
        // CPU over a province: a row finds a column by name), and each view's cases are keyed
        // and ordered by the connection that read them, as soon as they come.
        let position = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.code, $0) })
        @Sendable func ordered(_ rows: [Row]) -> [(key: Key, row: Row)] {
            let keyed = rows.map { row in
                (key: (position[row["rule"] ?? ""] ?? rules.count, row["region_code"] ?? "", row["id_number"] ?? "\u{FFFF}",
                       row["post_id"] ?? "\u{FFFF}", row["from_on"] ?? "\u{FFFF}"), row: row)
            }
            return keyed.indices.sorted { keyed[$0].key < keyed[$1].key }.map { keyed[$0] }
        }
        let work = SharedWork(views)
        @Sendable func take(_ on: Connection) throws {
            while let (index, view) = work.next() {
                do {
                    work.done(index, ordered(try on.query(select(from: view), [prefix, rule])))
                } catch {
                    work.fail(error)
                    throw error
                }
            }
        }
        let read = try Database.mapped {
            try connection.transaction(.repeatableRead) {
                try prepare(connection, filter, prefix)
                var other = PendingRows()
                if let open, views.count > 1 {
                    let snapshot = try connection.query("SELECT pg_export_snapshot() AS s")[0]["s"] ?? ""
                    other = PendingRows(reading: { try Database.mapped {
                        let second = try open()
                        try second.transaction(.repeatableRead) {
                            try prepare(second, filter, prefix, snapshot: snapshot)
                            try take(second)
                        }
                        return []
                    } })
                }
                try take(connection)
                _ = try other.wait()
                return try work.results()
            }
        }
        // Every rule's cases come from one view and are ordered already: laid out by rule.
        var byRule = [[Row]](repeating: [], count: rules.count + 1)
        for (key, row) in read.joined() { byRule[key.0].append(row) }
        return Array(byRule.joined())
    }

    /// A case's place in the report: the rule's position in SPEC §7, region, person, post, date.
    typealias Key = (Int, String, String, String, String)

    /// The views a report reads, the dearest first so that the cheap ones even out the end:
    /// `audit_payment_case` for the payment rules (sql/0012), and each state rule's own view
    /// (`audit_` and the code, as in `audit_state_violation`), OVER_AGE_IN_POST and
    /// DUPLICATE_PAYMENT first (the dearest over a province, `bench/audit.sh`).
    static func views(of rules: [(code: String, fromPayments: Bool)], only rule: String) throws -> [String] {
        let wanted = rules.filter { rule.isEmpty || $0.code == rule }
        let dearest = ["OVER_AGE_IN_POST", "DUPLICATE_PAYMENT"]
        let state = wanted.filter { !$0.fromPayments }.map(\.code).sorted { (dearest.firstIndex(of: $0) ?? dearest.count) < (dearest.firstIndex(of: $1) ?? dearest.count) }
        for code in state where !code.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "_") }) {
            throw PostgresError(kind: .server, message: "unexpected rule code \(code)")
        }
        return (wanted.contains(where: \.fromPayments) ? ["audit_payment_case"] : []) + state.map { "audit_" + $0.lowercased() }
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

/// The views of a report, handed out one at a time to the connections that read them, and what
/// each gave (its cases keyed and ordered). After a failure no more are handed out.
final class SharedWork: @unchecked Sendable {
    private let lock = NSLock()
    private let views: [String]
    private var nextIndex = 0
    private var read: [[(key: Audit.Key, row: Row)]]
    private var failure: Error?

    init(_ views: [String]) {
        self.views = views
        read = Array(repeating: [], count: views.count)
    }

    func next() -> (Int, String)? {
        lock.withLock {
            guard failure == nil, nextIndex < views.count else { return nil }
            defer { nextIndex += 1 }
            return (nextIndex, views[nextIndex])
        }
    }

    func done(_ index: Int, _ cases: [(key: Audit.Key, row: Row)]) {
        lock.withLock { read[index] = cases }
    }

    func fail(_ error: Error) {
        lock.withLock { if failure == nil { failure = error } }
    }

    /// What every view gave, in the order of the views; the first failure instead, if any.
    func results() throws -> [[(key: Audit.Key, row: Row)]] {
        try lock.withLock {
            if let failure { throw failure }
            return read
        }
    }
}
