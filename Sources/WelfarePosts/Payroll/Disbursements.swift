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
        ]
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
                                          stagingColumns: ["id_number", "month", "post_id", "bank_account", "amount_fen", "paid_on", "reference"]) { row in
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
                    guard let id, let rowMonth, let account, let amount, let paidOn, row.problems.isEmpty else { return nil }
                    return [id, rowMonth.firstDay.iso, row.value("post_id"), account, String(amount.value), paidOn.iso, reference]
                }
                try staging.check(connection, """
                    SELECT s.line, 'id_number' AS key FROM disbursement_stage s
                    WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
                    """) { _ in Text(en: "no person with this resident ID is registered", zh: "未登记该身份证号的人员") }
                try staging.check(connection, """
                    SELECT s.line, 'post_id' AS key, s.post_id FROM disbursement_stage s
                    WHERE s.post_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM post p WHERE p.id = s.post_id)
                    """) { Text(en: "there is no post \(TextValue.quoted($0["post_id"] ?? ""))", zh: "没有岗位 \(TextValue.quoted($0["post_id"] ?? ""))") }
                try staging.requireNoProblems()
                // One import of payments at a time: what the check below reads is every payment
                // committed before, and none can be committed beside it until this one ends.
                try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [importLock])
                try refuseRepeats(connection, staging)
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
                        """, [file["id"]])
                }
                return Outcome(rows: staging.rowCount, paidFen: try digest.decode("paid"), bookedFen: booked,
                               mismatches: mismatches, dryRun: dryRun)
            }
        }
    }
}

extension Disbursements {
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
