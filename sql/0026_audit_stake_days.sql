-- The money at stake of a finding about people (issue 17): priced without computing what is
-- due where the approved payroll already booked the month.
--
-- audit_stake (sql/0017e) priced each case-month at what the approved payroll booked for it,
-- in the share of the month's days in post that the case covers, and took the days in post
-- from payroll_due: for OVER_AGE_IN_POST over a province (24,416 cases at 300,000 persons) a
-- payroll_due of a quarter of the province for the year, with its standards, assessments and
-- amounts, of which only the days were read. The days in post are now counted directly, as
-- payroll_due_worked counts them (contracts within the placement, up to the day before a
-- death, per county, person, post and month); payroll_due is computed only for the persons
-- whose cases reach a month without an approved payroll (where what is due is the price), and
-- for DECEASED_IN_POST (priced at what was booked beyond what is due). Same amounts, line for
-- line (AuditTests, HistoryTests; bench/audit.sh's report byte for byte).
CREATE OR REPLACE FUNCTION audit_stake(cases jsonb, after_death boolean)
RETURNS TABLE (id_number text, post_id text, from_on date, to_on date, amount_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp SET enable_nestloop = off SET enable_mergejoin = off
SET enable_sort = off SET work_mem = '256MB' SET jit = off AS $$
#variable_conflict use_column
DECLARE
  first_month date;
  last_month date;
  ids text[];
  priced_ids text[];
  county text := audit_county();
BEGIN
  IF cases IS NULL OR jsonb_array_length(cases) = 0 THEN
    RETURN;
  END IF;
  SELECT min(date_trunc('month', c.from_on))::date, max(date_trunc('month', c.to_on))::date, array_agg(DISTINCT c.id_number)
    INTO first_month, last_month, ids
  FROM jsonb_to_recordset(cases) AS c(id_number text, post_id text, from_on date, to_on date);
  -- The persons for whom what is due is needed: all of them after a death; otherwise those
  -- with a case-month that some county of the post's placements has not approved (more than
  -- needed where the post moved county, never fewer).
  IF after_death THEN
    priced_ids := ids;
  ELSE
    SELECT coalesce(array_agg(DISTINCT c.id_number), '{}') INTO priced_ids
    FROM jsonb_to_recordset(cases) AS c(id_number text, post_id text, from_on date, to_on date)
    JOIN placement pl ON pl.id_number = c.id_number AND pl.post_id = c.post_id
    CROSS JOIN generate_series(date_trunc('month', c.from_on), date_trunc('month', c.to_on), interval '1 month') m
    WHERE NOT EXISTS (SELECT 1 FROM payroll_run r WHERE r.county_code = pl.county_code AND r.month = m::date AND r.state = 'approved');
  END IF;
  RETURN QUERY
  WITH c AS (
    SELECT DISTINCT x.id_number, x.post_id, x.from_on, x.to_on
    FROM jsonb_to_recordset(cases) AS x(id_number text, post_id text, from_on date, to_on date)
  ), months AS (
    SELECT m.first, m.last, m.days FROM payroll_months(first_month, last_month) m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county AND s.id_number = ANY (ids)
    GROUP BY s.id_number
  ), days AS (
    -- payroll_due's days in post (payroll_due_worked, sql/0024), without the amounts.
    SELECT pl.county_code, pl.id_number, pl.post_id, m.first AS month,
           sum(greatest(0, least(ct.end_on, coalesce(pl.exit_on, ct.end_on), m.last, coalesce(dd.died_on - 1, ct.end_on))
                           - greatest(ct.start_on, pl.start_on, m.first) + 1))::int AS days_in_post
    FROM placement pl
    JOIN contract ct ON ct.placement_id = pl.id
    JOIN months m ON ct.start_on <= m.last AND ct.end_on >= m.first
                 AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
    LEFT JOIN deaths dd ON dd.id_number = pl.id_number
    WHERE pl.county_code ^@ county AND pl.id_number = ANY (ids) AND NOT pl.id_number = ANY (priced_ids)
    GROUP BY pl.county_code, pl.id_number, pl.post_id, m.first
  ), due AS (
    SELECT d.id_number, d.post_id, d.month, d.days_in_post, d.post_subsidy_fen + d.social_insurance_fen AS due_fen
    FROM payroll_due(first_month, last_month, county, priced_ids) d
    UNION ALL
    -- Every case-month of these persons has an approved payroll: what is due is never read.
    SELECT w.id_number, w.post_id, w.month, w.days_in_post, NULL::bigint FROM days w WHERE w.days_in_post > 0
  ), booked AS (
    SELECT l.id_number, l.post_id, l.for_month AS month, sum(l.total_fen)::bigint AS total
    FROM payroll_line l JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
    WHERE l.id_number = ANY (ids) AND l.for_month BETWEEN first_month AND last_month
    GROUP BY l.id_number, l.post_id, l.for_month
  ), worked AS (
    -- The days under contract in each of the persons' placements, post by post.
    SELECT pl.id_number, pl.post_id, min(pl.county_code) AS county_code,
           range_agg(daterange(greatest(ct.start_on, pl.start_on), least(ct.end_on, coalesce(pl.exit_on, ct.end_on)), '[]')) AS days
    FROM placement pl JOIN contract ct ON ct.placement_id = pl.id
    WHERE pl.id_number = ANY (ids) AND greatest(ct.start_on, pl.start_on) <= least(ct.end_on, coalesce(pl.exit_on, ct.end_on))
    GROUP BY pl.id_number, pl.post_id
  ), months_of_cases AS (
    SELECT c.id_number, c.post_id, c.from_on, c.to_on, w.county_code, m::date AS month,
           (SELECT coalesce(sum(upper(r) - lower(r)), 0)::int
            FROM unnest(w.days * datemultirange(daterange(greatest(c.from_on, m::date),
                                                          least(c.to_on, (m + interval '1 month' - interval '1 day')::date), '[]'))) r) AS case_days
    FROM c JOIN worked w ON w.id_number = c.id_number AND w.post_id = c.post_id
    CROSS JOIN generate_series(date_trunc('month', c.from_on), date_trunc('month', c.to_on), interval '1 month') m
  ), priced AS (
    SELECT m.id_number, m.post_id, m.from_on, m.to_on,
           CASE WHEN after_death THEN
                  -- Due now stops the day before death: what approved months booked beyond it.
                  CASE WHEN r.month IS NOT NULL THEN greatest(0, coalesce(b.total, 0) - coalesce(d.due_fen, 0)) ELSE 0 END
                WHEN coalesce(d.days_in_post, 0) = 0 THEN 0
                ELSE round(CASE WHEN r.month IS NOT NULL THEN coalesce(b.total, 0) ELSE d.due_fen END
                           * least(m.case_days, d.days_in_post)::numeric / d.days_in_post)::bigint END AS fen
    FROM months_of_cases m
    LEFT JOIN payroll_run r ON r.county_code = m.county_code AND r.month = m.month AND r.state = 'approved'
    LEFT JOIN booked b ON b.id_number = m.id_number AND b.post_id = m.post_id AND b.month = m.month
    LEFT JOIN due d ON d.id_number = m.id_number AND d.post_id = m.post_id AND d.month = m.month
  )
  SELECT p.id_number, p.post_id, p.from_on, p.to_on, sum(p.fen)::bigint FROM priced p
  GROUP BY p.id_number, p.post_id, p.from_on, p.to_on;
END $$;
