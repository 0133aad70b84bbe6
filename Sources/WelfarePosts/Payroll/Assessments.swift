import Postgres

/// Monthly assessments (考核): one per placement and month, pass or fail with absent days.
/// No assessment counts as a pass with no absent days. Recording one again replaces it.
public enum Assessments {
    public static let columns = [
        ImportColumn("id_number", "身份证号"), ImportColumn("month", "考核月份"), ImportColumn("result", "考核结果"),
        ImportColumn("absent_days", "缺勤天数", required: false, kind: .code(maxLength: 8), formulaCheck: false),
    ]

    /// Staged rows (id_number, month, result, absent_days) matched to the placement the person
    /// held in that month; the newest if they held two.
    static let merge = """
        INSERT INTO assessment AS a (county_code, placement_id, month, result, absent_days)
        SELECT pl.county_code, pl.id, s.month::date, s.result, s.absent_days::int
        FROM %@ s CROSS JOIN LATERAL (
          SELECT pl.id, pl.county_code FROM placement pl
          WHERE pl.id_number = s.id_number AND pl.start_on <= (s.month::date + interval '1 month' - interval '1 day')
            AND (pl.exit_on IS NULL OR pl.exit_on >= s.month::date)
          ORDER BY pl.start_on DESC LIMIT 1) pl
        ON CONFLICT (placement_id, month) DO UPDATE SET result = EXCLUDED.result, absent_days = EXCLUDED.absent_days, recorded_at = now()
        WHERE (a.result, a.absent_days) IS DISTINCT FROM (EXCLUDED.result, EXCLUDED.absent_days)
        """

    /// SQL true when staged row `s` has no placement (that the operator can see) in its month.
    static let notInPostCondition = """
        NOT EXISTS (
          SELECT 1 FROM placement pl WHERE pl.id_number = s.id_number
            AND pl.start_on <= (s.month::date + interval '1 month' - interval '1 day')
            AND (pl.exit_on IS NULL OR pl.exit_on >= s.month::date))
        """
    static let notInPost = "SELECT s.line, 'month' AS key FROM %@ s WHERE \(notInPostCondition)"
    /// SQL true when the operator sees neither staged row `s`'s person nor any placement of
    /// theirs. (The township of a post sees its holder's placements, not always their record.)
    static let unseen = """
        NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
        AND NOT EXISTS (SELECT 1 FROM placement pl WHERE pl.id_number = s.id_number)
        """

    /// Staged rows giving absent days for a person and month with daily attendance recorded:
    /// there the absent days are the attendance's (SPEC §14).
    static let attendanceGivesAbsentDays = """
        SELECT s.line, 'absent_days' AS key FROM %@ s
        WHERE s.absent_days::int > 0 AND EXISTS (SELECT 1 FROM attendance t WHERE t.id_number = s.id_number AND t.month = s.month::date)
        """

    public static func record(_ connection: Connection, person: ResidentID, month: Month, result: String, absentDays: Int) throws -> Row {
        let result = try Vocabulary.load(connection).require(.assessmentResult, result)
        guard (0...month.dayCount).contains(absentDays) else {
            throw AppError.badInput(Text(en: "--absent-days must be 0 to \(month.dayCount) for \(month)",
                                         zh: "\(month) 的 --absent-days 应为 0 至 \(month.dayCount)"))
        }
        return try Database.mapped {
            try connection.transaction {
                try connection.execute("CREATE TEMP TABLE assessment_one (line int DEFAULT 1, id_number text, month text, result text, absent_days text) ON COMMIT DROP")
                try connection.command("INSERT INTO assessment_one (id_number, month, result, absent_days) VALUES ($1, $2, $3, $4)",
                                       [person.value, month.firstDay.iso, result, String(absentDays)])
                if try !connection.query(notInPost.replacingOccurrences(of: "%@", with: "assessment_one")).isEmpty {
                    // Not in post. When the operator sees neither the person nor any placement
                    // of theirs, say first whether they are unknown or another region's. (The
                    // township of a post assesses its holder, whose record it may not see.)
                    if try connection.query("SELECT \(unseen) AS unseen FROM assessment_one s")[0]["unseen"] == "t" {
                        _ = try Persons.find(connection, person)
                    }
                    throw AppError(.rule, code: "NOT_IN_POST", Text(
                        en: "\(person.masked) was not in post in \(month): there is nothing to assess",
                        zh: "\(person.masked) 在 \(month) 不在岗：无需考核"))
                }
                if absentDays > 0, try !connection.query(attendanceGivesAbsentDays.replacingOccurrences(of: "%@", with: "assessment_one")).isEmpty {
                    throw AppError(.rule, code: "ATTENDANCE_RECORDED", Text(
                        en: "daily attendance is recorded for \(person.masked) in \(month): absent days come from it (SPEC §14); record the assessment without --absent-days",
                        zh: "\(person.masked) 在 \(month) 已登记考勤：缺勤天数以考勤为准；请不填 --absent-days 登记考核"))
                }
                try connection.command(merge.replacingOccurrences(of: "%@", with: "assessment_one"))
                return try connection.query("""
                    SELECT pl.post_id, to_char(a.month, 'YYYY-MM') AS month, a.result, a.absent_days FROM assessment a
                    JOIN placement pl ON pl.id = a.placement_id WHERE pl.id_number = $1 AND a.month = $2::date
                    ORDER BY pl.start_on DESC LIMIT 1
                    """, [person.value, month.firstDay.iso])[0]
            }
        }
    }

    public static func importFile(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> ImportOutcome {
        let vocabulary = try Vocabulary.load(connection)
        return try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "assessment_stage",
                                          stagingColumns: ["id_number", "month", "result", "absent_days"]) { row in
                    let id = row.residentID(today: today)
                    let month = row.month("month", "考核月份")
                    let result = row.required("result", "考核结果").flatMap { text in
                        vocabulary.code(.assessmentResult, text) ?? { row.problem("result", vocabulary.unknown(.assessmentResult, text)); return nil }()
                    }
                    var absent = 0
                    if let text = row.value("absent_days") {
                        if text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let days = Int(text), days <= (month?.dayCount ?? 31) { absent = days } else {
                            row.problem("absent_days", Text(en: "'\(TextValue.quoted(text))' is not a number of days in the month (0 to \(month?.dayCount ?? 31))",
                                                            zh: "“\(TextValue.quoted(text))”不是有效的缺勤天数（0 至 \(month?.dayCount ?? 31)）"))
                        }
                    }
                    guard let id, let month, let result else { return nil }
                    return [id, month.firstDay.iso, result, String(absent)]
                }
                try staging.check(connection, """
                    SELECT line, 'month' AS key, first FROM (SELECT line, min(line) OVER (PARTITION BY id_number, month) AS first
                      FROM assessment_stage) d WHERE line > first
                    """) { Text(en: "this person's assessment for the month is already on line \($0["first"] ?? "?")",
                                zh: "该人员本月考核已在第 \($0["first"] ?? "?") 行出现") }
                try staging.check(connection, notInPost.replacingOccurrences(of: "%@", with: "assessment_stage")
                                  + " AND NOT (\(unseen) AND \(staging.personOutsideRegion))") { _ in
                    Text(en: "this person was not in post in that month (or is not registered): nothing to assess",
                         zh: "该人员当月不在岗（或未登记）：无需考核")
                }
                try staging.check(connection, attendanceGivesAbsentDays.replacingOccurrences(of: "%@", with: "assessment_stage")) { _ in
                    Text(en: "daily attendance is recorded for this person in that month: absent days come from it; leave absent_days empty or 0",
                         zh: "该人员当月已登记考勤：缺勤天数以考勤为准；缺勤天数请留空或填0")
                }
                try staging.requireNoProblems()
                try staging.refusePersonsOutsideRegion(connection, where: unseen)
                let changed = try connection.query("""
                    SELECT count(*) FILTER (WHERE a.id IS NULL) AS inserted,
                           count(*) FILTER (WHERE a.id IS NOT NULL AND (a.result, a.absent_days) IS DISTINCT FROM (s.result, s.absent_days::int)) AS updated
                    FROM assessment_stage s CROSS JOIN LATERAL (
                      SELECT pl.id FROM placement pl WHERE pl.id_number = s.id_number
                        AND pl.start_on <= (s.month::date + interval '1 month' - interval '1 day')
                        AND (pl.exit_on IS NULL OR pl.exit_on >= s.month::date) ORDER BY pl.start_on DESC LIMIT 1) pl
                    LEFT JOIN assessment a ON a.placement_id = pl.id AND a.month = s.month::date
                    """)[0]
                if !dryRun { try connection.command(merge.replacingOccurrences(of: "%@", with: "assessment_stage")) }
                return ImportOutcome(rows: staging.rowCount, inserted: try changed.decode("inserted"),
                                     updated: try changed.decode("updated"), dryRun: dryRun)
            }
        }
    }
}

extension ImportRow {
    /// A required `YYYY-MM` cell, or a problem.
    public mutating func month(_ key: String, _ zh: String) -> Month? {
        guard let text = required(key, zh) else { return nil }
        guard let month = Month(iso: text) else {
            problem(key, Text(en: "'\(TextValue.quoted(text))' is not a month: write YYYY-MM", zh: "“\(TextValue.quoted(text))”不是月份：请写成 YYYY-MM"))
            return nil
        }
        return month
    }
}
