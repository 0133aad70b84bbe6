-- What is due in one pass (issue 17): the payroll run and the audit's payment rules at the
-- speed of the hand-written query.
--
-- * Attendance is folded into the pass that counts the days in post (payroll_due_worked's
--   own join of placements, contracts and months), instead of a second pass over attendance,
--   placements and contracts beside it (payroll_evidence of sql/0019_3, which kept its own copy
--   of the days-in-post arithmetic). Each contract's days in the month are cut once from the
--   month's attendance string and counted there.
-- * Where no attendance is recorded in the months and no policy asks for evidence (decided once
--   per query: two branches whose uncorrelated conditions exclude each other, so only one
--   runs), `payroll_due` is payroll_due_worked's rows untouched: no evidence work at all.
-- * The standards of each county, type and month looked up in one statement (pay_standard_on
--   took a millisecond a call: 1,440 calls for a province's year).
-- * Estimates the planner can use: the months from an integer series (whose row count the
--   planner computes from its bounds; a series of dates is guessed at 1,000 rows, which made a
--   province's 120 standards look like 120 million and the join on them spill to disk), and
--   the policy lookups declared to return one row.
-- The amounts are those of sql/0019_3, line for line (EvidenceTests, PayrollTests).

-- One row each (LIMIT 1; one aggregate row).
ALTER FUNCTION pay_standard_on(text, text, date) ROWS 1;
ALTER FUNCTION evidence_on(text, date) ROWS 1;

-- A person's attendance of a month recorded under two counties (their posts moved between the
-- imports): one string, each day the strictest status recorded for it (A before L before P).
CREATE FUNCTION attendance_merged(days text[]) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT string_agg(coalesce((SELECT min(substr(d, i, 1)) FROM unnest(days) d WHERE substr(d, i, 1) <> '-'), '-'), '' ORDER BY i)
  FROM generate_series(1, (SELECT max(length(d)) FROM unnest(days) d)) i;
END;
GRANT EXECUTE ON FUNCTION attendance_merged(text[]) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- The months from from_month to to_month, as their first and last day and number of days.
CREATE FUNCTION payroll_months(from_month date, to_month date) RETURNS TABLE (first date, last date, days int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT f.first, (f.first + interval '1 month' - interval '1 day')::date,
         extract(day FROM f.first + interval '1 month' - interval '1 day')::int
  FROM (SELECT (from_month + make_interval(months => i))::date AS first
        FROM (SELECT ((extract(year FROM to_month) - extract(year FROM from_month)) * 12
                      + extract(month FROM to_month) - extract(month FROM from_month))::int AS n) k
        -- The last month starts on or before to_month (from_month need not be a first day).
        CROSS JOIN generate_series(0, k.n - CASE WHEN from_month + make_interval(months => k.n) > to_month THEN 1 ELSE 0 END) i) f;
END;
GRANT EXECUTE ON FUNCTION payroll_months(date, date) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- payroll_due_worked (sql/0017d) again, the same rows: the months from payroll_months.
CREATE OR REPLACE FUNCTION payroll_due_worked(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH months AS (
    SELECT m.first, m.last, m.days FROM payroll_months(from_month, to_month) m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix AND (persons IS NULL OR s.id_number = ANY (persons))
    GROUP BY s.id_number
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
    WHERE pl.county_code ^@ county_prefix AND (persons IS NULL OR pl.id_number = ANY (persons))
    GROUP BY pl.id, m.first, m.days
  ), standards AS (
    -- pay_standard_on for each county, type and month, in one statement: the standard set
    -- closest to the county (county, city, province), the latest in force on the first day.
    SELECT DISTINCT ON (k.county_code, k.post_type, m.first) k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code ^@ county_prefix) k
    CROSS JOIN months m
    JOIN pay_standard s ON s.post_type = k.post_type AND s.effective_from <= m.first
     AND s.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
    ORDER BY k.county_code, k.post_type, m.first,
             CASE s.region_code WHEN k.county_code || '000000' THEN 3 WHEN rpad(left(k.county_code, 4), 12, '0') THEN 2 ELSE 1 END DESC,
             s.effective_from DESC
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, sum(w.days_in_post)::int,
         sum(CASE WHEN a.result = 'fail' THEN 0
                  ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END)::bigint,
         sum((2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days))::bigint,
         max(s.monthly_fen), max(s.social_insurance_fen)
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0
  GROUP BY w.county_code, w.first, w.id_number, w.post_id;
END;

-- The same pass with the evidence of work counted in it: per person, post and month, what
-- payroll_due_worked gives, and over the same days in post the attendance recorded (days
-- recorded, present, absent, on leave), whether an assessment failed the month and whether
-- there was any.
CREATE FUNCTION payroll_due_counted(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, post_type text, month_days int, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint,
               recorded_days int, present_days int, absent_days int, leave_days int, failed boolean, assessed boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH months AS (
    SELECT m.first, m.last, m.days FROM payroll_months(from_month, to_month) m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix AND (persons IS NULL OR s.id_number = ANY (persons))
    GROUP BY s.id_number
  ), att AS (
    -- One string per person and month (two only where the person's posts moved county
    -- between imports).
    SELECT a.id_number, a.month,
           CASE WHEN count(*) = 1 THEN min(a.days)
                ELSE (SELECT attendance_merged(array_agg(x.days)) FROM attendance x
                      WHERE x.id_number = a.id_number AND x.month = a.month AND x.county_code ^@ county_prefix) END AS days
    FROM attendance a
    WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix AND (persons IS NULL OR a.id_number = ANY (persons))
    GROUP BY a.id_number, a.month
  ), segments AS (
    -- Each contract's days in post in the month, and the part of the month's attendance they
    -- cover (OFFSET 0: cut once, counted three times).
    SELECT x.placement_id, x.county_code, x.post_id, x.id_number, x.first, x.days, x.n,
           CASE WHEN x.n = x.days THEN x.att WHEN x.n > 0 THEN substr(x.att, x.f, x.n) END AS part
    FROM (
      SELECT pl.id AS placement_id, pl.county_code, pl.post_id, pl.id_number, m.first, m.days, att.days AS att, greatest(c.start_on, pl.start_on, m.first) - m.first + 1 AS f,
             greatest(0, least(c.end_on, coalesce(pl.exit_on, c.end_on), m.last, coalesce(d.died_on - 1, c.end_on))
                         - greatest(c.start_on, pl.start_on, m.first) + 1) AS n
      FROM placement pl
      JOIN contract c ON c.placement_id = pl.id
      JOIN months m ON c.start_on <= m.last AND c.end_on >= m.first
                   AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
      LEFT JOIN deaths d ON d.id_number = pl.id_number
      LEFT JOIN att ON att.id_number = pl.id_number AND att.month = m.first
      WHERE pl.county_code ^@ county_prefix AND (persons IS NULL OR pl.id_number = ANY (persons))
      OFFSET 0) x
  ), worked AS (
    SELECT s.placement_id, s.county_code, s.post_id, s.id_number, s.first, s.days, sum(s.n)::int AS days_in_post,
           sum(length(s.part) - length(replace(s.part, 'P', '')))::int AS present,
           sum(length(s.part) - length(replace(s.part, 'A', '')))::int AS absent,
           sum(length(s.part) - length(replace(s.part, 'L', '')))::int AS leave
    FROM segments s GROUP BY s.placement_id, s.county_code, s.post_id, s.id_number, s.first, s.days
  ), standards AS (
    -- pay_standard_on for each county, type and month, in one statement: the standard set
    -- closest to the county (county, city, province), the latest in force on the first day.
    SELECT DISTINCT ON (k.county_code, k.post_type, m.first) k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code ^@ county_prefix) k
    CROSS JOIN months m
    JOIN pay_standard s ON s.post_type = k.post_type AND s.effective_from <= m.first
     AND s.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
    ORDER BY k.county_code, k.post_type, m.first,
             CASE s.region_code WHEN k.county_code || '000000' THEN 3 WHEN rpad(left(k.county_code, 4), 12, '0') THEN 2 ELSE 1 END DESC,
             s.effective_from DESC
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, min(p.post_type), w.days, sum(w.days_in_post)::int,
         sum(CASE WHEN a.result = 'fail' THEN 0
                  ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END)::bigint,
         sum((2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days))::bigint,
         max(s.monthly_fen), max(s.social_insurance_fen),
         coalesce(sum(w.present + w.absent + w.leave), 0)::int, coalesce(sum(w.present), 0)::int,
         coalesce(sum(w.absent), 0)::int, coalesce(sum(w.leave), 0)::int,
         bool_or(a.result = 'fail'), bool_or(a.placement_id IS NOT NULL)
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0
  GROUP BY w.county_code, w.first, w.id_number, w.post_id, w.days;
END;

-- Attendance counted over the days in post (sql/0019_3's columns), now from the one pass.
CREATE OR REPLACE FUNCTION payroll_evidence(from_month date, to_month date, county_prefix text DEFAULT '')
RETURNS TABLE (county_code text, month date, id_number text, post_id text, post_type text,
               recorded_days int, present_days int, absent_days int, leave_days int)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT c.county_code, c.month, c.id_number, c.post_id, c.post_type, c.recorded_days, c.present_days, c.absent_days, c.leave_days
  FROM payroll_due_counted(from_month, to_month, county_prefix) c
  WHERE c.recorded_days > 0;
END;

CREATE OR REPLACE FUNCTION payroll_due(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint, held_reason text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  -- Where no attendance is recorded in these months and no policy asks for evidence, what the
  -- days in post, assessments and standards give, untouched.
  SELECT d.county_code, d.month, d.id_number, d.post_id, d.days_in_post, d.post_subsidy_fen, d.social_insurance_fen,
         d.post_subsidy_standard_fen, d.social_insurance_standard_fen, NULL::text
  FROM payroll_due_worked(from_month, to_month, county_prefix, persons) d
  WHERE NOT EXISTS (SELECT 1 FROM attendance t WHERE t.month BETWEEN from_month AND to_month AND t.county_code ^@ county_prefix)
    AND NOT EXISTS (SELECT 1 FROM evidence_policy v WHERE v.require IN ('assessment', 'attendance') AND v.effective_from <= to_month)
  UNION ALL
  -- Otherwise the evidence, from the same pass: where attendance is recorded, its absent days
  -- and the leave beyond the policy's paid leave days are not paid (a failed assessment still
  -- zeroes the month); where the policy requires evidence and there is none, the line is held.
  SELECT d.county_code, d.month, d.id_number, d.post_id, d.days_in_post,
         CASE WHEN h.reason IS NOT NULL THEN 0
              WHEN d.recorded_days > 0 AND d.failed IS NOT TRUE
                THEN (2 * coalesce(d.post_subsidy_standard_fen, 0)
                        * greatest(0, d.days_in_post - d.absent_days - greatest(0, d.leave_days - coalesce(p.paid_leave_days, 0))) + d.month_days)
                     / (2 * d.month_days)
              ELSE d.post_subsidy_fen END::bigint,
         d.social_insurance_fen, d.post_subsidy_standard_fen, d.social_insurance_standard_fen, h.reason
  FROM payroll_due_counted(from_month, to_month, county_prefix, persons) d
  LEFT JOIN (SELECT k.county_code, m.first AS month, e.require, e.paid_leave_days
             FROM (SELECT r.county_code FROM region r WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
             CROSS JOIN payroll_months(from_month, to_month) m
             CROSS JOIN LATERAL evidence_on(k.county_code || '000000', m.first) e) p
    ON p.county_code = d.county_code AND p.month = d.month
  CROSS JOIN LATERAL (SELECT CASE WHEN p.require = 'assessment' AND d.assessed IS NOT TRUE THEN 'assessment-missing'
                                  WHEN p.require = 'attendance' AND d.recorded_days = 0 THEN 'attendance-missing'
                             END AS reason) h
  WHERE EXISTS (SELECT 1 FROM attendance t WHERE t.month BETWEEN from_month AND to_month AND t.county_code ^@ county_prefix)
     OR EXISTS (SELECT 1 FROM evidence_policy v WHERE v.require IN ('assessment', 'attendance') AND v.effective_from <= to_month);
END;

GRANT EXECUTE ON FUNCTION payroll_due_counted(date, date, text, text[])
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- Row-level security (issue 17, bench/rls.sh): the payment rules looked up each case's region
-- by `post.id = <the case's post>`, an expression with coalesce, which PostgreSQL does not
-- treat as leakproof: under an operator's policies it could not be an index condition, and
-- each of the cases scanned every post (a province's auditor took 35 s on county 320301's
-- payment rules, the owner 4.6 s). The cases are now materialized first, so the lookup
-- compares with a plain value. Otherwise as in sql/0017e and sql/0019_3.
CREATE OR REPLACE FUNCTION audit_payment_cases()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET enable_sort = off SET work_mem = '512MB'
SET jit = off SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  from_month date := audit_from_month();
  to_month date := audit_to_month();
  as_of date := audit_as_of();
  county text := audit_county();
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT d.county_code, d.month, d.id_number, d.post_id, (d.post_subsidy_fen + d.social_insurance_fen) AS due_fen
    FROM payroll_due(from_month, to_month, county) d
  ), adjusted AS (
    SELECT l.county_code, l.month, l.id_number, l.post_id, sum(l.adjustment_fen)::bigint AS adjustment_fen
    FROM payroll_line l
    JOIN payroll_run pr ON pr.county_code = l.county_code AND pr.month = l.month AND pr.state = 'approved'
    WHERE l.kind = 'adjustment' AND l.month BETWEEN from_month AND to_month AND l.county_code ^@ county
    GROUP BY 1, 2, 3, 4
  ), booked AS (
    SELECT coalesce(d.county_code, a.county_code) AS county_code, coalesce(d.id_number, a.id_number) AS id_number,
           coalesce(d.month, a.month) AS month, coalesce(d.post_id, a.post_id) AS post_id,
           coalesce(d.due_fen, 0) + coalesce(a.adjustment_fen, 0) AS booked_fen
    FROM due d FULL JOIN adjusted a
      ON a.county_code = d.county_code AND a.month = d.month AND a.id_number = d.id_number AND a.post_id = d.post_id
  ), payments AS (
    SELECT d.county_code, d.id_number, d.month, d.post_id, d.amount_fen FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
  ), loose AS (
    -- Person-months paid at least once without a post: matched as a whole.
    SELECT DISTINCT p.id_number, p.month FROM payments p WHERE p.post_id IS NULL
  ), booked_by_key AS (
    SELECT min(b.county_code) AS county_code, b.id_number, b.month, CASE WHEN l.id_number IS NULL THEN b.post_id ELSE '' END AS post_key,
           sum(b.booked_fen)::bigint AS booked_fen, CASE WHEN count(*) = 1 THEN min(b.post_id) END AS only_post
    FROM booked b LEFT JOIN loose l ON l.id_number = b.id_number AND l.month = b.month
    GROUP BY b.id_number, b.month, CASE WHEN l.id_number IS NULL THEN b.post_id ELSE '' END
  ), paid AS (
    SELECT min(p.county_code) AS county_code, p.id_number, p.month, CASE WHEN l.id_number IS NULL THEN p.post_id ELSE '' END AS post_key,
           sum(p.amount_fen)::bigint AS paid_fen
    FROM payments p LEFT JOIN loose l ON l.id_number = p.id_number AND l.month = p.month
    GROUP BY p.id_number, p.month, CASE WHEN l.id_number IS NULL THEN p.post_id ELSE '' END
  ), compared AS (
    SELECT coalesce(b.county_code, p.county_code) AS county_code, coalesce(b.id_number, p.id_number) AS id_number,
           coalesce(b.month, p.month) AS month,
           CASE WHEN coalesce(b.post_key, p.post_key) = '' THEN b.only_post ELSE coalesce(b.post_key, p.post_key) END AS post_id,
           coalesce(b.booked_fen, 0) AS booked_fen, p.paid_fen
    FROM booked_by_key b FULL JOIN paid p ON p.id_number = b.id_number AND p.month = b.month AND p.post_key = b.post_key
  ), cases AS MATERIALIZED (
    -- Materialized: the region lookups below then compare post.id with a plain value, which
    -- the row-level-security policies let be an index condition (an expression with coalesce
    -- is not leakproof, so for an operator each lookup was a scan of every post).
    SELECT c.*, k.rule, CASE k.rule WHEN 'PAID_NOT_DUE' THEN c.paid_fen - greatest(c.booked_fen, 0)
                                    WHEN 'UNDERPAID' THEN c.booked_fen - c.paid_fen ELSE c.booked_fen END AS amount_fen
    FROM compared c
    LEFT JOIN payroll_run pr ON pr.county_code = c.county_code AND pr.month = c.month AND pr.state = 'approved'
    CROSS JOIN LATERAL (SELECT CASE
        WHEN coalesce(c.paid_fen, 0) > greatest(c.booked_fen, 0) THEN 'PAID_NOT_DUE'
        WHEN pr.month IS NOT NULL AND c.paid_fen > 0 AND c.paid_fen < c.booked_fen THEN 'UNDERPAID'
        WHEN pr.month IS NOT NULL AND c.booked_fen > 0 AND c.paid_fen IS NULL
             AND as_of > (c.month + interval '1 month' - interval '1 day')::date + 30 THEN 'UNPAID_LATE'
        END AS rule) k
    WHERE k.rule IS NOT NULL
  )
  SELECT c.rule, c.county_code, township_of(x.region_code), village_of(x.region_code), x.region_code, c.id_number, c.post_id,
         c.month, (c.month + interval '1 month' - interval '1 day')::date, c.month, c.amount_fen,
         CASE c.rule
           WHEN 'PAID_NOT_DUE' THEN format('paid %s for %s but %s is due: recover %s',
                                           yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(greatest(c.booked_fen, 0)), yuan_text(c.amount_fen))
           WHEN 'UNDERPAID' THEN format('paid %s for %s of the %s booked: pay the remaining %s',
                                        yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen), yuan_text(c.amount_fen))
           ELSE format('%s booked for %s by the approved payroll and nothing paid more than 30 days after the month: pay it or find the bank''s result',
                       yuan_text(c.booked_fen), to_char(c.month, 'YYYY-MM')) END,
         CASE c.rule
           WHEN 'PAID_NOT_DUE' THEN format('%s 实发 %s 元，应发 %s 元：应追回 %s 元',
                                           to_char(c.month, 'YYYY-MM'), yuan_text(c.paid_fen), yuan_text(greatest(c.booked_fen, 0)), yuan_text(c.amount_fen))
           WHEN 'UNDERPAID' THEN format('%s 应发 %s 元，实发 %s 元：应补发 %s 元',
                                        to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen), yuan_text(c.paid_fen), yuan_text(c.amount_fen))
           ELSE format('%s 已审核应发 %s 元，月末后超过30天仍未发放：请发放或核实银行回单',
                       to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen)) END,
         r.basis
  FROM cases c
  JOIN audit_rule r ON r.code = c.rule
  CROSS JOIN LATERAL (SELECT coalesce((SELECT po.region_code FROM post po WHERE po.id = c.post_id),
                                      (SELECT pe.village_code FROM person pe WHERE pe.id_number = c.id_number)) AS region_code) x;
END $$;

CREATE OR REPLACE FUNCTION audit_paid_without_evidence_rows()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET work_mem = '256MB' SET jit = off
SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  from_month date := audit_from_month();
  to_month date := audit_to_month();
  as_of date := audit_as_of();
  county text := audit_county();
BEGIN
  -- Nothing to find where no attendance is recorded in the months and no policy asks for
  -- evidence: the province's payments are then not read a second time.
  IF NOT EXISTS (SELECT 1 FROM attendance a WHERE a.month BETWEEN from_month AND to_month AND a.county_code LIKE county || '%')
     AND NOT EXISTS (SELECT 1 FROM evidence_policy e WHERE e.require IN ('assessment', 'attendance') AND e.effective_from <= to_month) THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH paid AS (
    SELECT min(d.county_code) AS county_code, d.id_number, d.month, min(d.post_id) AS post_id, sum(d.amount_fen)::bigint AS paid_fen
    FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code LIKE county || '%'
    GROUP BY d.id_number, d.month HAVING sum(d.amount_fen) > 0
  ), evidence AS (
    SELECT e.id_number, e.month, sum(e.recorded_days) AS recorded, sum(e.present_days) AS present, min(e.post_id) AS post_id
    FROM payroll_evidence(from_month, to_month, county) e GROUP BY e.id_number, e.month
  ), assessed AS (
    SELECT pl.id_number, a.month FROM assessment a JOIN placement pl ON pl.id = a.placement_id
    WHERE a.month BETWEEN from_month AND to_month AND a.county_code LIKE county || '%'
    GROUP BY pl.id_number, a.month
  ), policy AS (
    SELECT k.county_code, m.m::date AS month, e.require
    FROM (SELECT DISTINCT p.county_code FROM paid p) k
    CROSS JOIN generate_series(from_month, to_month, interval '1 month') m
    CROSS JOIN LATERAL evidence_on(k.county_code || '000000', m.m::date) e
  ), cases AS MATERIALIZED (
    SELECT p.*, coalesce(p.post_id, e.post_id) AS case_post, e.recorded, e.present, pol.require,
           CASE WHEN e.recorded > 0 AND e.present = 0 THEN 'absent'
                WHEN pol.require = 'attendance' AND coalesce(e.recorded, 0) = 0 THEN 'attendance-missing'
                WHEN pol.require = 'assessment' AND a.id_number IS NULL THEN 'assessment-missing' END AS why
    FROM paid p
    LEFT JOIN evidence e ON e.id_number = p.id_number AND e.month = p.month
    LEFT JOIN assessed a ON a.id_number = p.id_number AND a.month = p.month
    LEFT JOIN policy pol ON pol.county_code = p.county_code AND pol.month = p.month
  )
  SELECT 'PAID_WITHOUT_EVIDENCE'::text, c.county_code, township_of(x.region_code), village_of(x.region_code), x.region_code,
         c.id_number, c.case_post, c.month, (c.month + interval '1 month' - interval '1 day')::date, c.month, c.paid_fen - x.insurance_fen,
         CASE c.why
           WHEN 'absent' THEN format('paid %s for %s (%s beyond the social-insurance subsidy), a month in which the attendance shows no day at work (%s days recorded, none present): recover it unless the work is proven',
                                     yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(c.paid_fen - x.insurance_fen), c.recorded)
           ELSE format('paid %s for %s (%s beyond the social-insurance subsidy) without the %s the county requires: obtain the evidence of work or recover the payment',
                       yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(c.paid_fen - x.insurance_fen),
                       CASE c.why WHEN 'attendance-missing' THEN 'attendance' ELSE 'assessment' END) END,
         CASE c.why
           WHEN 'absent' THEN format('%s 考勤无一日出勤（登记 %s 天，出勤 0 天）却发放 %s 元（社保补贴之外 %s 元）：如不能证明在岗应予追回',
                                     to_char(c.month, 'YYYY-MM'), c.recorded, yuan_text(c.paid_fen), yuan_text(c.paid_fen - x.insurance_fen))
           ELSE format('%s 未按规定登记%s即发放 %s 元（社保补贴之外 %s 元）：请补充在岗佐证或追回款项',
                       to_char(c.month, 'YYYY-MM'), CASE c.why WHEN 'attendance-missing' THEN '考勤' ELSE '考核' END,
                       yuan_text(c.paid_fen), yuan_text(c.paid_fen - x.insurance_fen)) END,
         r.basis
  FROM cases c
  JOIN audit_rule r ON r.code = 'PAID_WITHOUT_EVIDENCE'
  -- Looked up for the cases only (subqueries by index, not a scan of every line).
  CROSS JOIN LATERAL (SELECT coalesce((SELECT po.region_code FROM post po WHERE po.id = c.case_post),
                                      (SELECT pe.village_code FROM person pe WHERE pe.id_number = c.id_number)) AS region_code,
                             coalesce((SELECT sum(l.social_insurance_fen) FROM payroll_line l
                                       WHERE l.county_code = c.county_code AND l.for_month = c.month AND l.id_number = c.id_number
                                         AND l.kind = 'regular'), 0)::bigint AS insurance_fen) x
  WHERE c.why IS NOT NULL AND c.paid_fen > x.insurance_fen;
END $$;
