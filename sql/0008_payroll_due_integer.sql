-- payroll_due (0004) again, the same definition in integer arithmetic: for amounts of zero or
-- more, round_half_up(a × b / c) = (2ab + c) div 2c exactly, and bigint arithmetic is several
-- times faster than numeric over the millions of person-months an audit of a province reads.
CREATE OR REPLACE FUNCTION payroll_due(from_month date, to_month date, county_prefix text DEFAULT '')
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH months AS (
    SELECT m::date AS first, (m + interval '1 month' - interval '1 day')::date AS last,
           extract(day FROM m + interval '1 month' - interval '1 day')::int AS days
    FROM generate_series(from_month, to_month, interval '1 month') m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code LIKE county_prefix || '%' GROUP BY s.id_number
  ), worked AS (
    -- Contracts of one placement never overlap, so their days add up.
    SELECT pl.id AS placement_id, pl.county_code, pl.post_id, pl.id_number, m.first, m.days,
           sum(greatest(0, least(c.end_on, coalesce(pl.exit_on, c.end_on), m.last, coalesce(d.died_on - 1, c.end_on))
                           - greatest(c.start_on, pl.start_on, m.first) + 1))::int AS days_in_post
    FROM placement pl
    JOIN contract c ON c.placement_id = pl.id
    JOIN months m ON c.start_on <= m.last AND c.end_on >= m.first
                 AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
    LEFT JOIN deaths d ON d.id_number = pl.id_number
    WHERE pl.county_code LIKE county_prefix || '%'
    GROUP BY pl.id, m.first, m.days
  ), standards AS (
    -- Standards are set at county level or above: one lookup per county, type and month.
    SELECT k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code LIKE county_prefix || '%') k
    CROSS JOIN months m
    CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, m.first) s
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, sum(w.days_in_post)::int,
         sum(CASE WHEN a.result = 'fail' THEN 0
                  ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END)::bigint,
         sum((2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days))::bigint
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0
  GROUP BY w.county_code, w.first, w.id_number, w.post_id
$$;
