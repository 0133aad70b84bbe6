import Postgres

/// 在岗领补: monthly payroll per county, from the one definition of what is due
/// (`payroll_due` in SQL), locked when approved and corrected by adjustment lines.
public enum Payroll {
    /// The counties (6-digit codes) a region covers: itself if a county, those under it if
    /// above, the one it belongs to if below; all counties without a region.
    static func counties(_ connection: Connection, region: String?) throws -> [String] {
        if let region {
            let code = try Regions.require(connection, region)
            if let county = code.countyCode { return [county] }
            return try connection.query("SELECT left(code, 6) AS c FROM region WHERE level = 3 AND code LIKE $1 || '%' ORDER BY code",
                                        [code.significantPrefix]).compactMap { $0["c"] }
        }
        return try connection.query("SELECT left(code, 6) AS c FROM region WHERE level = 3 ORDER BY code").compactMap { $0["c"] }
    }

    /// What the counties' codes share, so `payroll_due` reads only their rows.
    static func commonPrefix(_ counties: [String]) -> String {
        guard var prefix = counties.first else { return "" }
        for county in counties.dropFirst() {
            while !county.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    public struct RunOutcome: Sendable {
        public let counties: [String]
        public let regularLines: Int
        public let adjustmentLines: Int
        public let totalFen: Int64
        public let adjustmentFen: Int64
        /// Lines held for want of the evidence the county requires (SPEC §14).
        public let heldLines: Int
    }

    /// Writes the draft lines of `month` for every county of the region, replacing an earlier
    /// draft, and adjustment lines for every approved earlier month of those counties whose due
    /// amount has changed since. Refused whole if any of the county-months is approved.
    public static func run(_ connection: Connection, month: Month, region: String?, today: Day = .today()) throws -> RunOutcome {
        try Database.mapped {
            try connection.transaction {
                let counties = try counties(connection, region: region)
                guard !counties.isEmpty else {
                    throw AppError.notFound(Text(en: "there is no county under that region", zh: "该区划下没有县级区划"))
                }
                // Runs of one county-month wait for each other; a run waits for an approval.
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('payroll/' || c || '/' || $2)) FROM unnest($1::text[]) c ORDER BY c",
                                     [counties, month.iso])
                let approved = try connection.query("""
                    SELECT county_code FROM payroll_run WHERE county_code = ANY ($1::text[]) AND month = $2::date AND state = 'approved'
                    ORDER BY county_code
                    """, [counties, month.firstDay.iso]).compactMap { $0["county_code"] }
                if !approved.isEmpty {
                    throw AppError(rule: .payrollLocked, Text(
                        en: "the \(month) payroll of county \(approved.joined(separator: ", ")) is approved and can never change: late corrections go into a later month's run as adjustment lines",
                        zh: "县 \(approved.joined(separator: "、")) \(month) 的工资表已审核锁定，不能重算：迟报的变动将在以后月份的工资表中以补扣发体现"))
                }
                try Database.tuneForBulk(connection)
                // Hash joins only, as the audit's payment rules plan them: a table whose statistics
                // are stale (attendance analysed while empty, then filled by an import) is guessed
                // at a row or two, and a nested loop over it, or a merge join on the month alone,
                // goes quadratic (20,000 lines took minutes instead of seconds).
                try connection.execute("SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off")
                try connection.command("DELETE FROM payroll_line WHERE county_code = ANY ($1::text[]) AND month = $2::date",
                                       [counties, month.firstDay.iso])
                try connection.command("""
                    INSERT INTO payroll_run AS r (county_code, month) SELECT c, $2::date FROM unnest($1::text[]) c
                    ON CONFLICT (county_code, month) DO UPDATE SET run_at = now()
                    """, [counties, month.firstDay.iso])
                // Each line keeps the name, the bank account in force on the day of the run (the
                // account the bank will pay) and the standards it was computed with: an approved
                // month is a snapshot (SPEC §6), whatever changes later.
                let snapshot = """
                    pe.name, CASE WHEN pe.facts_from IS NULL OR pe.facts_from <= $4::date THEN pe.bank_account
                                  ELSE (SELECT h.bank_account FROM person_history h WHERE h.id_number = pe.id_number AND h.valid @> $4::date) END
                    """
                // The month's totals are counted from the lines as they are inserted (RETURNING),
                // not read back from payroll_line, which holds every month of these counties. Each
                // line's total is written with it (sql/0039: a CHECK keeps it the sum of its parts).
                let regular = try connection.query("""
                    WITH inserted AS (
                      INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post,
                                                post_subsidy_fen, social_insurance_fen, name, bank_account,
                                                post_subsidy_standard_fen, social_insurance_standard_fen, held_reason, total_fen)
                      SELECT d.county_code, d.month, d.month, 'regular', d.id_number, d.post_id, d.days_in_post,
                             d.post_subsidy_fen, d.social_insurance_fen, \(snapshot),
                             d.post_subsidy_standard_fen, d.social_insurance_standard_fen, d.held_reason,
                             d.post_subsidy_fen + d.social_insurance_fen
                      FROM payroll_due($1::date, $1::date, $2) d JOIN person pe ON pe.id_number = d.id_number
                      WHERE d.county_code = ANY ($3::text[])
                      ORDER BY d.county_code, d.id_number, d.post_id
                      RETURNING total_fen, held_reason
                    )
                    SELECT count(*) AS lines, coalesce(sum(total_fen), 0)::bigint AS total,
                           count(*) FILTER (WHERE held_reason IS NOT NULL) AS held
                    FROM inserted
                    """, [month.firstDay.iso, commonPrefix(counties), counties, today])[0]
                // Approved earlier months: what is due now against what has been booked for them
                // (their regular lines and every adjustment made for them since).
                let adjustments = try connection.query("""
                    WITH locked AS (
                      SELECT county_code, month FROM payroll_run
                      WHERE county_code = ANY ($3::text[]) AND month < $1::date AND state = 'approved'
                    ), due AS (
                      SELECT d.* FROM payroll_due((SELECT coalesce(min(month), $1::date) FROM locked),
                                                  ($1::date - interval '1 month')::date, $2) d
                      JOIN locked l ON l.county_code = d.county_code AND l.month = d.month
                    ), booked AS (
                      SELECT pl.county_code, pl.for_month AS month, pl.id_number, pl.post_id, sum(pl.total_fen) AS total_fen
                      FROM payroll_line pl JOIN locked l ON l.county_code = pl.county_code AND l.month = pl.for_month
                      GROUP BY 1, 2, 3, 4
                    ), inserted AS (
                    INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post,
                                              post_subsidy_fen, social_insurance_fen, adjustment_fen, name, bank_account,
                                              post_subsidy_standard_fen, social_insurance_standard_fen, total_fen)
                    SELECT coalesce(d.county_code, b.county_code), $1::date, coalesce(d.month, b.month), 'adjustment',
                           coalesce(d.id_number, b.id_number), coalesce(d.post_id, b.post_id), 0, 0, 0, x.difference, \(snapshot),
                           d.post_subsidy_standard_fen, d.social_insurance_standard_fen, x.difference
                    FROM due d FULL JOIN booked b
                      ON b.county_code = d.county_code AND b.month = d.month AND b.id_number = d.id_number AND b.post_id = d.post_id
                    -- What is due now less what was booked: the line's adjustment, and so its total.
                    CROSS JOIN LATERAL (SELECT coalesce(d.post_subsidy_fen + d.social_insurance_fen, 0) - coalesce(b.total_fen, 0) AS difference) x
                    JOIN person pe ON pe.id_number = coalesce(d.id_number, b.id_number)
                    WHERE x.difference <> 0
                      -- Without an approved earlier month there is nothing to adjust: checked once
                      -- (a one-time filter) before the persons are read for the snapshot.
                      AND EXISTS (SELECT 1 FROM locked)
                    RETURNING adjustment_fen
                    )
                    SELECT count(*) AS lines, coalesce(sum(adjustment_fen), 0)::bigint AS adjustment FROM inserted
                    """, [month.firstDay.iso, commonPrefix(counties), counties, today])[0]
                // The draft's lines are the two statements' (the month's earlier draft was deleted
                // above); an adjustment line's total is its adjustment.
                let adjustmentFen: Int64 = try adjustments.decode("adjustment")
                return RunOutcome(counties: counties, regularLines: try regular.decode("lines"),
                                  adjustmentLines: try adjustments.decode("lines"),
                                  totalFen: try regular.decode("total") as Int64 + adjustmentFen, adjustmentFen: adjustmentFen,
                                  heldLines: try regular.decode("held"))
            }
        }
    }

    /// A month's held lines (zero post subsidy for want of evidence, SPEC §14), with who and why.
    public static func held(_ connection: Connection, month: Month, region: String?) throws -> [Row] {
        let counties = try counties(connection, region: region)
        return try Database.mapped {
            try connection.query("""
                SELECT l.county_code, l.post_id, l.id_number, pe.name, l.days_in_post, l.social_insurance_fen, l.held_reason
                FROM payroll_line l LEFT JOIN person pe ON pe.id_number = l.id_number
                WHERE l.county_code = ANY ($1::text[]) AND l.month = $2::date AND l.held_reason IS NOT NULL
                ORDER BY l.county_code, l.post_id
                """, [counties, month.firstDay.iso])
        }
    }

    /// Locks the drafts of `month` for the counties of a region, for good.
    public static func approve(_ connection: Connection, month: Month, region: String) throws -> [String] {
        try Database.mapped {
            try connection.transaction {
                let counties = try counties(connection, region: region)
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('payroll/' || c || '/' || $2)) FROM unnest($1::text[]) c ORDER BY c",
                                     [counties, month.iso])
                let approved = try connection.query("""
                    UPDATE payroll_run SET state = 'approved', approved_at = now()
                    WHERE county_code = ANY ($1::text[]) AND month = $2::date AND state = 'draft' RETURNING county_code
                    """, [counties, month.firstDay.iso]).compactMap { $0["county_code"] }
                guard !approved.isEmpty else {
                    throw AppError.notFound(Text(
                        en: "there is no draft payroll of \(month) to approve in that region: run `payroll run \(month)` first (an approved one stays approved)",
                        zh: "该区划没有 \(month) 的待审工资表：请先运行 `payroll run \(month)`（已审核的无需再审）"))
                }
                return approved.sorted()
            }
        }
    }

    /// Totals of a month's lines: the grand total and per county, township, funding channel and
    /// post type, each with the number of people.
    public static func summary(_ connection: Connection, month: Month, region: String?) throws -> [Row] {
        let counties = try counties(connection, region: region)
        return try Database.mapped {
            try connection.query("""
                WITH lines AS (
                  SELECT l.*, p.funding_channel, p.post_type, t.code AS township_code, t.name AS township
                  FROM payroll_line l JOIN post p ON p.id = l.post_id
                  JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0')
                  WHERE l.county_code = ANY ($1::text[]) AND l.month = $2::date
                )
                SELECT dimension, key, label, people, lines, total_fen, adjustment_fen FROM (
                  SELECT 0 AS o, 'total' AS dimension, '' AS key, '' AS label, count(DISTINCT id_number) AS people, count(*) AS lines,
                         sum(total_fen) AS total_fen, sum(adjustment_fen) AS adjustment_fen FROM lines
                  UNION ALL
                  SELECT 1, 'county', county_code, (SELECT r.name FROM region r WHERE r.code = lines.county_code || '000000'),
                         count(DISTINCT id_number), count(*), sum(total_fen), sum(adjustment_fen) FROM lines GROUP BY county_code
                  UNION ALL
                  SELECT 2, 'township', township_code, township, count(DISTINCT id_number), count(*), sum(total_fen), sum(adjustment_fen)
                  FROM lines GROUP BY township_code, township
                  UNION ALL
                  SELECT 3, 'funding_channel', funding_channel, '', count(DISTINCT id_number), count(*), sum(total_fen), sum(adjustment_fen)
                  FROM lines GROUP BY funding_channel
                  UNION ALL
                  SELECT 4, 'post_type', post_type, '', count(DISTINCT id_number), count(*), sum(total_fen), sum(adjustment_fen)
                  FROM lines GROUP BY post_type
                ) s WHERE lines > 0 ORDER BY o, key
                """, [counties, month.firstDay.iso])
        }
    }

    /// Streams the finance export (SPEC §10): CSV in UTF-8 with a byte-order mark, one row per
    /// line, resident IDs and accounts in full, amounts in yuan. A draft is exported only when
    /// asked for, so nothing unapproved is paid by mistake.
    public static func export(_ connection: Connection, month: Month, region: String?, lang: Lang, includeDraft: Bool,
                              write: ([UInt8]) throws -> Void) throws -> Int {
        let counties = try counties(connection, region: region)
        return try Database.mapped {
            try connection.transaction(.repeatableRead) {
                // Only finance may read the export (sql/0010): refused here, before a byte is written.
                try connection.query("SELECT 1 FROM payroll_export_line LIMIT 0")
                let runs = try connection.query("""
                    SELECT state, count(*) AS n FROM payroll_run WHERE county_code = ANY ($1::text[]) AND month = $2::date GROUP BY state
                    """, [counties, month.firstDay.iso])
                let drafts = runs.first { $0["state"] == "draft" }.flatMap { Int($0["n"] ?? "") } ?? 0
                let approved = runs.first { $0["state"] == "approved" }.flatMap { Int($0["n"] ?? "") } ?? 0
                guard drafts + approved > 0 else {
                    throw AppError.notFound(Text(en: "there is no payroll of \(month) in that region: run `payroll run \(month)` first",
                                                 zh: "该区划没有 \(month) 的工资表：请先运行 `payroll run \(month)`"))
                }
                if drafts > 0 && !includeDraft {
                    throw AppError(.rule, code: "PAYROLL_NOT_APPROVED", Text(
                        en: "\(drafts) county payroll(s) of \(month) in that region are drafts: approve them first, or give --draft to export a preview",
                        zh: "该区划有 \(drafts) 个县 \(month) 的工资表尚未审核：请先审核，或加 --draft 导出预览"))
                }
                try Database.tuneForWholeMonth(connection)
                // COPY takes no parameters, so the month and the counties are written into it as
                // literals: a date and county codes read from the region table, each checked to be
                // only digits (and dashes). As constants they are leakproof, so finance's export is
                // planned as the owner's is, with the index range of its counties and the tables'
                // statistics; through current_setting() they were filtered only after the policies.
                // Amounts in yuan as fen times 0.01: a numeric of scale 2 prints as `1100.00`,
                // `-1.50`, `0.00`, as to_char(…, 'FM999999990.00') did at half its cost.
                let day = month.firstDay.iso
                guard day.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }),
                      counties.allSatisfy({ $0.count == 6 && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
                    throw PostgresError(kind: .server, message: "unexpected month or county code")
                }
                let headers = exportColumns.map { lang == .zh ? $0.zh : $0.key }
                try write([0xEF, 0xBB, 0xBF])
                try write(Array((headers.joined(separator: ",") + "\n").utf8))
                var lines = 0
                try connection.copyOut("""
                    COPY (
                      SELECT to_char(month, 'YYYY-MM'), county_code, \(spreadsheetSafe("township")), \(spreadsheetSafe("village")), post_id,
                             \(lang == .zh ? "\(spreadsheetSafe("post_type_zh")), \(spreadsheetSafe("funding_channel_zh"))" : "post_type, funding_channel"),
                             \(spreadsheetSafe("name")), id_number, bank_account, days_in_post,
                             post_subsidy_fen * 0.01, social_insurance_fen * 0.01, adjustment_fen * 0.01, total_fen * 0.01
                      FROM payroll_export_line
                      WHERE month = DATE '\(day)' AND county_code = ANY ('{\(counties.joined(separator: ","))}'::text[])
                      ORDER BY county_code, region_code, post_id, kind DESC, for_month
                    ) TO STDOUT WITH (FORMAT csv)
                    """) { chunk in
                    lines += chunk.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                    try write(chunk)
                }
                return lines
            }
        }
    }

    /// SQL for a text column of the export as a cell a spreadsheet shows as text (SPEC §10,
    /// second line of defence): a name that psql put in the database starting with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return gets a leading apostrophe, as `TextValue.spreadsheetSafe`
    /// does for listings; plain numbers are left alone.
    static func spreadsheetSafe(_ column: String) -> String {
        """
        CASE WHEN left(\(column), 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') AND \(column) !~ '^[-+]?[0-9]+(\\.[0-9]+)?$'
             THEN '''' || \(column) ELSE \(column) END
        """
    }

    public static let exportColumns = [
        ImportColumn("month", "发放月份"), ImportColumn("county_code", "县区代码"), ImportColumn("township", "乡镇"),
        ImportColumn("village", "村"), ImportColumn("post_id", "岗位编号"), ImportColumn("post_type", "岗位类型"),
        ImportColumn("funding_channel", "资金渠道"), ImportColumn("name", "姓名"), ImportColumn("id_number", "身份证号"),
        ImportColumn("bank_account", "银行账号"), ImportColumn("days_in_post", "在岗天数"), ImportColumn("post_subsidy", "岗位补贴"),
        ImportColumn("social_insurance_subsidy", "社保补贴"), ImportColumn("adjustment", "补扣发"), ImportColumn("total", "合计"),
    ]
}
