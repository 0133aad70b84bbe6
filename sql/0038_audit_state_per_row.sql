-- The audit's state half without work done for every row that need be done once (issue 17:
-- `audit violations` within 1.5x of payroll_due; the state half had become the longer one).
-- Same cases and amounts, line for line (bench/audit.sh AUDIT_BEFORE=; AuditTests,
-- HistoryTests, EvidenceTests, AccessTests).

-- Small SQL functions that run for every row of a report or a policy (township_of and
-- village_of on every case, anniversary on every placement for OVER_AGE_IN_POST, region_prefix
-- in the row-level security of the policy tables) were declared STRICT, and PostgreSQL inlines
-- a STRICT SQL function only when its body is made of strict parts alone: a CASE, as each of
-- these has, is not. Each then ran as a query of its own on every call (114,240 calls of
-- anniversary in one OVER_AGE_IN_POST over 300,000 persons). Declared without STRICT they are
-- inlined into the query that calls them. Each still gives NULL for a NULL argument, as STRICT
-- made it (region_level says so itself; the others get NULL from the functions they call):
-- AuditTests.smallFunctionsAreInlinedAndStillNullOnNull checks both.
CREATE OR REPLACE FUNCTION region_level(code text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN code IS NULL THEN NULL
              WHEN substr(code, 10, 3) <> '000' THEN 5
              WHEN substr(code, 7, 3) <> '000' THEN 4
              WHEN substr(code, 5, 2) <> '00' THEN 3
              WHEN substr(code, 3, 2) <> '00' THEN 2
              ELSE 1 END;
END;
CREATE OR REPLACE FUNCTION is_policy_region(code text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT region_level(code) <= 3;
END;
CREATE OR REPLACE FUNCTION region_prefix(code text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT left(code, CASE region_level(code) WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 6 WHEN 4 THEN 9 ELSE 12 END);
END;
CREATE OR REPLACE FUNCTION township_of(code text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN region_level(code) >= 4 THEN rpad(left(code, 9), 12, '0') END;
END;
CREATE OR REPLACE FUNCTION village_of(code text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN region_level(code) = 5 THEN code END;
END;
CREATE OR REPLACE FUNCTION mask_account(account text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN length(account) <= 8 THEN repeat('*', length(account))
              ELSE left(account, 4) || repeat('*', length(account) - 8) || right(account, 4) END;
END;
CREATE OR REPLACE FUNCTION anniversary(d date, in_year int) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN extract(month FROM d) = 2 AND extract(day FROM d) = 29
                   AND NOT (in_year % 4 = 0 AND (in_year % 100 <> 0 OR in_year % 400 = 0))
              THEN make_date(in_year, 3, 1)
              ELSE make_date(in_year, extract(month FROM d)::int, extract(day FROM d)::int) END;
END;
CREATE OR REPLACE FUNCTION next_anniversary(d date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT anniversary(d, extract(year FROM d)::int + 1);
END;
CREATE OR REPLACE FUNCTION age_on(birth date, day date) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT extract(year FROM day)::int - extract(year FROM birth)::int
         - CASE WHEN anniversary(birth, extract(year FROM day)::int) > day THEN 1 ELSE 0 END;
END;

-- audit_placement (sql/0017e) again, with the as-of date a value: the planner put
-- audit_as_of()'s expression (a setting read and parsed as a date) in every place the view
-- uses the day, so each row of every state rule parsed it several times.
CREATE OR REPLACE VIEW audit_placement WITH (security_invoker = true) AS
  SELECT pl.id, pl.county_code, pl.post_id, pl.id_number, pl.start_on, pl.exit_on, pl.exit_reason,
         least(coalesce(pl.exit_on, a.day), a.day) AS last_on, a.day AS as_of,
         po.region_code, pe.household_id, pe.category, pe.name,
         d.died_on, pe.facts_from, pe.county_code AS person_county
  FROM placement pl
  CROSS JOIN (SELECT audit_as_of() AS day OFFSET 0) a
  JOIN post po ON po.id = pl.post_id
  JOIN person pe ON pe.id_number = pl.id_number
  LEFT JOIN (SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s WHERE s.status = 'deceased' GROUP BY s.id_number) d
    ON d.id_number = pl.id_number AND d.died_on <= a.day
  WHERE pl.start_on <= a.day;

-- OVER_AGE_IN_POST (sql/0017e) again: the birth date and year are values before
-- anniversary() sees them, which is then inlined (an argument that is an expression used more
-- than once in its body keeps a function from being inlined).
CREATE OR REPLACE VIEW audit_over_age_in_post WITH (security_invoker = true) AS
  WITH born AS (
    -- The birth date and year as values (OFFSET 0 keeps them so): anniversary() is inlined only
    -- for a plain argument, and otherwise runs as a function call of its own for every row.
    SELECT p.county_code, p.region_code, p.id_number, p.post_id, p.id, p.start_on, p.last_on, p.died_on,
           resident_birth_date(p.id_number) AS born_on, extract(year FROM resident_birth_date(p.id_number))::int AS born_in
    FROM audit_placement p
    OFFSET 0
  ), over AS (
    -- Each policy period's maximum age: older from the anniversary of max_age + 1 on.
    SELECT p.county_code, p.region_code, p.id_number, p.post_id, p.id, c.max_age,
           greatest(p.start_on, anniversary(p.born_on, p.born_in + c.max_age + 1), lower(c.valid)) AS from_on,
           least(p.last_on, upper(c.valid) - 1, coalesce(p.died_on - 1, p.last_on)) AS to_on
    FROM born p
    JOIN audit_county_policy_period c ON c.county_code = p.county_code AND c.valid && daterange(p.start_on, p.last_on, '[]')
  ), cases AS (
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.max_age, lower(r) AS from_on, upper(r) - 1 AS to_on
    FROM (SELECT o.county_code, o.region_code, o.id_number, o.post_id, o.id, o.max_age, range_agg(daterange(o.from_on, o.to_on, '[]')) AS days
          FROM over o WHERE o.from_on <= o.to_on GROUP BY 1, 2, 3, 4, 5, 6) g
    CROSS JOIN LATERAL unnest(g.days) r
  ), stakes AS (
    SELECT s.* FROM audit_stake((SELECT jsonb_agg(jsonb_build_object('id_number', c.id_number, 'post_id', c.post_id,
                                                                      'from_on', c.from_on, 'to_on', c.to_on)) FROM cases c), false) s
  )
  SELECT 'OVER_AGE_IN_POST'::text AS rule, c.county_code, township_of(c.region_code) AS township_code,
         village_of(c.region_code) AS village_code, c.region_code, c.id_number, c.post_id,
         c.from_on, c.to_on, NULL::date AS month, coalesce(s.amount_fen, 0) AS amount_fen,
         format('older than the maximum age %s from %s: record the exit (reason over-age)', c.max_age, c.from_on) AS explanation,
         format('%s 起超过最高年龄 %s 岁：请办理退岗（超龄）', c.from_on, c.max_age) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'OVER_AGE_IN_POST') AS basis
  FROM cases c
  LEFT JOIN stakes s ON s.id_number = c.id_number AND s.post_id = c.post_id AND s.from_on = c.from_on AND s.to_on = c.to_on;


-- audit_stake (sql/0026, 0036) again: the days in post and what was booked are read only for
-- the persons' posts and months that some case covers (every month of the report before: at
-- 300,000 persons, 282,072 person-months for OVER_AGE_IN_POST's 155,792 case-months).
CREATE OR REPLACE FUNCTION audit_stake(cases jsonb, after_death boolean)
RETURNS TABLE (id_number text, post_id text, from_on date, to_on date, amount_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp SET enable_nestloop = off SET enable_mergejoin = off
SET enable_sort = off SET work_mem = '256MB' SET jit = off SET plan_cache_mode = force_custom_plan AS $$
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
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county AND s.id_number = ANY (ids)
    GROUP BY s.id_number
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
  ), keys AS (
    -- The persons' posts and months that some case covers: nothing else is priced.
    SELECT DISTINCT m.id_number, m.post_id, m.month, (m.month + interval '1 month' - interval '1 day')::date AS last FROM months_of_cases m
  ), days AS (
    -- payroll_due's days in post (payroll_due_worked, sql/0024), without the amounts, for the
    -- months of the cases only.
    SELECT pl.county_code, pl.id_number, pl.post_id, k.month,
           sum(greatest(0, least(ct.end_on, coalesce(pl.exit_on, ct.end_on), k.last, coalesce(dd.died_on - 1, ct.end_on))
                           - greatest(ct.start_on, pl.start_on, k.month) + 1))::int AS days_in_post
    FROM keys k
    JOIN placement pl ON pl.id_number = k.id_number AND pl.post_id = k.post_id
    JOIN contract ct ON ct.placement_id = pl.id
    LEFT JOIN deaths dd ON dd.id_number = pl.id_number
    WHERE pl.county_code ^@ county AND NOT pl.id_number = ANY (priced_ids)
      AND ct.start_on <= k.last AND ct.end_on >= k.month AND pl.start_on <= k.last AND (pl.exit_on IS NULL OR pl.exit_on >= k.month)
    GROUP BY pl.county_code, pl.id_number, pl.post_id, k.month
  ), due AS (
    SELECT d.id_number, d.post_id, d.month, d.days_in_post, d.post_subsidy_fen + d.social_insurance_fen AS due_fen
    FROM payroll_due(first_month, last_month, county, priced_ids) d
    UNION ALL
    -- Every case-month of these persons has an approved payroll: what is due is never read.
    SELECT w.id_number, w.post_id, w.month, w.days_in_post, NULL::bigint FROM days w WHERE w.days_in_post > 0
  ), booked AS (
    SELECT l.id_number, l.post_id, l.for_month AS month, sum(l.total_fen)::bigint AS total
    FROM payroll_line l JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
    JOIN keys k ON k.id_number = l.id_number AND k.post_id = l.post_id AND k.month = l.for_month
    WHERE l.id_number = ANY (ids) AND l.for_month BETWEEN first_month AND last_month
    GROUP BY l.id_number, l.post_id, l.for_month
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
