import Postgres

/// `payroll check` (SPEC §15): the lines of a month the bank will reject or that should not be
/// paid, before anyone approves or sends them. One row per problem of a person-post:
/// - `NO_ACCOUNT`: no account in force (approval is refused: ACCOUNT_MISSING);
/// - `BAD_ACCOUNT`: an account that is not 10 to 30 digits (written by psql or before the rule);
/// - `SHARED_ACCOUNT`: one account receiving for several persons this month;
/// - `DECEASED`: a death recorded on or before the month's last day;
/// - `INELIGIBLE`: an excluded status (village cadre, public employee, employed, pensioner) in
///   force on a day of the month, or a category the county's policy does not admit.
/// Only person-posts the month pays (a net above zero) are checked.
public enum PayrollCheck {
    public static func run(_ connection: Connection, month: Month, region: String?) throws -> [Row] {
        let counties = try Payroll.counties(connection, region: region)
        return try Database.mapped {
            try connection.query("""
                WITH nets AS (
                  SELECT l.county_code, l.id_number, l.post_id, sum(l.total_fen) AS net_fen
                  FROM payroll_line l WHERE l.county_code = ANY ($1::text[]) AND l.month = $2::date
                  GROUP BY 1, 2, 3 HAVING sum(l.total_fen) > 0
                ), lines AS (
                  SELECT n.*, pe.name, person_account_on(n.id_number, current_date) AS account, pe.category
                  FROM nets n JOIN person pe ON pe.id_number = n.id_number
                ), shared AS (
                  SELECT account FROM lines WHERE account IS NOT NULL GROUP BY account HAVING count(DISTINCT id_number) > 1
                ), bounds AS (
                  SELECT $2::date AS first, ($2::date + interval '1 month' - interval '1 day')::date AS last
                ), found AS (
                  SELECT 1 AS o, 'NO_ACCOUNT' AS problem, l.*, NULL::text AS detail FROM lines l WHERE coalesce(l.account, '') = ''
                  UNION ALL
                  SELECT 2, 'BAD_ACCOUNT', l.*, NULL FROM lines l WHERE l.account !~ '^[0-9]{10,30}$'
                  UNION ALL
                  SELECT 3, 'SHARED_ACCOUNT', l.*, (SELECT string_agg(DISTINCT x.name, ',') FROM lines x WHERE x.account = l.account)
                  FROM lines l WHERE l.account IN (SELECT account FROM shared)
                  UNION ALL
                  SELECT 4, 'DECEASED', l.*, min(s.valid_from)::text FROM lines l CROSS JOIN bounds b
                  JOIN person_status s ON s.id_number = l.id_number AND s.status = 'deceased' AND s.valid_from <= b.last
                  GROUP BY l.county_code, l.id_number, l.post_id, l.net_fen, l.name, l.account, l.category
                  UNION ALL
                  SELECT 5, 'INELIGIBLE', l.*, string_agg(s.status || ' ' || s.valid_from, ',' ORDER BY s.valid_from)
                  FROM lines l CROSS JOIN bounds b
                  JOIN person_status s ON s.id_number = l.id_number AND s.status <> 'deceased'
                   AND s.valid_from <= b.last AND (s.valid_to IS NULL OR s.valid_to >= b.first)
                  GROUP BY l.county_code, l.id_number, l.post_id, l.net_fen, l.name, l.account, l.category
                  UNION ALL
                  SELECT 5, 'INELIGIBLE', l.*, 'category ' || l.category FROM lines l CROSS JOIN bounds b
                  CROSS JOIN LATERAL eligibility_on(l.county_code || '000000', b.first) e
                  WHERE NOT l.category = ANY (e.categories)
                )
                SELECT problem, county_code, id_number, name, post_id, account, net_fen, detail FROM found
                ORDER BY county_code, post_id, id_number, o
                """, [counties, month.firstDay.iso])
        }
    }
}
