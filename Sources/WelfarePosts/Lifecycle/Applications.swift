import Postgres

/// Applications (报名, SPEC §13): who wants a post, and their ranking by the policy's priority.
/// One application per person and post; applying again changes its date. A post takes
/// applications while it is proposed or approved and not closed: recruiting may run while the
/// county decides on the post, but only an approved post can be filled.
public enum Applications {
    public static let columns = [
        ImportColumn("post_id", "岗位编号"), ImportColumn("id_number", "身份证号"), ImportColumn("applied_on", "报名日期"),
    ]

    /// Staged rows (post_id, id_number, applied_on) written, a changed date replacing the old one.
    static let merge = """
        INSERT INTO application AS a (county_code, post_id, id_number, applied_on)
        SELECT p.county_code, s.post_id, s.id_number, s.applied_on::date FROM %@ s JOIN post p ON p.id = s.post_id
        ON CONFLICT (county_code, post_id, id_number) DO UPDATE SET applied_on = EXCLUDED.applied_on, recorded_at = now()
        WHERE a.applied_on IS DISTINCT FROM EXCLUDED.applied_on
        """

    /// SQL on staged row `s` and its post `p`: the post does not take applications that day.
    static let closedCondition = """
        p.state = 'rejected' OR s.applied_on::date < p.proposed_on OR (p.closed_on IS NOT NULL AND s.applied_on::date >= p.closed_on)
        """

    /// `apply --post P --person ID [--on D]`.
    public static func apply(_ connection: Connection, post id: String, person: ResidentID, on day: Day) throws -> Row {
        try Database.mapped {
            try connection.transaction {
                let post = try Posts.find(connection, id)
                let person = try Persons.find(connection, person)
                try connection.execute("CREATE TEMP TABLE application_one (line int DEFAULT 1, post_id text, id_number text, applied_on text) ON COMMIT DROP")
                try connection.command("INSERT INTO application_one (post_id, id_number, applied_on) VALUES ($1, $2, $3)",
                                       [id, person.idNumber, day.iso])
                if try !connection.query("SELECT 1 FROM application_one s JOIN post p ON p.id = s.post_id WHERE \(closedCondition)").isEmpty {
                    throw notTakingApplications(post, day)
                }
                try connection.command(merge.replacingOccurrences(of: "%@", with: "application_one"))
                return try connection.query("""
                    SELECT a.id, a.post_id, a.id_number, pe.name, a.applied_on::text FROM application a
                    JOIN person pe ON pe.id_number = a.id_number WHERE a.post_id = $1 AND a.id_number = $2
                    """, [id, person.idNumber])[0]
            }
        }
    }

    static func notTakingApplications(_ post: Post, _ day: Day) -> AppError {
        let id = post.id
        return AppError(rule: .postNotOpen, Text(
            en: "post \(id) does not take applications on \(day): it is \(post.lastTransition.rawValue) (proposed \(post.proposedOn)\(post.closedOn.map { ", closed from \($0)" } ?? ""))",
            zh: "岗位 \(id) 在 \(day) 不接受报名：当前为“\(post.lastTransition.rawValue)”（申报于 \(post.proposedOn)\(post.closedOn.map { "，\($0) 起撤销" } ?? "")）"))
    }

    /// `application import FILE`: all or nothing, every bad line listed.
    public static func importFile(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> ImportOutcome {
        try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "application_stage",
                                          stagingColumns: ["post_id", "id_number", "applied_on"]) { row in
                    let post = row.required("post_id", "岗位编号")
                    let id = row.residentID(today: today)
                    let day = row.date("applied_on", "报名日期")
                    if let day, today < day {
                        row.problem("applied_on", Text(en: "\(day) is in the future", zh: "\(day) 晚于今天"))
                    }
                    guard let post, let id, let day else { return nil }
                    return [post, id, day.iso]
                }
                try staging.check(connection, """
                    SELECT line, 'id_number' AS key, first FROM (SELECT line, min(line) OVER (PARTITION BY post_id, id_number) AS first
                      FROM application_stage) d WHERE line > first
                    """) { Text(en: "this person's application for the post is already on line \($0["first"] ?? "?")",
                                zh: "该人员对此岗位的报名已在第 \($0["first"] ?? "?") 行出现") }
                try staging.check(connection, """
                    SELECT s.line, 'post_id' AS key, s.post_id FROM application_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id) AND NOT post_exists(s.post_id)
                    """) { Text(en: "there is no post \($0["post_id"] ?? "")", zh: "没有编号为 \($0["post_id"] ?? "") 的岗位") }
                try staging.check(connection, """
                    SELECT s.line, 'applied_on' AS key, p.id, p.state FROM application_stage s JOIN post p ON p.id = s.post_id
                    WHERE \(closedCondition)
                    """) { Text(en: "post \($0["id"] ?? "") does not take applications on that day (it is \($0["state"] ?? "") or was not yet proposed, or is closed)",
                                zh: "岗位 \($0["id"] ?? "") 当日不接受报名（\($0["state"] ?? "")，或尚未申报、已撤销）") }
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM application_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number) AND NOT \(staging.personOutsideRegion)
                    """) { _ in Text(en: "no person with this resident ID is registered: import them with `person import` first",
                                     zh: "未登记该身份证号的人员：请先用 `person import` 导入") }
                try staging.requireNoProblems()
                try staging.refuseOutsideRegion(connection, """
                    SELECT s.line, 'post_id' AS key FROM application_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id)
                    """) { _ in Text(en: "this post is outside your region", zh: "该岗位不在您的管辖区域内") }
                try staging.refusePersonsOutsideRegion(connection, where: "NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)")
                let counts = try connection.query("""
                    SELECT count(*) FILTER (WHERE a.id IS NULL) AS inserted,
                           count(*) FILTER (WHERE a.id IS NOT NULL AND a.applied_on <> s.applied_on::date) AS updated
                    FROM application_stage s LEFT JOIN application a ON a.post_id = s.post_id AND a.id_number = s.id_number
                    """)[0]
                if !dryRun { try connection.command(merge.replacingOccurrences(of: "%@", with: "application_stage")) }
                return ImportOutcome(rows: staging.rowCount, inserted: try counts.decode("inserted"),
                                     updated: try counts.decode("updated"), dryRun: dryRun)
            }
        }
    }

    /// Priority of SPEC §13 (优先安置……弱劳力、半劳力): monitored, then poverty-alleviated, then
    /// low-income (then anyone else); within each, weak and half capacity before full (then
    /// none); then the earlier application. The person's facts are as registered now.
    static let priority = """
        CASE pe.category WHEN 'monitored' THEN 1 WHEN 'poverty-alleviated' THEN 2 WHEN 'low-income' THEN 3 ELSE 4 END,
        CASE pe.labour_capacity WHEN 'weak' THEN 1 WHEN 'half' THEN 1 WHEN 'full' THEN 2 ELSE 3 END,
        a.applied_on, a.id
        """

    /// `applicants --post P [--on D]`: the applicants in rank order, each with the rules of §5 a
    /// hire on `day` would break (as `hire` checks them, with insurance on that day: the
    /// contract's length is not known yet), and their latest notice for the post.
    public static func ranked(_ connection: Connection, post id: String, on day: Day) throws -> [Row] {
        _ = try Posts.find(connection, id)
        return try Database.mapped {
            try connection.query("""
                WITH po AS (
                  SELECT p.id, p.region_code,
                         p.approved_on IS NOT NULL AND p.approved_on <= $2::date AND (p.closed_on IS NULL OR p.closed_on > $2::date)
                           AND NOT EXISTS (SELECT 1 FROM placement pl WHERE pl.post_id = p.id AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date)) AS open,
                         EXISTS (SELECT 1 FROM pay_standard_on(p.region_code, p.post_type, $2::date)) AS paid
                  FROM post p WHERE p.id = $1
                ), facts AS (
                  SELECT a.id, a.id_number, a.applied_on, pe.name, pe.category, pe.labour_capacity, pe.id_number IS NOT NULL AS visible,
                         age_on(resident_birth_date(a.id_number), $2::date) AS age, e.min_age, e.max_age, e.household_cap, e.categories,
                         po.open, po.paid,
                         row_number() OVER (ORDER BY \(priority)) AS rank
                  FROM application a JOIN po ON po.id = a.post_id
                  LEFT JOIN person pe ON pe.id_number = a.id_number
                  CROSS JOIN LATERAL eligibility_on(po.region_code, $2::date) e
                )
                SELECT f.rank, f.id_number, f.name, f.category, f.labour_capacity, f.age, f.applied_on::text,
                       array_to_string(ARRAY[
                         CASE WHEN NOT f.open THEN 'POST_NOT_OPEN' END,
                         CASE WHEN EXISTS (SELECT 1 FROM placement pl WHERE pl.id_number = f.id_number
                                             AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date)) THEN 'ONE_POST_PER_PERSON' END,
                         CASE WHEN f.labour_capacity = 'none' THEN 'LABOUR_CAPACITY' END,
                         CASE WHEN NOT f.category = ANY (f.categories) THEN 'CATEGORY' END,
                         CASE WHEN f.age NOT BETWEEN f.min_age AND f.max_age THEN 'AGE' END,
                         CASE WHEN EXISTS (SELECT 1 FROM person_status s WHERE s.id_number = f.id_number AND s.valid_from <= $2::date
                                             AND (s.valid_to IS NULL OR s.valid_to >= $2::date))
                                   OR household_has_cadre(f.id_number, $2::date) THEN 'EXCLUDED_STATUS' END,
                         CASE WHEN household_in_post(f.id_number, $2::date) + 1 > f.household_cap THEN 'HOUSEHOLD_CAP' END,
                         CASE WHEN NOT insurance_coverage(f.id_number) @> $2::date THEN 'INSURANCE' END,
                         CASE WHEN NOT f.paid THEN 'PAY_STANDARD' END], ' ') AS breaks,
                       n.id AS notice, n.from_on::text AS notice_from, n.to_on::text AS notice_to, n.state AS notice_state
                FROM facts f
                LEFT JOIN LATERAL (
                  SELECT n.id, n.from_on, n.to_on,
                         CASE WHEN bool_or(o.finding = 'upheld') THEN 'upheld' WHEN bool_or(o.id IS NOT NULL AND o.finding IS NULL) THEN 'objection-open'
                              WHEN n.from_on > $2::date THEN 'scheduled' WHEN n.to_on >= $2::date THEN 'running' ELSE 'ended' END AS state
                  FROM notice n LEFT JOIN notice_objection o ON o.notice_id = n.id
                  WHERE n.post_id = $1 AND n.id_number = f.id_number
                  GROUP BY n.id ORDER BY n.from_on DESC, n.id DESC LIMIT 1) n ON true
                ORDER BY f.rank
                """, [id, day.iso])
        }
    }
}
