import Postgres

/// The township administrator's worklist: what falls due within a number of days from today,
/// for people in post — contracts ending (with no next contract signed), accident insurance
/// ending (the end of the unbroken coverage that includes today), and people who age out (the
/// day they become older than the policy's maximum age).
public enum Due {
    public static func list(_ connection: Connection, region: String?, within days: Int, today: Day = .today()) throws -> [Row] {
        guard (0...3660).contains(days) else {
            throw AppError.badInput(Text(en: "--within \(days) is out of range: give 0 to 3660 days", zh: "--within \(days) 超出范围：应为 0 至 3660 天"), code: "BAD_NUMBER")
        }
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH in_post AS (
                  SELECT pl.id, pl.id_number, pe.name, pl.post_id, po.region_code, r.name AS region_name, pl.exit_on
                  FROM placement pl JOIN post po ON po.id = pl.post_id LEFT JOIN person pe ON pe.id_number = pl.id_number
                  JOIN region r ON r.code = po.region_code
                  WHERE po.region_code LIKE $1 || '%' AND pl.start_on <= $3::date AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date)
                ), items AS (
                  SELECT 'contract-ends' AS kind, c.end_on AS due_on, i.* FROM in_post i
                  JOIN LATERAL (SELECT max(end_on) AS end_on FROM contract WHERE placement_id = i.id) c ON true
                  WHERE c.end_on BETWEEN $2::date AND $3::date
                  UNION ALL
                  SELECT 'insurance-ends', upper(cover) - 1, i.* FROM in_post i
                  CROSS JOIN LATERAL unnest(insurance_coverage(i.id_number)) AS cover
                  WHERE cover @> $2::date AND upper(cover) - 1 <= $3::date
                  UNION ALL
                  SELECT 'insurance-ends', $2::date, i.* FROM in_post i
                  WHERE NOT insurance_coverage(i.id_number) @> $2::date
                  UNION ALL
                  SELECT 'ages-out', anniversary(resident_birth_date(i.id_number), extract(year FROM resident_birth_date(i.id_number))::int + e.max_age + 1), i.*
                  FROM in_post i CROSS JOIN LATERAL eligibility_on(i.region_code, $2::date) e
                  WHERE anniversary(resident_birth_date(i.id_number), extract(year FROM resident_birth_date(i.id_number))::int + e.max_age + 1)
                        BETWEEN $2::date AND $3::date
                )
                SELECT kind, due_on::text, id_number, name, post_id, region_code, region_name FROM items
                WHERE exit_on IS NULL OR exit_on >= due_on
                ORDER BY due_on, kind, post_id
                """, [prefix, today.iso, today.adding(days: days).iso])
        }
    }
}
