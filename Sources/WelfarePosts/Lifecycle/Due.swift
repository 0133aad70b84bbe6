import Postgres

/// The township administrator's worklist (SPEC §9): for people in post today, what is overdue
/// and what falls due within a number of days — contracts ending (the last contract signed; one
/// that has ended while the person is still in post is overdue), accident insurance ending (the
/// end of the unbroken cover that includes today; cover that has lapsed is overdue, with its
/// real end date), and people who age out (the day they become older than the policy's maximum
/// age; past for someone already over it). A hire that has not started yet is due for nothing.
public enum Due {
    public struct Item: Sendable {
        public let kind: String
        public let dueOn: Day
        public let overdue: Bool
        public let idNumber: String
        public let name: String?
        public let postID: String
        public let regionCode: String
        public let regionName: String
    }

    public static func list(_ connection: Connection, region: String?, within days: Int, today: Day = .today()) throws -> [Item] {
        guard (0...3660).contains(days) else {
            throw AppError.badInput(Text(en: "--within \(days) is out of range: give 0 to 3660 days", zh: "--within \(days) 超出范围：应为 0 至 3660 天"), code: "BAD_NUMBER")
        }
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH in_post AS (
                  SELECT pl.id, pl.id_number, pe.name, pl.post_id, po.region_code, coalesce(r.name, r.code) AS region_name, pl.start_on, pl.exit_on,
                         insurance_coverage(pl.id_number) AS cover
                  FROM placement pl JOIN post po ON po.id = pl.post_id LEFT JOIN person pe ON pe.id_number = pl.id_number
                  JOIN region r ON r.code = po.region_code
                  WHERE po.region_code LIKE $1 || '%' AND pl.start_on <= $2::date AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date)
                ), items AS (
                  SELECT 'contract-ends' AS kind, c.end_on AS due_on, i.* FROM in_post i
                  JOIN LATERAL (SELECT max(end_on) AS end_on FROM contract WHERE placement_id = i.id) c ON true
                  WHERE c.end_on <= $3::date
                  UNION ALL
                  SELECT 'insurance-ends', upper(c) - 1, i.* FROM in_post i CROSS JOIN LATERAL unnest(i.cover) c
                  WHERE c @> $2::date AND upper(c) - 1 <= $3::date
                  UNION ALL
                  -- Not covered today: the last day the cover held, or the first day in post if it never did.
                  SELECT 'insurance-ends', coalesce((SELECT max(upper(c)) - 1 FROM unnest(i.cover) c WHERE upper(c) <= $2::date), i.start_on), i.*
                  FROM in_post i WHERE NOT i.cover @> $2::date
                  UNION ALL
                  SELECT 'ages-out', anniversary(resident_birth_date(i.id_number), extract(year FROM resident_birth_date(i.id_number))::int + e.max_age + 1), i.*
                  FROM in_post i CROSS JOIN LATERAL eligibility_on(i.region_code, $2::date) e
                  WHERE anniversary(resident_birth_date(i.id_number), extract(year FROM resident_birth_date(i.id_number))::int + e.max_age + 1) <= $3::date
                )
                SELECT kind, due_on, due_on < $2::date AS overdue, id_number, name, post_id, region_code, region_name FROM items
                WHERE exit_on IS NULL OR exit_on >= due_on
                ORDER BY due_on, kind, post_id
                """, [prefix, today, today.adding(days: days)]).map { row in
                Item(kind: try row.decode("kind"), dueOn: try row.decode("due_on"), overdue: try row.decode("overdue"),
                     idNumber: try row.decode("id_number"), name: try row.decodeIfPresent("name"), postID: try row.decode("post_id"),
                     regionCode: try row.decode("region_code"), regionName: try row.decode("region_name"))
            }
        }
    }
}
