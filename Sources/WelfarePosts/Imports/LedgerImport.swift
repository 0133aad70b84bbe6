import Postgres

/// `post import` and `placement import` (SPEC §10, §16): a county's existing ledger, kept in
/// Excel or WPS, brought in with its past dates, all or nothing. Every rule of SPEC §5 is
/// checked as of the dates in the file (the category on each contract's start, the post in
/// force on the placement's start, the quota on each approval day…), set-wise: the file is
/// staged with one COPY and checked with a few queries over the staged rows and what is
/// stored, never a round trip per row. Bad cells are refused with exit 2, rows that break a
/// rule with exit 1 and the rule of each, every line listed; nothing is written then.
///
/// What the import leaves to later, and why (README "Bringing an existing ledger in"):
/// insurance is required only for contracts still running on the day of the import (past days
/// without cover are the audit's UNINSURED finding, not a refusal: they cannot be insured
/// now); public notice (SPEC §13) is not asked of placements that predate the product. A
/// re-import of the same file is refused (`ALREADY_IMPORTED`, each line listed): a post whose
/// ID, or whose region, type, channel, developer, need and dates, are already stored; a
/// placement of the same person in the same post from the same day.
public enum LedgerImport {
    public static let postColumns = [
        ImportColumn("post_id", "岗位编号", required: false, kind: .code(maxLength: 20)),
        ImportColumn("region_code", "区划代码"), ImportColumn("post_type", "岗位类型"), ImportColumn("funding_channel", "资金渠道"),
        ImportColumn("developer", "开发主体", kind: .freeText), ImportColumn("need", "设岗需求", kind: .freeText),
        ImportColumn("proposed_on", "申报日期"), ImportColumn("approved_on", "审批日期"),
        ImportColumn("closed_on", "撤销日期", required: false), ImportColumn("close_reason", "撤销原因", required: false, kind: .freeText),
    ]

    public static let placementColumns = [
        ImportColumn("post_id", "岗位编号", kind: .code(maxLength: 20)), ImportColumn("id_number", "身份证号"),
        ImportColumn("start_on", "上岗日期"), ImportColumn("contract_kind", "合同类型"),
        ImportColumn("contract_start", "合同起始"), ImportColumn("contract_end", "合同终止"),
        ImportColumn("exit_on", "退岗日期", required: false), ImportColumn("exit_reason", "退岗原因", required: false),
    ]

    /// What a ledger import did, or under `--dry-run` would do.
    public struct Outcome: Sendable {
        /// Rows of the file.
        public let rows: Int
        /// Posts, or placements, written (would be written).
        public let inserted: Int
        /// Contracts written (placement import).
        public let contracts: Int
        /// The IDs given to posts the file gave none: line and ID.
        public let assigned: [(line: Int, id: String)]
        public let dryRun: Bool
    }

    // MARK: Posts

    public static func importPosts(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> Outcome {
        let vocabulary = try Vocabulary.load(connection)
        return try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: postColumns, connection: connection, table: "ledger_post_stage",
                                          stagingColumns: ["post_id", "region_code", "post_type", "funding_channel", "developer", "need",
                                                           "proposed_on", "approved_on", "closed_on", "close_reason"]) { row in
                    cleanPost(&row, vocabulary: vocabulary, today: today)
                }
                let table = "ledger_post_stage"
                // No JIT: compiling the checks' plans cost a second each, more than running them.
                try Database.tuneForBulk(connection)
                try connection.execute("ANALYZE \(table)")
                try staging.check(connection, """
                    SELECT line, 'post_id' AS key, first FROM (
                      SELECT line, post_id, min(line) OVER (PARTITION BY post_id) AS first FROM \(table) WHERE post_id IS NOT NULL) d
                    WHERE line > first
                    """) { Text(en: "this post ID is already on line \($0["first"] ?? "?") of the file", zh: "该岗位编号已在文件第 \($0["first"] ?? "?") 行出现") }
                try staging.check(connection, """
                    SELECT s.line, 'region_code' AS key, s.region_code AS code FROM \(table) s
                    WHERE NOT EXISTS (SELECT 1 FROM region r WHERE r.code = s.region_code)
                    """) { Text(en: "\($0["code"] ?? "") is not a known region: import it with `region import` first",
                                zh: "\($0["code"] ?? "") 不是已登记的区划：请先用 `region import` 导入") }
                try staging.requireNoProblems()
                if try Access.currentRole(connection) != nil {
                    try staging.refuseOutsideRegion(connection, """
                        SELECT s.line, 'region_code' AS key, s.region_code AS code FROM \(table) s
                        WHERE NOT s.region_code ^@ (SELECT operator_scope())
                        """) { Text(en: "region \($0["code"] ?? "") is outside your region", zh: "区划 \($0["code"] ?? "") 不在您的管辖区域内") }
                }
                // Already imported: the ID is taken, or the same post (without an ID) is stored.
                var again = RuleFindings(header: staging.header)
                try again.check(connection, nil, """
                    SELECT s.line, 'post_id' AS key, s.post_id AS id FROM \(table) s
                    WHERE s.post_id IN (SELECT posts_existing(array_agg(post_id)) FROM \(table))
                    UNION ALL
                    SELECT s.line, 'post_id', p.id FROM \(table) s JOIN post p
                      ON s.post_id IS NULL AND p.region_code = s.region_code AND p.post_type = s.post_type AND p.funding_channel = s.funding_channel
                     AND p.developer = s.developer AND p.need = s.need AND p.proposed_on = s.proposed_on::date AND p.approved_on = s.approved_on::date
                    """) { row in
                    Text(en: "post \(row["id"] ?? "") is already stored: this ledger (or this row) was imported before",
                         zh: "岗位 \(row["id"] ?? "") 已存在：该台账（或该行）此前已导入")
                }
                if !again.isEmpty { throw alreadyImported(again.problems.map(\.problem)) }
                var rules = RuleFindings(header: staging.header)
                try rules.check(connection, "POST_DATES", """
                    SELECT s.line, CASE WHEN s.approved_on::date < s.proposed_on::date THEN 'approved_on' ELSE 'closed_on' END AS key,
                           s.proposed_on, s.approved_on, s.closed_on FROM \(table) s
                    WHERE s.approved_on::date < s.proposed_on::date OR s.closed_on::date <= s.approved_on::date
                    """) { row in
                    Text(en: "the dates are out of order (proposed \(row["proposed_on"] ?? "") ≤ approved \(row["approved_on"] ?? "") < closed \(row["closed_on"] ?? "-") is required)",
                         zh: "日期顺序有误（须申报 \(row["proposed_on"] ?? "") ≤ 审批 \(row["approved_on"] ?? "") < 撤销 \(row["closed_on"] ?? "-")）")
                }
                try rules.check(connection, RuleCode.payStandard.rawValue, """
                    WITH k AS MATERIALIZED (
                      SELECT region_code, post_type, approved_on, EXISTS (SELECT 1 FROM pay_standard_on(region_code, post_type, approved_on::date)) AS paid
                      FROM (SELECT DISTINCT region_code, post_type, approved_on FROM \(table)) d
                    )
                    SELECT s.line, 'approved_on' AS key, s.post_type, s.approved_on FROM \(table) s
                    JOIN k ON k.region_code = s.region_code AND k.post_type = s.post_type AND k.approved_on = s.approved_on
                    WHERE NOT k.paid
                    """) { row in
                    Text(en: "no pay standard for \(row["post_type"] ?? "") posts is in force on \(row["approved_on"] ?? "") (the approval): set one with `policy pay` from that date first",
                         zh: "\(row["approved_on"] ?? "")（审批日期）没有 \(row["post_type"] ?? "") 岗位的待遇标准：请先用 `policy pay` 设置自该日起的标准")
                }
                // QUOTA: on each day a staged post is approved, the posts in force that day (those
                // stored and those of the file) within that year's quota. The count rises only on
                // approval days, so those are the only days to look at.
                try rules.check(connection, RuleCode.quota.rawValue, """
                    WITH counties AS (SELECT DISTINCT left(region_code, 6) AS county_code FROM \(table)),
                    changes AS (
                      SELECT p.county_code, p.approved_on AS day, 1 AS delta FROM post p JOIN counties c ON c.county_code = p.county_code
                      WHERE p.approved_on IS NOT NULL
                      UNION ALL SELECT p.county_code, p.closed_on, -1 FROM post p JOIN counties c ON c.county_code = p.county_code
                      WHERE p.closed_on IS NOT NULL
                      UNION ALL SELECT left(s.region_code, 6), s.approved_on::date, 1 FROM \(table) s
                      UNION ALL SELECT left(s.region_code, 6), s.closed_on::date, -1 FROM \(table) s WHERE s.closed_on IS NOT NULL
                    ), levels AS (
                      SELECT county_code, day, sum(sum(delta)) OVER (PARTITION BY county_code ORDER BY day)::int AS in_force
                      FROM changes GROUP BY county_code, day
                    )
                    SELECT s.line, 'approved_on' AS key, l.in_force, q.posts AS quota, q.year, s.approved_on FROM \(table) s
                    JOIN levels l ON l.county_code = left(s.region_code, 6) AND l.day = s.approved_on::date
                    JOIN post_quota q ON q.county_code = l.county_code || '000000' AND q.year = extract(year FROM l.day)
                    WHERE l.in_force > q.posts
                    """) { row in
                    Text(en: "on \(row["approved_on"] ?? "") the county would have \(row["in_force"] ?? "") posts in force, above its \(row["year"] ?? "") quota of \(row["quota"] ?? "")",
                         zh: "\(row["approved_on"] ?? "") 全县在册岗位将达 \(row["in_force"] ?? "") 个，超过 \(row["year"] ?? "") 年总量 \(row["quota"] ?? "") 个")
                }
                try rules.refuse()
                try connection.execute("SAVEPOINT ledger_import")
                // IDs for rows without one: the county's next free serials, as `post propose` takes them.
                try connection.execute("LOCK TABLE post_serial IN SHARE ROW EXCLUSIVE MODE")
                try connection.execute("""
                    CREATE TEMP TABLE ledger_post_id ON COMMIT DROP AS
                    WITH wanted AS (
                      SELECT left(region_code, 6) AS county_code, count(*)::int AS n FROM \(table) WHERE post_id IS NULL GROUP BY 1
                    ), free AS MATERIALIZED (
                      SELECT w.county_code, f.n AS serial, row_number() OVER (PARTITION BY w.county_code ORDER BY f.n) AS k
                      FROM wanted w LEFT JOIN post_serial ps ON ps.county_code = w.county_code
                      CROSS JOIN LATERAL post_free_serials(w.county_code, coalesce(ps.last_serial, 0), w.n,
                                                           (SELECT array_agg(post_id) FROM \(table) WHERE post_id IS NOT NULL)) f(n)
                    ), numbered AS MATERIALIZED (
                      SELECT s.line, left(s.region_code, 6) AS county_code,
                             row_number() OVER (PARTITION BY left(s.region_code, 6) ORDER BY s.line) AS k
                      FROM \(table) s WHERE s.post_id IS NULL
                    )
                    SELECT n.line, f.serial, post_id_of(n.county_code, f.serial) AS id
                    FROM numbered n JOIN free f ON f.county_code = n.county_code AND f.k = n.k
                    """)
                let inserted = try connection.command("""
                    INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, state,
                                      proposed_on, approved_on, closed_on, close_reason)
                    SELECT coalesce(s.post_id, i.id), left(s.region_code, 6), s.region_code, s.post_type, s.funding_channel, s.developer, s.need,
                           CASE WHEN s.closed_on IS NULL THEN 'approved' ELSE 'closed' END,
                           s.proposed_on::date, s.approved_on::date, s.closed_on::date, s.close_reason
                    FROM \(table) s LEFT JOIN ledger_post_id i ON i.line = s.line ORDER BY s.line
                    """)
                try connection.command("""
                    INSERT INTO post_serial AS ps (county_code, last_serial)
                    SELECT left(id, 6), max(serial) FROM ledger_post_id GROUP BY 1
                    ON CONFLICT (county_code) DO UPDATE SET last_serial = greatest(ps.last_serial, EXCLUDED.last_serial)
                    """)
                let assigned = try connection.query("SELECT line, id FROM ledger_post_id ORDER BY line").map { row in
                    (line: try row.decode("line", as: Int.self), id: try row.decode("id", as: String.self))
                }
                if dryRun { try connection.execute("ROLLBACK TO SAVEPOINT ledger_import") }
                return Outcome(rows: staging.rowCount, inserted: inserted, contracts: 0, assigned: assigned, dryRun: dryRun)
            }
        }
    }

    static func cleanPost(_ row: inout ImportRow, vocabulary: Vocabulary, today: Day) -> [String?]? {
        var region: RegionCode?
        if let text = row.required("region_code", "区划代码") {
            if let code = RegionCode(text), code.level >= .township {
                region = code
            } else {
                row.problem("region_code", Text(en: "'\(TextValue.quoted(text))' is not the 12-digit code of a township or village (a post is a seat of work in one)",
                                                zh: "“\(TextValue.quoted(text))”不是乡镇或村的12位区划代码（岗位应设在乡镇或村）"))
            }
        }
        let id = row.value("post_id")
        if let id {
            if !isPostID(id) {
                row.problem("post_id", Text(en: "'\(TextValue.quoted(id))' is not a post ID: the county's 6 digits, a dash and a number (320321-00017); leave it empty to have one assigned",
                                            zh: "“\(TextValue.quoted(id))”不是岗位编号：应为6位县级代码、“-”和序号（如 320321-00017）；留空则自动编号"))
            } else if let region, !id.hasPrefix(String(region.value.prefix(6)) + "-") {
                row.problem("post_id", Text(en: "post \(id) is not numbered in county \(region.value.prefix(6)) of its region \(region.value)",
                                            zh: "岗位编号 \(id) 与其区划 \(region.value) 所在县 \(region.value.prefix(6)) 不符"))
            }
        }
        let type = row.required("post_type", "岗位类型").flatMap { text in
            vocabulary.code(.postType, text) ?? { row.problem("post_type", vocabulary.unknown(.postType, text)); return nil }()
        }
        let funding = row.required("funding_channel", "资金渠道").flatMap { text in
            vocabulary.code(.fundingChannel, text) ?? { row.problem("funding_channel", vocabulary.unknown(.fundingChannel, text)); return nil }()
        }
        let developer = row.required("developer", "开发主体"), need = row.required("need", "设岗需求")
        let proposed = row.pastDate("proposed_on", "申报日期", today: today), approved = row.pastDate("approved_on", "审批日期", today: today)
        let closed = row.value("closed_on") != nil ? row.pastDate("closed_on", "撤销日期", today: today) : nil
        let reason = row.value("close_reason")
        if row.value("closed_on") != nil && reason == nil {
            row.problem("close_reason", Text(en: "a closed post needs its close_reason", zh: "已撤销的岗位须填写撤销原因"))
        } else if row.value("closed_on") == nil && reason != nil {
            row.problem("closed_on", Text(en: "close_reason is given but not closed_on: give the first day the post no longer exists",
                                          zh: "填写了撤销原因但没有撤销日期：请填写岗位不再存在的第一天"))
        }
        guard row.problems.isEmpty, let region, let type, let funding, let developer, let need, let proposed, let approved else { return nil }
        return [id, region.value, type, funding, developer, need, proposed.iso, approved.iso, closed?.iso, reason]
    }

    /// The product's form of a post ID: the county's six digits, a dash, a number.
    static func isPostID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, bytes.count <= 16, bytes[6] == UInt8(ascii: "-") else { return false }
        return bytes.enumerated().allSatisfy { $0.offset == 6 || (0x30...0x39).contains($0.element) }
    }

    static func alreadyImported(_ problems: [FileProblem]) -> AppError {
        let sorted = problems.sorted { ($0.line, $0.column ?? 0) < ($1.line, $1.column ?? 0) }
        return AppError(.input, code: "ALREADY_IMPORTED", Text(
            en: "\(Set(problems.map(\.line)).count) row(s) of the file are already stored; nothing was imported (a ledger is imported once: add what is new with `post propose` / `hire`, or a file of the new rows only):",
            zh: "文件中有 \(Set(problems.map(\.line)).count) 行已导入过，未导入任何数据（台账只导入一次：新增内容请用 `post propose` / `hire`，或只含新增行的文件）："),
            problems: sorted)
    }

    // MARK: Placements

    public static func importPlacements(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> Outcome {
        let vocabulary = try Vocabulary.load(connection)
        return try Database.mapped {
            try connection.transaction {
                let table = "ledger_placement_stage"
                var staging = try Staging(file: file, columns: placementColumns, connection: connection, table: table,
                                          stagingColumns: ["post_id", "id_number", "start_on", "contract_kind", "contract_start", "contract_end",
                                                           "exit_on", "exit_reason"]) { row in
                    cleanPlacement(&row, vocabulary: vocabulary, today: today)
                }
                try Database.tuneForBulk(connection)
                // The checks look each row's facts up through the rules' functions (the person
                // on a day, the household on a day, the policy on a day): index lookups, which
                // the staging's bulk setting (no nested loops) would turn into a scan per row.
                try connection.execute("SET LOCAL enable_nestloop = on")
                try connection.execute("ANALYZE \(table)")
                let unseenPerson = "NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)"
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM \(table) s WHERE \(unseenPerson) AND NOT \(staging.personOutsideRegion)
                    """) { _ in Text(en: "no person with this resident ID is registered: import them with `person import` first",
                                     zh: "未登记该身份证号的人员：请先用 `person import` 导入") }
                let unseenPost = "NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id)"
                try staging.check(connection, """
                    SELECT s.line, 'post_id' AS key, s.post_id FROM \(table) s
                    WHERE \(unseenPost) AND s.post_id NOT IN (SELECT posts_existing(array_agg(post_id)) FROM \(table))
                    """) { Text(en: "there is no post \($0["post_id"] ?? ""): import the posts first (`post import`)",
                                zh: "没有编号为 \($0["post_id"] ?? "") 的岗位：请先导入岗位（`post import`）") }
                // The rows of one person, post and start are one placement: they agree on its exit.
                try staging.check(connection, """
                    SELECT line, 'exit_on' AS key, first FROM (
                      SELECT line, exit_on, exit_reason,
                             first_value(line) OVER w AS first, first_value(exit_on) OVER w AS first_exit, first_value(exit_reason) OVER w AS first_reason
                      FROM \(table) WINDOW w AS (PARTITION BY post_id, id_number, start_on ORDER BY line)) d
                    WHERE (exit_on, exit_reason) IS DISTINCT FROM (first_exit, first_reason)
                    """) { Text(en: "this row is of the placement of line \($0["first"] ?? "?") (same person, post and start) but gives another exit: one placement has one exit",
                                zh: "该行与第 \($0["first"] ?? "?") 行属同一聘用（人员、岗位、上岗日期相同），但退岗信息不同：一次聘用只有一个退岗") }
                try staging.check(connection, """
                    SELECT line, 'contract_start' AS key, first FROM (
                      SELECT line, min(line) OVER (PARTITION BY post_id, id_number, start_on, contract_start) AS first FROM \(table)) d
                    WHERE line > first
                    """) { Text(en: "the same contract is already on line \($0["first"] ?? "?")", zh: "同一合同已在第 \($0["first"] ?? "?") 行出现") }
                try staging.requireNoProblems()
                if try Access.currentRole(connection) != nil {
                    try staging.refuseOutsideRegion(connection, """
                        SELECT s.line, 'post_id' AS key, s.post_id AS code FROM \(table) s WHERE \(unseenPost)
                        UNION ALL
                        SELECT s.line, 'id_number', NULL FROM \(table) s WHERE \(unseenPerson) AND \(staging.personOutsideRegion)
                        """) { row in
                        row["code"].map { Text(en: "post \($0) is outside your region", zh: "岗位 \($0) 不在您的管辖区域内") }
                            ?? Text(en: "this person is registered in another region", zh: "该人员已在其他区域登记")
                    }
                }
                // One row per placement, with the lines of its contracts and the post's facts.
                try connection.execute("""
                    CREATE TEMP TABLE ledger_placement ON COMMIT DROP AS
                    SELECT min(s.line) AS line, array_agg(s.line ORDER BY s.line) AS lines, s.post_id, s.id_number, s.start_on::date AS start_on,
                           min(s.exit_on)::date AS exit_on, min(s.exit_reason) AS exit_reason,
                           p.county_code, p.region_code, p.post_type, p.approved_on, p.closed_on
                    FROM \(table) s JOIN post p ON p.id = s.post_id
                    GROUP BY s.post_id, s.id_number, s.start_on, p.county_code, p.region_code, p.post_type, p.approved_on, p.closed_on
                    """)
                try connection.execute("ANALYZE ledger_placement")
                var again = RuleFindings(header: staging.header)
                try again.check(connection, nil, """
                    SELECT l.line, 'start_on' AS key, l.post_id FROM ledger_placement l
                    JOIN placement pl ON pl.post_id = l.post_id AND pl.id_number = l.id_number AND pl.start_on = l.start_on
                    """) { Text(en: "this person's placement in post \($0["post_id"] ?? "") from this day is already stored: this ledger (or this row) was imported before",
                                zh: "该人员自该日起在岗位 \($0["post_id"] ?? "") 的聘用已存在：该台账（或该行）此前已导入") }
                if !again.isEmpty { throw alreadyImported(again.problems.map(\.problem)) }

                var rules = RuleFindings(header: staging.header)
                try checkPlacementRules(connection, &rules, table: table, today: today)
                // Nothing else can fail a constraint now: the rows go in, and the household cap,
                // which counts households as they were on each day with every placement stored
                // and written, is read from them before anything is committed.
                try connection.execute("SAVEPOINT ledger_import")
                var inserted = 0, contracts = 0
                if rules.isEmpty {
                    inserted = try connection.command("""
                        INSERT INTO placement (county_code, post_id, id_number, start_on, exit_on, exit_reason)
                        SELECT county_code, post_id, id_number, start_on, exit_on, exit_reason FROM ledger_placement ORDER BY line
                        """)
                    contracts = try connection.command("""
                        INSERT INTO contract (county_code, placement_id, kind, start_on, end_on)
                        SELECT pl.county_code, pl.id, s.contract_kind, s.contract_start::date, s.contract_end::date
                        FROM \(table) s JOIN placement pl ON pl.post_id = s.post_id AND pl.id_number = s.id_number AND pl.start_on = s.start_on::date
                        ORDER BY s.line
                        """)
                    try rules.check(connection, RuleCode.householdCap.rawValue, """
                        WITH h AS MATERIALIZED (
                          SELECT * FROM household_in_post_many(
                            (SELECT array_agg(line ORDER BY line) FROM ledger_placement), (SELECT array_agg(id_number ORDER BY line) FROM ledger_placement),
                            (SELECT array_agg(start_on ORDER BY line) FROM ledger_placement), (SELECT array_agg(exit_on ORDER BY line) FROM ledger_placement))
                        )
                        SELECT l.line, 'id_number' AS key, h.others, e.household_cap, l.start_on, l.exit_on
                        FROM h JOIN ledger_placement l ON l.line = h.line
                        CROSS JOIN LATERAL eligibility_on(l.region_code, l.start_on) e
                        WHERE h.others + 1 > e.household_cap
                        """) { row in
                        Text(en: "with this placement \((Int(row["others"] ?? "") ?? 0) + 1) members of the person's household are in post on one day from \(row["start_on"] ?? "") on; the policy allows \(row["household_cap"] ?? "") per household",
                             zh: "加上该聘用，自 \(row["start_on"] ?? "") 起该户同日有 \((Int(row["others"] ?? "") ?? 0) + 1) 人在岗；政策规定每户最多 \(row["household_cap"] ?? "") 人")
                    }
                }
                try rules.refuse()
                if dryRun { try connection.execute("ROLLBACK TO SAVEPOINT ledger_import") }
                return Outcome(rows: staging.rowCount, inserted: inserted, contracts: contracts, assigned: [], dryRun: dryRun)
            }
        }
    }

    /// The rules of SPEC §5 a placement and its contracts must keep, each as of its own dates.
    static func checkPlacementRules(_ connection: Connection, _ rules: inout RuleFindings, table: String, today: Day) throws {
        try rules.check(connection, RuleCode.contractTerm.rawValue, """
            SELECT s.line, 'contract_end' AS key, s.contract_start, s.contract_end, next_anniversary(s.contract_start::date) - 1 AS latest
            FROM \(table) s WHERE s.contract_end::date < s.contract_start::date OR s.contract_end::date >= next_anniversary(s.contract_start::date)
            """) { row in
            Text(en: "a contract from \(row["contract_start"] ?? "") ends on \(row["contract_end"] ?? ""): it must end on or after its start and at the latest on \(row["latest"] ?? "") (每次签订期限不超过1年)",
                 zh: "自 \(row["contract_start"] ?? "") 起的合同至 \(row["contract_end"] ?? "") 止：终止日期不得早于起始日期，最晚为 \(row["latest"] ?? "")（每次签订期限不超过1年）")
        }
        try rules.check(connection, "CONTRACT_OVERLAP", """
            SELECT s.line, 'contract_start' AS key, s.start_on, NULL::int AS other FROM \(table) s WHERE s.contract_start::date < s.start_on::date
            UNION ALL
            SELECT a.line, 'contract_start', NULL, b.line FROM \(table) a JOIN \(table) b
              ON b.post_id = a.post_id AND b.id_number = a.id_number AND b.start_on = a.start_on AND b.line <> a.line
             AND daterange(a.contract_start::date, a.contract_end::date, '[]') && daterange(b.contract_start::date, b.contract_end::date, '[]')
            WHERE a.contract_end::date >= a.contract_start::date AND b.contract_end::date >= b.contract_start::date
            """) { row in
            row["other"].map { Text(en: "this contract overlaps the contract of line \($0) of the same placement", zh: "该合同与同一聘用第 \($0) 行的合同期限重叠") }
                ?? Text(en: "a contract cannot start before its placement (start_on \(row["start_on"] ?? ""))", zh: "合同不能早于上岗日期（\(row["start_on"] ?? "")）开始")
        }
        // Two placements of one post, or of one person, on one day: in the file, or one of the
        // file beside one stored.
        for (rule, column, otherColumn) in [(RuleCode.oneHolderPerPost, "post_id", "id_number"), (RuleCode.onePostPerPerson, "id_number", "post_id")] {
            try rules.check(connection, rule.rawValue, """
                SELECT a.line, '\(column)' AS key, b.line AS other_line, NULL::text AS other, b.start_on AS other_from, b.exit_on AS other_to
                FROM ledger_placement a JOIN ledger_placement b ON b.\(column) = a.\(column) AND b.line <> a.line
                 AND daterange(a.start_on, a.exit_on, '[]') && daterange(b.start_on, b.exit_on, '[]')
                UNION ALL
                SELECT a.line, '\(column)', NULL, pl.\(otherColumn), pl.start_on, pl.exit_on
                FROM ledger_placement a JOIN placement pl ON pl.\(column) = a.\(column)
                 AND daterange(a.start_on, a.exit_on, '[]') && daterange(pl.start_on, pl.exit_on, '[]')
                """) { row in
                let days = "\(row["other_from"] ?? "")\(row["other_to"].map { " – \($0)" } ?? " –")"
                if rule == .oneHolderPerPost {
                    return row["other_line"].map { Text(en: "line \($0) places another person in this post on some of the same days (\(days))",
                                                        zh: "第 \($0) 行在部分相同日期（\(days)）安排了另一人在该岗位") }
                        ?? Text(en: "this post is already held on some of these days (\(days)) by a placement stored before",
                                zh: "该岗位在部分相同日期（\(days)）已有在岗人员（已登记的聘用）")
                }
                return row["other_line"].map { Text(en: "line \($0) places this person in another post on some of the same days (\(days))",
                                                    zh: "第 \($0) 行在部分相同日期（\(days)）安排该人员在另一岗位") }
                    ?? Text(en: "this person is already in post \(row["other"] ?? "") on some of these days (\(days))",
                            zh: "该人员在部分相同日期（\(days)）已在岗位 \(row["other"] ?? "") 任职")
            }
        }
        try rules.check(connection, RuleCode.postNotOpen.rawValue, """
            SELECT l.line, 'start_on' AS key, l.post_id, l.approved_on, l.closed_on, l.start_on, NULL::text AS contract_start FROM ledger_placement l
            WHERE l.approved_on IS NULL OR l.start_on < l.approved_on OR (l.closed_on IS NOT NULL AND (l.exit_on IS NULL OR l.exit_on >= l.closed_on))
            UNION ALL
            SELECT s.line, 'contract_start', s.post_id, p.approved_on, p.closed_on, NULL, s.contract_start FROM \(table) s JOIN post p ON p.id = s.post_id
            WHERE s.contract_start::date >= p.closed_on
            """) { row in
            let post = row["post_id"] ?? ""
            if let start = row["contract_start"] {
                return Text(en: "post \(post) is closed from \(row["closed_on"] ?? ""): no contract can start on \(start)",
                            zh: "岗位 \(post) 自 \(row["closed_on"] ?? "") 起已撤销：不能签订自 \(start) 起的合同")
            }
            guard let approved = row["approved_on"] else {
                return Text(en: "post \(post) was never approved: nobody can be in post in it", zh: "岗位 \(post) 未经审批：不能在该岗位上岗")
            }
            if let start = row["start_on"], start < approved {
                return Text(en: "post \(post) is in force from \(approved) (its approval date): nobody can be in post in it on \(start)",
                            zh: "岗位 \(post) 自 \(approved)（审批日期）起设立：\(start) 不能在该岗位上岗")
            }
            return Text(en: "post \(post) is closed from \(row["closed_on"] ?? ""): a placement in it must end (exit_on) before then",
                        zh: "岗位 \(post) 自 \(row["closed_on"] ?? "") 起已撤销：在该岗位的聘用须在此前退岗")
        }
        // The person and the policy on each contract's start (SPEC §5), the person's facts as
        // they were that day: one row per contract, each rule it breaks. (Today is a checked
        // `Day`, written as its ISO text: a utility statement takes no parameters.)
        // The policy is looked up once per region, post type and day (a ledger's contracts
        // mostly start on a few dates).
        try connection.execute("""
            CREATE TEMP TABLE ledger_contract_facts ON COMMIT DROP AS
            WITH k AS (
              SELECT DISTINCT p.region_code, p.post_type, s.contract_start::date AS day FROM \(table) s JOIN post p ON p.id = s.post_id
            ), policy AS MATERIALIZED (
              SELECT k.region_code, k.post_type, k.day, e.categories, e.min_age, e.max_age,
                     EXISTS (SELECT 1 FROM pay_standard_on(k.region_code, k.post_type, k.day)) AS paid
              FROM k CROSS JOIN LATERAL eligibility_on(k.region_code, k.day) e
            )
            SELECT s.line, s.contract_start::date AS day, s.contract_end::date AS end_on, p.post_type, f.category, f.labour_capacity,
                   k.categories, k.min_age, k.max_age, age_on(resident_birth_date(s.id_number), s.contract_start::date) AS age,
                   (SELECT string_agg(st.status, ',' ORDER BY st.status) FROM person_status st
                     WHERE st.id_number = s.id_number AND st.valid_from <= s.contract_start::date
                       AND (st.valid_to IS NULL OR st.valid_to >= s.contract_start::date)) AS statuses,
                   household_has_cadre(s.id_number, s.contract_start::date) AS cadre, k.paid,
                   CASE WHEN s.contract_end::date >= '\(today.iso)'::date
                        THEN insurance_coverage(s.id_number) @> daterange(greatest(s.contract_start::date, '\(today.iso)'::date), s.contract_end::date, '[]') END AS insured
            FROM \(table) s JOIN post p ON p.id = s.post_id
            JOIN policy k ON k.region_code = p.region_code AND k.post_type = p.post_type AND k.day = s.contract_start::date
            LEFT JOIN LATERAL person_facts_on(s.id_number, s.contract_start::date) f ON true
            """)
        let facts = "ledger_contract_facts"
        try rules.check(connection, RuleCode.labourCapacity.rawValue, """
            SELECT line, 'id_number' AS key, day FROM \(facts) WHERE labour_capacity = 'none'
            """) { Text(en: "the person has no capacity to work (无劳动能力) on \($0["day"] ?? "") and cannot be placed",
                        zh: "该人员在 \($0["day"] ?? "") 为无劳动能力，不能安置") }
        try rules.check(connection, RuleCode.category.rawValue, """
            SELECT line, 'id_number' AS key, day, category, array_to_string(categories, ',') AS categories FROM \(facts)
            WHERE category IS NULL OR NOT category = ANY (categories)
            """) { Text(en: "the person is in category \($0["category"] ?? "?") on \($0["day"] ?? ""), the contract's start, but the policy then admits only \($0["categories"] ?? "")",
                        zh: "该人员在合同起始日 \($0["day"] ?? "") 的类别为 \($0["category"] ?? "?")，而当时政策只安置 \($0["categories"] ?? "")") }
        try rules.check(connection, RuleCode.age.rawValue, """
            SELECT line, 'id_number' AS key, day, age, min_age, max_age FROM \(facts) WHERE age NOT BETWEEN min_age AND max_age
            """) { Text(en: "the person is \($0["age"] ?? "") on \($0["day"] ?? ""), the contract's start; the policy then admits ages \($0["min_age"] ?? "") to \($0["max_age"] ?? "")",
                        zh: "该人员在合同起始日 \($0["day"] ?? "") 为 \($0["age"] ?? "") 岁；当时政策规定年龄为 \($0["min_age"] ?? "") 至 \($0["max_age"] ?? "") 岁") }
        try rules.check(connection, RuleCode.excludedStatus.rawValue, """
            SELECT line, 'id_number' AS key, day, statuses, cadre FROM \(facts) WHERE statuses IS NOT NULL OR cadre
            """) { row in
            row["statuses"].map { Text(en: "the person has status \($0) in force on \(row["day"] ?? ""), the contract's start, and cannot be placed",
                                       zh: "该人员在合同起始日 \(row["day"] ?? "") 有“\($0)”状态，不能安置") }
                ?? Text(en: "the person's household has a village cadre on \(row["day"] ?? ""), the contract's start: 村干部及其家庭成员不列入",
                        zh: "该人员的家庭成员在合同起始日 \(row["day"] ?? "") 为村干部：村干部及其家庭成员不列入安置范围")
        }
        try rules.check(connection, RuleCode.payStandard.rawValue, """
            SELECT line, 'contract_start' AS key, day, post_type FROM \(facts) WHERE NOT paid
            """) { Text(en: "no pay standard for \($0["post_type"] ?? "") posts is in force on \($0["day"] ?? ""), the contract's start: set one with `policy pay` first",
                        zh: "合同起始日 \($0["day"] ?? "") 没有 \($0["post_type"] ?? "") 岗位的待遇标准：请先用 `policy pay` 设置") }
        try rules.check(connection, RuleCode.insurance.rawValue, """
            SELECT line, 'contract_end' AS key, day, end_on FROM \(facts) WHERE insured IS FALSE
            """) { Text(en: "this contract runs to \($0["end_on"] ?? "") and the person's accident insurance does not cover every day of it from today: record the policies with `insurance import` first (days already past without cover are an audit finding, UNINSURED)",
                        zh: "该合同至 \($0["end_on"] ?? "") 止，该人员的意外伤害保险未覆盖自今天起的每一天：请先用 `insurance import` 登记保单（已过去的未保日期由审计列为 UNINSURED）") }
    }

    static func cleanPlacement(_ row: inout ImportRow, vocabulary: Vocabulary, today: Day) -> [String?]? {
        let post = row.required("post_id", "岗位编号")
        if let post, !isPostID(post) {
            row.problem("post_id", Text(en: "'\(TextValue.quoted(post))' is not a post ID (320321-00017)", zh: "“\(TextValue.quoted(post))”不是岗位编号（如 320321-00017）"))
        }
        let id = row.residentID(today: today)
        let start = row.pastDate("start_on", "上岗日期", today: today)
        let kind = row.required("contract_kind", "合同类型").flatMap { text in
            vocabulary.code(.contractKind, text) ?? { row.problem("contract_kind", vocabulary.unknown(.contractKind, text)); return nil }()
        }
        let contractStart = row.date("contract_start", "合同起始"), contractEnd = row.date("contract_end", "合同终止")
        let exit = row.value("exit_on") != nil ? row.pastDate("exit_on", "退岗日期", today: today) : nil
        var reason: String?
        if let text = row.value("exit_reason") {
            reason = vocabulary.code(.exitReason, text)
            if reason == nil { row.problem("exit_reason", vocabulary.unknown(.exitReason, text)) }
        }
        if row.value("exit_on") != nil && row.value("exit_reason") == nil {
            row.problem("exit_reason", Text(en: "an exit needs its exit_reason", zh: "退岗须填写退岗原因"))
        } else if row.value("exit_on") == nil && row.value("exit_reason") != nil {
            row.problem("exit_on", Text(en: "exit_reason is given but not exit_on: give the last day in post", zh: "填写了退岗原因但没有退岗日期：请填写最后在岗日"))
        }
        if let start, let exit, exit < start {
            row.problem("exit_on", Text(en: "the exit (\(exit)) is before the start (\(start))", zh: "退岗日期（\(exit)）早于上岗日期（\(start)）"))
        }
        guard row.problems.isEmpty, let post, let id, let start, let kind, let contractStart, let contractEnd else { return nil }
        return [post, id, start.iso, kind, contractStart.iso, contractEnd.iso, exit?.iso, reason]
    }
}

extension ImportRow {
    /// A required date cell that is not after `today`: a ledger records what has happened.
    mutating func pastDate(_ key: String, _ zh: String, today: Day) -> Day? {
        guard let day = date(key, zh) else { return nil }
        if today < day {
            problem(key, Text(en: "\(day) is in the future: a ledger records what has happened", zh: "\(day) 晚于今天：台账只登记已发生的事项"))
            return nil
        }
        return day
    }
}

/// Rows of a file that break a rule of SPEC §5, each with its rule, gathered from set-wise
/// queries, then refused together (exit 1).
struct RuleFindings {
    let header: HeaderMap
    private(set) var problems: [(rule: String?, problem: FileProblem)] = []

    init(header: HeaderMap) { self.header = header }

    var isEmpty: Bool { problems.isEmpty }

    /// Adds the rows a query finds: it returns `line`, `key` (the column) and what `describe` reads.
    mutating func check(_ connection: Connection, _ rule: String?, _ sql: String, _ parameters: [any PostgresEncodable] = [],
                        describe: (Row) -> Text) throws {
        for row in try connection.query(sql, parameters) {
            let line = Int(row["line"] ?? "") ?? 0
            let index = row["key"].flatMap { header.position[$0] }
            let text = describe(row)
            problems.append((rule, FileProblem(line: line, column: index.map { $0 + 1 }, header: index.map { header.headers[$0] },
                                               problem: rule.map { Text(en: "\($0): \(text.en)", zh: "\($0)：\(text.zh)") } ?? text)))
        }
    }

    /// Throws the refusal listing every row and its rule, if there are any: the rule's code when
    /// one rule is broken, `LEDGER_RULES` naming them when several are.
    func refuse() throws {
        guard !problems.isEmpty else { return }
        let sorted = problems.map(\.problem).sorted { ($0.line, $0.column ?? 0, $0.problem.en) < ($1.line, $1.column ?? 0, $1.problem.en) }
        let codes = Array(Set(problems.compactMap(\.rule))).sorted()
        let lines = Set(problems.map(\.problem.line)).count
        let message = Text(
            en: "\(lines) row(s) of the file break \(codes.count == 1 ? "the rule" : "the rules") \(codes.joined(separator: ", ")) on their own dates; nothing was imported:",
            zh: "文件中有 \(lines) 行按其自身日期违反规则 \(codes.joined(separator: "、"))，未导入任何数据：")
        if codes.count == 1, let rule = RuleCode(rawValue: codes[0]) {
            throw AppError(rule: rule, message, problems: sorted)
        }
        throw AppError(.rule, code: codes.count == 1 ? codes[0] : "LEDGER_RULES", message, problems: sorted)
    }
}
