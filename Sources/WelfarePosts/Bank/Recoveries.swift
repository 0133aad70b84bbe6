import Postgres

/// 追缴 (SPEC §15): person-posts whose approved month nets below zero, written when the month
/// is approved (sql/0020's trigger); open — in the audit as PAID_NOT_DUE — until settled by a
/// later deduction, a refund, or waived.
public enum Recoveries {
    public static let ways = ["deduction", "refund", "waived"]

    public static func list(_ connection: Connection, region: String?, openOnly: Bool) throws -> [Row] {
        try Database.mapped {
            let prefix = try region.map { try Regions.require(connection, $0).significantPrefix } ?? ""
            return try connection.query("""
                SELECT r.id, r.county_code, to_char(r.month, 'YYYY-MM') AS month, r.id_number, pe.name, r.post_id, po.region_code,
                       r.amount_fen, r.settled_on, r.how, r.note
                FROM recovery r JOIN person pe ON pe.id_number = r.id_number JOIN post po ON po.id = r.post_id
                WHERE po.region_code LIKE $1 || '%' AND ($2::boolean IS FALSE OR r.settled_on IS NULL)
                ORDER BY r.county_code, r.month, r.id
                """, [prefix, openOnly])
        }
    }

    /// Settles an open recovery (exit 1 `RECOVERY_SETTLED` if it is already settled).
    public static func settle(_ connection: Connection, id: Int64, on day: Day, how: String, note: String) throws -> Row {
        guard ways.contains(how) else {
            throw AppError.badInput(Text(en: "--how '\(TextValue.quoted(how))' is not a way of settling: deduction, refund or waived",
                                         zh: "--how“\(TextValue.quoted(how))”无效：应为 deduction（扣回）、refund（退回）或 waived（核销）"), code: "BAD_HOW")
        }
        return try Database.mapped {
            try connection.transaction {
                guard let row = try connection.query("SELECT id, settled_on, to_char(month, 'YYYY-MM') AS month FROM recovery WHERE id = $1", [id]).first else {
                    throw AppError.notFound(Text(en: "there is no recovery \(id) in your region: see `recovery list`",
                                                 zh: "您的区域内没有编号为 \(id) 的追缴记录：参见 `recovery list`"))
                }
                if let settled = row["settled_on"] {
                    throw AppError(.rule, code: "RECOVERY_SETTLED", Text(en: "recovery \(id) was settled on \(settled): it stays as it was",
                                                                         zh: "追缴 \(id) 已于 \(settled) 结清，不能再次登记"))
                }
                return try connection.query("""
                    UPDATE recovery SET settled_on = $2::date, how = $3, note = $4, settled_by = session_user WHERE id = $1
                    RETURNING id, county_code, to_char(month, 'YYYY-MM') AS month, id_number, post_id, amount_fen, settled_on, how, note
                    """, [id, day.iso, how, note])[0]
            }
        }
    }
}
