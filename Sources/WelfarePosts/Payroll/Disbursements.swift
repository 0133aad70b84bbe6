import Postgres

/// What the bank really paid (SPEC §6): bank results of one month (`payroll reconcile`) or
/// history of any month (`disbursement import`).
///
/// A payment is recorded once (SPEC §10): a row is refused as `ALREADY_IMPORTED` when its
/// `reference` (the bank's serial number) was recorded before in the county, or, where either
/// of the two has no reference, when person, month, post, account, amount and date were —
/// in any earlier file or earlier in the same file, in whatever order or subset. Imports of
/// payments run one at a time (a transaction-level advisory lock), so the check sees every
/// payment committed before; the unique indexes of sql/0015 keep the rule against any other
/// writer.
public enum Disbursements {
    public static func columns(withMonth: Bool) -> [ImportColumn] {
        [ImportColumn("id_number", "身份证号")] + (withMonth ? [ImportColumn("month", "发放月份")] : []) + [
            ImportColumn("post_id", "岗位编号", required: false), ImportColumn("bank_account", "银行账号"),
            .amount("amount", "金额"), ImportColumn("paid_on", "发放日期"),
            ImportColumn("reference", "交易流水号", required: false),
            ImportColumn("status", "状态", required: false), ImportColumn("failure_reason", "失败原因", required: false, kind: .freeText),
        ]
    }

    /// A bank result's status (SPEC §10): `paid` 成功 (the default) or `failed` 失败.
    static func status(_ text: String) -> String? {
        switch text.lowercased() {
        case "paid", "成功", "success", "succeeded": "paid"
        case "failed", "失败", "failure", "fail": "failed"
        default: nil
        }
    }

    /// The lock every import of payments holds until it commits (any role may take it).
    static let importLock: Int64 = 0x7770_6469_7362  // "wpdisb"

    /// A bank's serial number: letters and digits, then also `_ . / : -`, at most 64 characters.
    public static func isReference(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, (1...64).contains(bytes.count), isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2F || $0 == 0x3A || $0 == 0x2D }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    public struct Outcome: Sendable {
        public let rows: Int
        public let paidFen: Int64
        /// What the month's approved payroll books for the people in the file (reconcile only).
        public let bookedFen: Int64?
        /// People whose payment differs from what is booked for them (reconcile only).
        public let mismatches: Int?
        public let dryRun: Bool
        /// Bank results (reconcile only): transfers that failed, and approved lines of the month
        /// with neither a payment nor a failure recorded, with their sums.
        public var failed = 0
        public var failedFen: Int64 = 0
        public var missing: Int?
        public var missingFen: Int64?
    }

    /// Staged rows with their county and the key columns typed. `s` is the staging table.
    static let typed = """
        SELECT s.line, s.id_number, s.month::date AS month, s.post_id, s.bank_account, s.amount_fen::bigint AS amount_fen,
               s.paid_on::date AS paid_on, s.reference, coalesce(po.county_code, pe.county_code) AS county_code
        FROM disbursement_stage s LEFT JOIN person pe ON pe.id_number = s.id_number LEFT JOIN post po ON po.id = s.post_id
        """

    /// Every staged row that repeats a payment: earlier in the file (`earlier_line`), or recorded
    /// from an earlier file (its name, time and line). One statement: window functions over the
    /// file, and an index lookup per row into what is recorded (sql/0015's unique indexes).
    static let repeats = """
        WITH s AS (\(typed)),
        within AS (
          SELECT line, reference,
                 CASE WHEN reference IS NOT NULL THEN min(line) OVER (PARTITION BY reference) END AS first_ref,
                 min(line) OVER six AS first_same,
                 min(line) FILTER (WHERE reference IS NULL) OVER six AS first_unreferenced
          FROM s WINDOW six AS (PARTITION BY id_number, month, post_id, bank_account, amount_fen, paid_on)
        ), in_file AS (
          SELECT line, CASE WHEN first_ref < line THEN 'reference' ELSE 'id_number' END AS key,
                 CASE WHEN first_ref < line THEN first_ref
                      WHEN reference IS NULL AND first_same < line THEN first_same
                      ELSE first_unreferenced END AS earlier_line
          FROM within
          WHERE first_ref < line OR (reference IS NULL AND first_same < line) OR first_unreferenced < line
        ), recorded AS (
          SELECT s.line, r.key, r.file_line, f.name AS file_name, to_char(f.imported_at, 'YYYY-MM-DD HH24:MI') AS imported_at
          FROM s CROSS JOIN LATERAL (
            SELECT * FROM (
              SELECT 'reference' AS key, d.file_id, d.line AS file_line, d.id FROM disbursement d
              WHERE s.reference IS NOT NULL AND d.county_code = s.county_code AND d.reference = s.reference
                AND NOT d.legacy_duplicate
              UNION ALL
              SELECT 'id_number', d.file_id, d.line, d.id FROM disbursement d
              WHERE d.id_number = s.id_number AND d.month = s.month AND d.post_id IS NOT DISTINCT FROM s.post_id
                AND d.bank_account = s.bank_account AND d.amount_fen = s.amount_fen AND d.paid_on = s.paid_on
                AND (s.reference IS NULL OR d.reference IS NULL OR d.reference = s.reference) AND NOT d.legacy_duplicate
            ) m ORDER BY key DESC, id LIMIT 1) r
          JOIN disbursement_file f ON f.id = r.file_id
        )
        SELECT line, key, earlier_line, NULL AS file_line, NULL AS file_name, NULL AS imported_at FROM in_file
        UNION ALL
        SELECT line, key, NULL, file_line, file_name, imported_at FROM recorded WHERE line NOT IN (SELECT line FROM in_file)
        ORDER BY line
        """

    /// - Parameter month: the month a bank-results file pays; nil for history files, which name
    ///   the month on every row.
    public static func importFile(_ connection: Connection, file: CSVFile, month: Month?, dryRun: Bool,
                                  today: Day = .today()) throws -> Outcome {
        try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns(withMonth: month == nil), connection: connection,
                                          table: "disbursement_stage",
                                          stagingColumns: ["id_number", "month", "post_id", "bank_account", "amount_fen", "paid_on", "reference",
                                                           "status", "failure_reason"]) { row in
                    let id = row.residentID(today: today)
                    let rowMonth = month ?? row.month("month", "发放月份")
                    let account = row.required("bank_account", "银行账号")
                    if let account, !BankAccount.isValid(account) { row.problem("bank_account", BankAccount.problem(account)) }
                    let amount = row.amount("amount", "金额")
                    let paidOn = row.date("paid_on", "发放日期")
                    let reference = row.value("reference")
                    if let reference, !isReference(reference) {
                        row.problem("reference", Text(
                            en: "'\(TextValue.quoted(reference))' is not a bank reference: letters and digits (also _ . / : - after the first), at most 64",
                            zh: "“\(TextValue.quoted(reference))”不是交易流水号：应为字母和数字（首位之后也可有 _ . / : -），最多64个字符"))
                    }
                    var status = "paid"
                    if let text = row.value("status") {
                        if let known = Disbursements.status(text) {
                            status = known
                        } else {
                            row.problem("status", Text(en: "'\(TextValue.quoted(text))' is not a bank result's status: paid (成功) or failed (失败)",
                                                       zh: "“\(TextValue.quoted(text))”不是银行回单的状态：应为 成功（paid）或 失败（failed）"))
                        }
                    }
                    guard let id, let rowMonth, let account, let amount, let paidOn, row.problems.isEmpty else { return nil }
                    return [id, rowMonth.firstDay.iso, row.value("post_id"), account, String(amount.value), paidOn.iso, reference,
                            status, row.value("failure_reason")]
                }
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM disbursement_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
                    """) { _ in Text(en: "no person with this resident ID is registered", zh: "未登记该身份证号的人员") }
                try staging.check(connection, """
                    SELECT s.line, 'post_id' AS key, s.post_id FROM disbursement_stage s
                    WHERE s.post_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id)
                    """) { Text(en: "there is no post \(TextValue.quoted($0["post_id"] ?? ""))", zh: "没有岗位 \(TextValue.quoted($0["post_id"] ?? ""))") }
                if month != nil {
                    // A bank result pays a line of the month's approved payroll, to the fen: the
                    // person-post's net (or, without a post, one of the person's). Months paid
                    // before the county's payroll was in the system have no lines to match.
                    try staging.check(connection, """
                        SELECT s.line, 'amount' AS key, s.amount_fen, n.nets FROM disbursement_stage s
                        LEFT JOIN LATERAL (
                          SELECT string_agg(yuan_text(x.net), ', ' ORDER BY x.post_id) AS nets, bool_or(x.net = s.amount_fen::bigint) AS ok
                          FROM (SELECT l.post_id, sum(l.total_fen) AS net FROM payroll_line l
                                JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
                                WHERE l.month = s.month::date AND l.id_number = s.id_number AND (s.post_id IS NULL OR l.post_id = s.post_id)
                                GROUP BY l.post_id) x) n ON true
                        WHERE NOT coalesce(n.ok, false)
                          AND EXISTS (SELECT 1 FROM person p JOIN payroll_run r ON r.county_code = p.county_code AND r.month = s.month::date
                                      AND r.state = 'approved' WHERE p.id_number = s.id_number)
                        """) { row in
                        let amount = Fen(Int64(row["amount_fen"] ?? "0") ?? 0).yuanText
                        if let nets = row["nets"] {
                            return Text(en: "the amount \(amount) does not match this person's line of the month's approved payroll (\(nets)): is it another person's row?",
                                        zh: "金额 \(amount) 与该人员本月已审核工资表的明细（\(nets)）不符：是否是他人的行？")
                        }
                        return Text(en: "the amount \(amount) matches no line: this person has no line in the month's approved payroll",
                                    zh: "金额 \(amount) 没有对应的明细：该人员不在本月已审核的工资表中")
                    }
                }
                try staging.requireNoProblems()
                // One import of payments at a time: what the check below reads is every payment
                // committed before, and none can be committed beside it until this one ends.
                try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [importLock])
                try refuseRepeats(connection, staging)
                try refuseRepeatedFailures(connection, staging)
                let digest = try connection.query("""
                    SELECT encode(digest(coalesce(string_agg(concat_ws('|', id_number, month, post_id, bank_account, amount_fen, paid_on, reference),
                                                             E'\\n' ORDER BY line), ''), 'sha256'), 'hex') AS sha256,
                           coalesce(sum(amount_fen::bigint), 0) AS paid
                    FROM disbursement_stage
                    """)[0]
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
                let results = try connection.query("""
                    SELECT count(*) FILTER (WHERE status = 'failed') AS failed, coalesce(sum(amount_fen::bigint) FILTER (WHERE status = 'failed'), 0) AS failed_fen,
                           coalesce(sum(amount_fen::bigint) FILTER (WHERE status = 'paid'), 0) AS paid_fen
                    FROM disbursement_stage
                    """)[0]
                var missing: Int?, missingFen: Int64?
                if let month {
                    // Approved person-posts of the file's counties paid by neither this file nor before.
                    let row = try connection.query("""
                        WITH counties AS (SELECT DISTINCT pe.county_code FROM disbursement_stage s JOIN person pe ON pe.id_number = s.id_number),
                        nets AS (
                          SELECT l.county_code, l.id_number, l.post_id, sum(l.total_fen) AS net FROM payroll_line l
                          JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
                          WHERE l.month = $1::date AND l.county_code IN (SELECT county_code FROM counties)
                          GROUP BY 1, 2, 3 HAVING sum(l.total_fen) > 0)
                        SELECT count(*) AS n, coalesce(sum(net), 0) AS fen FROM nets n
                        WHERE NOT EXISTS (SELECT 1 FROM disbursement_stage s WHERE s.id_number = n.id_number AND (s.post_id IS NULL OR s.post_id = n.post_id))
                          AND NOT EXISTS (SELECT 1 FROM disbursement d WHERE d.id_number = n.id_number AND d.month = $1::date
                                          AND (d.post_id IS NULL OR d.post_id = n.post_id))
                          AND NOT EXISTS (SELECT 1 FROM bank_failure f WHERE f.id_number = n.id_number AND f.month = $1::date
                                          AND (f.post_id IS NULL OR f.post_id = n.post_id))
                        """, [month.firstDay.iso])[0]
                    missing = try row.decode("n")
                    missingFen = try row.decode("fen")
                }
                if !dryRun {
                    let file = try connection.query("""
                        INSERT INTO disbursement_file (sha256, source, rows, name) VALUES ($1, $2, $3, $4) RETURNING id
                        """, [digest["sha256"], month == nil ? "history" : "bank-result", staging.rowCount,
                              file.name.isEmpty ? nil : String(file.name.unicodeScalars.prefix(255).map(Character.init))])[0]
                    try connection.command("""
                        INSERT INTO disbursement (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on, reference)
                        SELECT coalesce(po.county_code, pe.county_code), $1, s.line, s.id_number, s.month::date, s.post_id, s.bank_account,
                               s.amount_fen::bigint, s.paid_on::date, s.reference
                        FROM disbursement_stage s JOIN person pe ON pe.id_number = s.id_number LEFT JOIN post po ON po.id = s.post_id
                        WHERE s.status = 'paid'
                        """, [file["id"]])
                    // A failed transfer is recorded as a failure, never as a payment (SPEC §15).
                    try connection.command("""
                        INSERT INTO bank_failure (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, failed_on,
                                                  failure_reason, reference)
                        SELECT coalesce(po.county_code, pe.county_code), $1, s.line, s.id_number, s.month::date, s.post_id, s.bank_account,
                               s.amount_fen::bigint, s.paid_on::date, s.failure_reason, s.reference
                        FROM disbursement_stage s JOIN person pe ON pe.id_number = s.id_number LEFT JOIN post po ON po.id = s.post_id
                        WHERE s.status = 'failed'
                        """, [file["id"]])
                }
                let failed: Int = try results.decode("failed")
                var outcome = Outcome(rows: staging.rowCount - failed, paidFen: try results.decode("paid_fen"), bookedFen: booked,
                                      mismatches: mismatches, dryRun: dryRun)
                outcome.failed = failed
                outcome.failedFen = try results.decode("failed_fen")
                outcome.missing = missing
                outcome.missingFen = missingFen
                return outcome
            }
        }
    }
}

extension Disbursements {
    /// Refuses the file (`ALREADY_IMPORTED`, exit 2) when a row repeats a failure recorded
    /// before: the same bank reference in the county, or the same person, month, post,
    /// account, amount and date (a failure recorded twice would be resubmitted twice).
    static func refuseRepeatedFailures(_ connection: Connection, _ staging: Staging) throws {
        let rows = try connection.query("""
            WITH s AS (\(typed))
            SELECT s.line, CASE WHEN s.reference IS NOT NULL AND f.reference = s.reference THEN 'reference' ELSE 'id_number' END AS key,
                   f.line AS file_line, df.name AS file_name
            FROM s JOIN bank_failure f ON f.county_code = s.county_code
             AND ((s.reference IS NOT NULL AND f.reference = s.reference)
                  OR (f.id_number = s.id_number AND f.month = s.month AND f.post_id IS NOT DISTINCT FROM s.post_id
                      AND f.bank_account = s.bank_account AND f.amount_fen = s.amount_fen AND f.failed_on = s.paid_on
                      AND (s.reference IS NULL OR f.reference IS NULL OR f.reference = s.reference)))
            JOIN disbursement_file df ON df.id = f.file_id
            ORDER BY s.line
            """)
        guard !rows.isEmpty else { return }
        let problems = rows.map { row -> FileProblem in
            let index = staging.header.position[row["key"] ?? "id_number"] ?? staging.header.position["id_number"]
            let name = row["file_name"].map { TextValue.quoted($0, limit: 80) } ?? "?"
            return FileProblem(line: Int(row["line"] ?? "") ?? 0, column: index.map { $0 + 1 }, header: index.map { staging.header.headers[$0] },
                               problem: Text(en: "this transfer was already recorded as failed from file \(name), line \(row["file_line"] ?? "?")",
                                             zh: "该笔转账已作为失败记录从文件 \(name) 第 \(row["file_line"] ?? "?") 行导入"))
        }
        throw AppError(.input, code: "ALREADY_IMPORTED", Text(
            en: "\(Set(problems.map(\.line)).count) row(s) of the file repeat failures recorded before; nothing was imported:",
            zh: "文件中有 \(Set(problems.map(\.line)).count) 行与此前登记的失败记录重复，未导入任何数据："), problems: problems)
    }

    /// Refuses the file (`ALREADY_IMPORTED`, exit 2) when a row repeats a payment, listing each.
    static func refuseRepeats(_ connection: Connection, _ staging: Staging) throws {
        let rows = try connection.query(repeats)
        guard !rows.isEmpty else { return }
        let problems = rows.map { row -> FileProblem in
            let key = row["key"] ?? "id_number"
            let index = staging.header.position[key] ?? staging.header.position["id_number"]
            let by: Text = key == "reference"
                ? Text(en: "the same bank reference", zh: "相同的交易流水号")
                : Text(en: "the same person, month, post, account, amount and date", zh: "相同的人员、月份、岗位、账号、金额和日期")
            let text: Text
            if let earlier = row["earlier_line"] {
                text = Text(en: "this payment (\(by.en)) is already on line \(earlier) of this file",
                            zh: "该笔发放（\(by.zh)）已在本文件第 \(earlier) 行出现")
            } else {
                let name = row["file_name"].map { TextValue.quoted($0, limit: 80) }
                let at = row["imported_at"] ?? ""
                let line = row["file_line"] ?? "?"
                text = Text(en: "this payment (\(by.en)) was already recorded from \(name.map { "file \($0)" } ?? "an earlier file"), line \(line), imported \(at)",
                            zh: "该笔发放（\(by.zh)）已于 \(at) 从\(name.map { "文件 \($0) " } ?? "此前的文件")第 \(line) 行导入")
            }
            return FileProblem(line: Int(row["line"] ?? "") ?? 0, column: index.map { $0 + 1 },
                               header: index.map { staging.header.headers[$0] }, problem: text)
        }
        let lines = Set(problems.map(\.line)).count
        throw AppError(.input, code: "ALREADY_IMPORTED", Text(
            en: "\(lines) payment(s) of the file were already recorded; nothing was imported: recording them again would count them twice. Remove those rows (or import only the new payments):",
            zh: "文件中有 \(lines) 笔发放已经导入，未导入任何数据：重复导入会重复计算。请删除这些行（或只导入新的发放记录）："), problems: problems)
    }
}
