import Postgres

/// What the demo county's spring of 2026 leaves for the auditors: the bank's results for
/// January to March (one payment to a wrong account, one paid twice, one short, one missing),
/// a death recorded while in post (and another recorded rightly: the death, and the exit
/// dated the day before), a trial agreement not renewed, insurance cancelled, two failed
/// months, and a worker found to have a steady job. The report as of 2026-06-30 finds each of
/// them, and not the death recorded rightly.
public enum DemoAudit {
    /// The date the demo's violation report is as of.
    public static let asOf = Day(year: 2026, month: 6, day: 30)!

    public static func walk(_ connection: Connection) throws -> [DemoLifecycle.Step] {
        let existing = try connection.query("SELECT count(*) AS n FROM disbursement WHERE county_code = '320321'")[0]
        guard existing["n"] == "0" else {
            return [DemoLifecycle.Step(action: Text(en: "spring 2026", zh: "2026年春"),
                                       outcome: Text(en: "already walked in this database", zh: "本数据库中已演示过"), refusal: nil)]
        }
        let inPost = try connection.query("""
            SELECT pl.id_number, pe.name, pl.post_id FROM placement pl JOIN person pe ON pe.id_number = pl.id_number
            WHERE pl.county_code = '320321' AND pl.exit_on IS NULL ORDER BY pl.post_id
            """)
        guard inPost.count >= 5 else { return [] }
        var steps: [DemoLifecycle.Step] = []
        func note(_ en: String, _ zh: String, _ outcomeEn: String, _ outcomeZh: String) {
            steps.append(DemoLifecycle.Step(action: Text(en: en, zh: zh), outcome: Text(en: outcomeEn, zh: outcomeZh), refusal: nil))
        }
        let day = { (text: String) in Day(iso: text)! }
        let name = { (row: Row) in row["name"] ?? "" }

        let march = Month(year: 2026, month: 3)!
        _ = try Payroll.approve(connection, month: march, region: DemoCounty.county)
        note("approve the March payroll", "审核三月工资表", "locked", "已锁定")

        // The bank's results: what each approved payroll booked, with the bank's mistakes.
        let (wrongAccount, twice, short, missing) = (inPost[0], inPost[1], inPost[2], inPost[3])
        var shortPayment = ""
        for month in ["2026-01", "2026-02", "2026-03"] {
            let lines = try connection.query("""
                SELECT l.id_number, l.post_id, min(l.bank_account) AS bank_account, sum(l.total_fen) AS total FROM payroll_line l
                WHERE l.county_code = '320321' AND l.month = $1::date GROUP BY 1, 2 ORDER BY 2
                """, [Month(iso: month)!.firstDay.iso])
            var csv = "身份证号,岗位编号,银行账号,金额,发放日期\n"
            for line in lines {
                let id = line["id_number"]!, total = Fen(Int64(line["total"]!)!)
                // A net deduction is recovered, not paid; and one person is left out of March.
                if total.value <= 0 || (month == "2026-03" && id == missing["id_number"]) { continue }
                let account = month == "2026-01" && id == wrongAccount["id_number"] ? "6217000012345678901" : line["bank_account"]!
                let paidOn = Month(iso: month)!.adding(months: 1).firstDay.adding(days: 9).iso
                if month == "2026-02" && id == short["id_number"] {
                    // Paid short over the counter, recorded as history (a bank result pays a line to the fen).
                    shortPayment = "身份证号,发放月份,岗位编号,银行账号,金额,发放日期\n\(id),\(month),\(line["post_id"]!),\(account),\(Fen(total.value - 10_000).yuanText),\(paidOn)\n"
                    continue
                }
                csv += "\(id),\(line["post_id"]!),\(account),\(total.yuanText),\(paidOn)\n"
                if month == "2026-02" && id == twice["id_number"] {
                    csv += "\(id),\(line["post_id"]!),\(account),\(total.yuanText),\(Month(iso: month)!.adding(months: 1).firstDay.adding(days: 19).iso)\n"
                }
            }
            let outcome = try Disbursements.importFile(connection, file: try CSVFile(data: Array(csv.utf8)), month: Month(iso: month)!, dryRun: false)
            if !shortPayment.isEmpty {
                _ = try Disbursements.importFile(connection, file: try CSVFile(data: Array(shortPayment.utf8)), month: nil, dryRun: false)
                shortPayment = ""
            }
            note("reconcile the bank's results for \(month)", "导入 \(month) 银行回单",
                 "\(outcome.rows) payments, \(Fen(outcome.paidFen).yuanText) yuan", "\(outcome.rows) 笔，共 \(Fen(outcome.paidFen).yuanText) 元")
        }
        note("the bank's mistakes", "银行发放差错",
             "January: \(name(wrongAccount)) paid to another account; February: \(name(twice)) paid twice, \(name(short)) 100.00 short; March: \(name(missing)) not paid",
             "一月：\(name(wrongAccount)) 发放至他人账户；二月：\(name(twice)) 重复发放，\(name(short)) 少发 100.00 元；三月：\(name(missing)) 未发放")

        // 吃空饷: February's 签到 book, handed in after February was paid in full, shows one of the
        // workers never at work that month.
        let idle = inPost.count > 5 ? inPost[5] : inPost[0]
        var book = "身份证号,日期,考勤状态\n"
        for dayOfMonth in 1...28 { book += "\(idle["id_number"]!),2026-02-\(dayOfMonth < 10 ? "0" : "")\(dayOfMonth),缺勤\n" }
        _ = try Attendance.importFile(connection, file: try CSVFile(data: Array(book.utf8)), dryRun: false)
        note("record the February attendance book of \(name(idle)), handed in late", "补录 \(name(idle)) 二月考勤（迟交）",
             "absent all 28 days; February was paid in full", "二月28天全部缺勤，而二月补贴已全额发放")

        // A death recorded while in post, the exit not yet recorded.
        let died = inPost[4]
        _ = try Persons.setStatus(connection, id: try ResidentID(died["id_number"]!), status: "deceased", from: day("2026-05-10"), to: nil)
        note("record that \(name(died)) died on 2026-05-10", "登记 \(name(died)) 于 2026-05-10 死亡", "the exit is not recorded", "尚未办理退岗")

        // A death recorded as it should be: the death, and the exit dated the day before (the
        // last day in post) with reason deceased. Not a case.
        let recorded = inPost[3]
        _ = try Persons.setStatus(connection, id: try ResidentID(recorded["id_number"]!), status: "deceased", from: day("2026-06-20"), to: nil)
        _ = try Placements.exit(connection, person: try ResidentID(recorded["id_number"]!), on: day("2026-06-19"), reason: "deceased")
        note("record that \(name(recorded)) died on 2026-06-20, and the exit", "登记 \(name(recorded)) 于 2026-06-20 死亡并办理退岗",
             "exit dated 2026-06-19, the last day in post, reason deceased: nothing is paid from the day of death",
             "退岗日期为最后在岗日 2026-06-19（死亡前一日），原因“死亡”：自死亡之日起不再发放")

        // Insurance cancelled by the insurer from June.
        let lapsed = inPost[2]
        let policy = try Insurance.policies(connection, person: lapsed["id_number"]!)[0]
        _ = try Insurance.add(connection, person: try ResidentID(lapsed["id_number"]!), insurer: policy["insurer"]!,
                              policy: policy["policy_number"]!, from: day(policy["valid_from"]!), to: day("2026-05-31"), premium: nil)
        note("the insurer ends \(name(lapsed))'s policy on 2026-05-31", "保险公司将 \(name(lapsed)) 的保单终止于 2026-05-31",
             "no new policy is bought", "未续保")

        // Two failed months in a row, and no exit.
        let failing = inPost[1]
        for month in ["2026-04", "2026-05"] {
            _ = try Assessments.record(connection, person: try ResidentID(failing["id_number"]!), month: Month(iso: month)!, result: "fail", absentDays: 0)
        }
        note("\(name(failing)) fails the April and May assessments", "\(name(failing)) 四月、五月考核不合格", "still in post", "仍在岗")

        // Found in the cross-check: a steady job since June.
        let employed = inPost.count > 5 ? inPost[5] : inPost[0]
        _ = try Persons.setStatus(connection, id: try ResidentID(employed["id_number"]!), status: "employed", from: day("2026-06-01"), to: nil)
        note("the cross-check finds \(name(employed)) in steady work from 2026-06-01", "比对发现 \(name(employed)) 自 2026-06-01 已稳定就业",
             "still in post", "仍在岗")

        // A two-month trial agreement in the post left vacant since January, never renewed.
        let vacant = try connection.query("""
            SELECT p.id FROM post p WHERE p.county_code = '320321' AND p.state = 'approved'
              AND NOT EXISTS (SELECT 1 FROM placement pl WHERE pl.post_id = p.id) ORDER BY p.id LIMIT 1
            """).first?["id"]
        let candidate = try connection.query("""
            SELECT p.id_number, p.name FROM person p
            CROSS JOIN LATERAL eligibility_on(p.village_code, '2026-04-01') e
            WHERE p.county_code = '320321' AND p.category = ANY (e.categories) AND p.labour_capacity <> 'none'
              AND age_on(resident_birth_date(p.id_number), '2026-04-01') BETWEEN e.min_age AND e.max_age
              AND NOT EXISTS (SELECT 1 FROM person_status s JOIN person m ON m.id_number = s.id_number
                              WHERE m.county_code = p.county_code AND m.household_id = p.household_id)
              AND NOT EXISTS (SELECT 1 FROM placement pl JOIN person m ON m.id_number = pl.id_number
                              WHERE m.county_code = p.county_code AND m.household_id = p.household_id)
            ORDER BY resident_birth_date(p.id_number) DESC, p.id_number LIMIT 1
            """).first
        if let vacant, let candidate {
            let id = try ResidentID(candidate["id_number"]!)
            if try Insurance.policies(connection, person: id.value).isEmpty {
                _ = try Insurance.add(connection, person: id, insurer: "中国人民财产保险丰县支公司", policy: "PICC-FX-2026-\(id.value.suffix(6))",
                                      from: day("2026-04-01"), to: day("2026-12-31"), premium: Fen(4_500))
            }
            // Recruited openly like the others: an application, five days' notice, then the hire.
            _ = try Applications.apply(connection, post: vacant, person: id, on: day("2026-03-16"))
            _ = try Notices.publish(connection, post: vacant, person: id, from: day("2026-03-20"), days: nil, contact: nil)
            _ = try Placements.hire(connection, post: vacant, person: id, start: day("2026-04-01"), end: day("2026-05-31"), kind: nil)
            note("hire \(name(candidate)) into \(vacant) on a trial agreement to 2026-05-31", "试用聘用 \(name(candidate)) 到 \(vacant)，协议至 2026-05-31",
                 "neither renewed nor exited", "到期后既未续签也未退岗")
        }
        return steps
    }
}
