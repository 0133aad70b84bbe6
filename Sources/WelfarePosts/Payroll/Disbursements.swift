import Postgres

/// What the bank really paid (SPEC §6): bank results of one month (`payroll reconcile`) or
/// history of any month (`disbursement import`). The same rows are never recorded twice: a
/// file whose content was imported before is refused.
public enum Disbursements {
    public static func columns(withMonth: Bool) -> [ImportColumn] {
        [ImportColumn("id_number", "身份证号")] + (withMonth ? [ImportColumn("month", "发放月份")] : []) + [
            ImportColumn("post_id", "岗位编号", required: false), ImportColumn("bank_account", "银行账号"),
            ImportColumn("amount", "金额"), ImportColumn("paid_on", "发放日期"),
        ]
    }

    public struct Outcome: Sendable {
        public let rows: Int
        public let paidFen: Int64
        /// What the month's approved payroll books for the people in the file (reconcile only).
        public let bookedFen: Int64?
        /// People whose payment differs from what is booked for them (reconcile only).
        public let mismatches: Int?
        public let dryRun: Bool
    }

    /// - Parameter month: the month a bank-results file pays; nil for history files, which name
    ///   the month on every row.
    public static func importFile(_ connection: Connection, file: CSVFile, month: Month?, dryRun: Bool,
                                  today: Day = .today()) throws -> Outcome {
        try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns(withMonth: month == nil), connection: connection,
                                          table: "disbursement_stage",
                                          stagingColumns: ["id_number", "month", "post_id", "bank_account", "amount_fen", "paid_on"]) { row in
                    let id = row.residentID(today: today)
                    let rowMonth = month ?? row.month("month", "发放月份")
                    let account = row.required("bank_account", "银行账号")
                    if let account, !BankAccount.isValid(account) { row.problem("bank_account", BankAccount.problem(account)) }
                    var amount: Fen?
                    if let text = row.required("amount", "金额") {
                        amount = Fen(yuan: text)
                        if amount == nil {
                            row.problem("amount", Text(en: "'\(text)' is not an amount in yuan with at most two decimals",
                                                       zh: "“\(text)”不是金额（元，最多两位小数）"))
                        }
                    }
                    let paidOn = row.date("paid_on", "发放日期")
                    guard let id, let rowMonth, let account, let amount, let paidOn, row.problems.isEmpty else { return nil }
                    return [id, rowMonth.firstDay.iso, row.value("post_id"), account, String(amount.value), paidOn.iso]
                }
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM disbursement_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
                    """) { _ in Text(en: "no person with this resident ID is registered", zh: "未登记该身份证号的人员") }
                try staging.check(connection, """
                    SELECT s.line, 'post_id' AS key, s.post_id FROM disbursement_stage s
                    WHERE s.post_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id)
                    """) { Text(en: "there is no post \($0["post_id"] ?? "")", zh: "没有岗位 \($0["post_id"] ?? "")") }
                try staging.requireNoProblems()
                let digest = try connection.query("""
                    SELECT encode(digest(coalesce(string_agg(concat_ws('|', id_number, month, post_id, bank_account, amount_fen, paid_on),
                                                             E'\\n' ORDER BY line), ''), 'sha256'), 'hex') AS sha256,
                           coalesce(sum(amount_fen::bigint), 0) AS paid
                    FROM disbursement_stage
                    """)[0]
                if let earlier = try connection.query("SELECT to_char(imported_at, 'YYYY-MM-DD HH24:MI') AS at FROM disbursement_file WHERE sha256 = $1",
                                                      [digest["sha256"]]).first {
                    throw AppError(.input, code: "ALREADY_IMPORTED", Text(
                        en: "these payments were already recorded on \(earlier["at"] ?? ""): recording them again would count them twice",
                        zh: "这些发放记录已于 \(earlier["at"] ?? "") 导入：重复导入会重复计算"))
                }
                var booked: Int64?, mismatches: Int?
                if let month {
                    // What the month's payroll books for the people paid, beside what they were paid.
                    let compared = try connection.query("""
                        WITH paid AS (SELECT id_number, sum(amount_fen::bigint) AS paid FROM disbursement_stage GROUP BY id_number),
                        booked AS (SELECT l.id_number, sum(l.total_fen) AS booked FROM payroll_line l
                                   JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
                                   WHERE l.month = $1::date AND l.id_number IN (SELECT id_number FROM paid) GROUP BY l.id_number)
                        SELECT coalesce(sum(b.booked), 0) AS booked,
                               count(*) FILTER (WHERE coalesce(b.booked, 0) <> p.paid) AS mismatches
                        FROM paid p LEFT JOIN booked b USING (id_number)
                        """, [month.firstDay.iso])[0]
                    booked = try compared.decode("booked")
                    mismatches = try compared.decode("mismatches")
                }
                if !dryRun {
                    let file = try connection.query("INSERT INTO disbursement_file (sha256, source, rows) VALUES ($1, $2, $3) RETURNING id",
                                                    [digest["sha256"], month == nil ? "history" : "bank-result", staging.rowCount])[0]
                    try connection.command("""
                        INSERT INTO disbursement (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on)
                        SELECT coalesce(po.county_code, pe.county_code), $1, s.line, s.id_number, s.month::date, s.post_id, s.bank_account,
                               s.amount_fen::bigint, s.paid_on::date
                        FROM disbursement_stage s JOIN person pe ON pe.id_number = s.id_number LEFT JOIN post po ON po.id = s.post_id
                        """, [file["id"]])
                }
                return Outcome(rows: staging.rowCount, paidFen: try digest.decode("paid"), bookedFen: booked,
                               mismatches: mismatches, dryRun: dryRun)
            }
        }
    }
}
