import Postgres

/// The demo county's payroll: January and February 2026 assessed, run, approved and exported;
/// then an exit recorded late, dated in February, which March's run turns into an adjustment.
public enum DemoPayroll {
    public static func walk(_ connection: Connection) throws -> [DemoLifecycle.Step] {
        let existing = try connection.query("SELECT count(*) AS n FROM payroll_run WHERE county_code = '320321'")[0]
        guard existing["n"] == "0" else {
            return [DemoLifecycle.Step(action: Text(en: "payroll", zh: "工资发放"),
                                       outcome: Text(en: "already run in this database", zh: "本数据库中已演示过"), refusal: nil)]
        }
        let people = try connection.query("""
            SELECT pl.id_number, pe.name FROM placement pl JOIN person pe ON pe.id_number = pl.id_number
            WHERE pl.county_code = '320321' AND pl.exit_on IS NULL ORDER BY pl.post_id
            """)
        guard people.count >= 4 else { return [] }
        var steps: [DemoLifecycle.Step] = []
        func note(_ en: String, _ zh: String, _ outcomeEn: String, _ outcomeZh: String, refusal: String? = nil) {
            steps.append(DemoLifecycle.Step(action: Text(en: en, zh: zh), outcome: Text(en: outcomeEn, zh: outcomeZh), refusal: refusal))
        }
        let january = Month(year: 2026, month: 1)!, february = Month(year: 2026, month: 2)!, march = Month(year: 2026, month: 3)!
        let failed = try ResidentID(people[0]["id_number"]!), absent = try ResidentID(people[1]["id_number"]!)
        _ = try Assessments.record(connection, person: failed, month: january, result: "fail", absentDays: 0)
        _ = try Assessments.record(connection, person: absent, month: january, result: "pass", absentDays: 2)
        note("assess January", "一月考核", "\(people[0]["name"]!) failed; \(people[1]["name"]!) absent 2 days; the rest pass",
             "\(people[0]["name"]!) 不合格；\(people[1]["name"]!) 缺勤2天；其余合格")
        for month in [january, february] {
            let run = try Payroll.run(connection, month: month, region: DemoCounty.county)
            _ = try Payroll.approve(connection, month: month, region: DemoCounty.county)
            note("run and approve the \(month) payroll", "\(month) 工资表生成并审核",
                 "\(run.regularLines) lines, \(Fen(run.totalFen).yuanText) yuan, locked", "\(run.regularLines) 条，共 \(Fen(run.totalFen).yuanText) 元，已锁定")
        }
        let rerun: AppError? = { do { _ = try Payroll.run(connection, month: february, region: DemoCounty.county); return nil }
                                 catch let error as AppError { return error } catch { return nil } }()
        if let rerun { note("run February again", "重算二月工资表", rerun.message.en, rerun.message.zh, refusal: rerun.code) }
        // Told in March: someone's last day was 15 February.
        let late = people[3]
        _ = try Placements.exit(connection, person: try ResidentID(late["id_number"]!), on: Day(year: 2026, month: 2, day: 15)!, reason: "resigned")
        note("record in March that \(late["name"]!) left on 2026-02-15", "三月补录：\(late["name"]!) 于 2026-02-15 退岗",
             "February was paid in full and is locked", "二月已全额发放并锁定")
        // 在岗 means at work: from March the county pays the post subsidy on daily attendance
        // (one leave day a month paid). The books come in for everyone but one worker, whose line
        // is held until theirs does.
        _ = try Policy.setEvidence(connection, region: DemoCounty.county, from: march, require: "attendance", paidLeaveDays: 1)
        let unbooked = try connection.query("""
            SELECT pe.id_number, pe.name FROM placement pl JOIN person pe ON pe.id_number = pl.id_number
            WHERE pl.county_code = '320321' AND pl.exit_reason = 'employed-elsewhere'
            """).first
        let days = try connection.query("""
            SELECT pl.id_number, d::date::text AS day, dense_rank() OVER (ORDER BY pl.post_id) AS worker,
                   extract(day FROM d)::int AS n
            FROM placement pl CROSS JOIN generate_series('2026-03-01'::date, '2026-03-31'::date, interval '1 day') d
            WHERE pl.county_code = '320321' AND pl.start_on <= d AND (pl.exit_on IS NULL OR pl.exit_on >= d)
              AND pl.id_number IS DISTINCT FROM $1
            ORDER BY pl.post_id, d
            """, [unbooked?["id_number"] ?? ""])
        var book = "身份证号,日期,考勤状态\n"
        for row in days {
            // The first worker missed two days, the second took a day's leave; the rest were at work.
            let status = row["worker"] == "1" && ["9", "10"].contains(row["n"] ?? "") ? "缺勤" : row["worker"] == "2" && row["n"] == "16" ? "请假" : "出勤"
            book += "\(row["id_number"]!),\(row["day"]!),\(status)\n"
        }
        let recorded = try Attendance.importFile(connection, file: try CSVFile(data: Array(book.utf8)), dryRun: false)
        note("require daily attendance from March (policy evidence) and record March's books", "自三月起凭考勤发放补贴（policy evidence），录入三月考勤",
             "\(recorded.rows) person-days for \(recorded.personMonths) workers; \(unbooked?["name"] ?? "one worker")'s book is missing",
             "\(recorded.personMonths) 人共 \(recorded.rows) 人天；\(unbooked?["name"] ?? "一人")的考勤未交")
        let run = try Payroll.run(connection, month: march, region: DemoCounty.county)
        note("run the March payroll", "生成三月工资表",
             "\(run.regularLines) lines (\(run.heldLines) held for want of attendance: post subsidy 0) and \(run.adjustmentLines) adjustment of \(Fen(run.adjustmentFen).yuanText) yuan for February",
             "\(run.regularLines) 条（其中 \(run.heldLines) 条因缺考勤暂缓发放岗位补贴），另有二月补扣发 \(run.adjustmentLines) 条，金额 \(Fen(run.adjustmentFen).yuanText) 元")
        return steps
    }
}
