-- Evidence of work in payroll and audit (SPEC §14, issue 15): 在岗 means at work.
--
-- * Where attendance is recorded for a month, absent days are its `absent` days, and leave
--   beyond the policy's paid leave days counts like absence: post subsidy =
--   round_half_up(standard × max(0, days in post − absent − unpaid leave) / D). Only days in
--   post count (a day after death or outside every contract is not paid twice over).
-- * Where the county's policy requires evidence (assessment or attendance) and a month has
--   none, the line is held: written with a zero post subsidy and the reason. When the evidence
--   arrives, the next run's adjustment pays what was held (the run compares what is due now
--   with what was booked, as for any late fact).
--
-- How: `payroll_due` (sql/0004, 0008, and whatever migration last replaced it) is renamed
-- `payroll_due_worked` and kept as it is: what days in post, assessments and standards give.
-- The new `payroll_due` is a thin step over it that joins `payroll_evidence` (attendance per
-- person, post and month, counted over the days in post) and the evidence policy, and adds the
-- column `held_reason`. Its callers (the payroll run, its adjustments, the audit's payment
-- rules) read it by name, so all of them see the same amounts.

-- Attendance counted over the days in post of each person, post and month that has it: the
-- days a placement is open, covered by a contract and before any death — the same days as
-- payroll_due_worked counts. Driven by the attendance rows, so a month without attendance
-- costs nothing.
CREATE FUNCTION payroll_evidence(from_month date, to_month date, county_prefix text DEFAULT '')
RETURNS TABLE (county_code text, month date, id_number text, post_id text, post_type text,
               recorded_days int, present_days int, absent_days int, leave_days int)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix GROUP BY s.id_number
  ), segments AS (
    -- Each contract's days in post in the month, as the part of the month's day string they
    -- cover (OFFSET 0: cut once, counted four times).
    SELECT x.county_code, x.month, x.id_number, x.post_id, x.part
    FROM (
      SELECT y.county_code, y.month, y.id_number, y.post_id, y.first, y.last, substr(y.days, y.first, y.last - y.first + 1) AS part
      FROM (
      SELECT pl.county_code, a.month, a.id_number, pl.post_id, a.days,
             greatest(c.start_on, pl.start_on, a.month) - a.month + 1 AS first,
             least(c.end_on, coalesce(pl.exit_on, c.end_on), (a.month + interval '1 month' - interval '1 day')::date,
                   coalesce(d.died_on - 1, c.end_on)) - a.month + 1 AS last
      FROM attendance a
      JOIN placement pl ON pl.id_number = a.id_number
       AND pl.start_on < (a.month + interval '1 month')::date AND (pl.exit_on IS NULL OR pl.exit_on >= a.month)
      JOIN contract c ON c.placement_id = pl.id AND c.start_on < (a.month + interval '1 month')::date AND c.end_on >= a.month
      LEFT JOIN deaths d ON d.id_number = a.id_number
      WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix
        AND pl.county_code ^@ county_prefix
      OFFSET 0) y
      OFFSET 0) x
    WHERE x.last >= x.first
  )
  -- Counted in the string itself (a function per count costs ten times as much over a province).
  SELECT s.county_code, s.month, s.id_number, s.post_id, min(p.post_type),
         sum(length(replace(s.part, '-', '')))::int,
         sum(length(s.part) - length(replace(s.part, 'P', '')))::int,
         sum(length(s.part) - length(replace(s.part, 'A', '')))::int,
         sum(length(s.part) - length(replace(s.part, 'L', '')))::int
  FROM segments s JOIN post p ON p.id = s.post_id
  GROUP BY s.county_code, s.month, s.id_number, s.post_id;
END;

ALTER FUNCTION payroll_due(date, date, text, text[]) RENAME TO payroll_due_worked;

CREATE FUNCTION payroll_due(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint, held_reason text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH evidence AS (
    SELECT * FROM payroll_evidence(from_month, to_month, county_prefix)
  ), policy AS (
    SELECT k.county_code, m.m::date AS month, e.require, e.paid_leave_days
    FROM (SELECT r.county_code FROM region r WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
    CROSS JOIN generate_series(from_month, to_month, interval '1 month') m
    CROSS JOIN LATERAL evidence_on(k.county_code || '000000', m.m::date) e
  ), assessed AS (
    -- Read only where something needs it: a county-month that requires assessments, or
    -- attendance (a failed month stays at zero).
    SELECT pl.county_code, a.month, pl.id_number, pl.post_id, bool_or(a.result = 'fail') AS failed
    FROM assessment a JOIN placement pl ON pl.id = a.placement_id
    WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix
      AND (EXISTS (SELECT 1 FROM evidence) OR EXISTS (SELECT 1 FROM policy WHERE policy.require = 'assessment'))
    GROUP BY pl.county_code, a.month, pl.id_number, pl.post_id
  ), standards AS (
    SELECT k.county_code, k.post_type, k.month, s.monthly_fen
    FROM (SELECT DISTINCT e.county_code, e.post_type, e.month FROM evidence e) k
    CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, k.month) s
  )
  SELECT d.county_code, d.month, d.id_number, d.post_id, d.days_in_post,
         CASE WHEN h.reason IS NOT NULL THEN 0
              WHEN e.recorded_days > 0 AND a.failed IS NOT TRUE
                THEN (2 * coalesce(s.monthly_fen, 0)
                        * greatest(0, d.days_in_post - e.absent_days - greatest(0, e.leave_days - coalesce(p.paid_leave_days, 0))) + m.days)
                     / (2 * m.days)
              ELSE d.post_subsidy_fen END::bigint,
         d.social_insurance_fen, d.post_subsidy_standard_fen, d.social_insurance_standard_fen, h.reason
  FROM payroll_due_worked(from_month, to_month, county_prefix, persons) d
  LEFT JOIN policy p ON p.county_code = d.county_code AND p.month = d.month
  LEFT JOIN evidence e ON e.county_code = d.county_code AND e.month = d.month AND e.id_number = d.id_number AND e.post_id = d.post_id
  LEFT JOIN assessed a ON a.county_code = d.county_code AND a.month = d.month AND a.id_number = d.id_number AND a.post_id = d.post_id
  LEFT JOIN standards s ON s.county_code = e.county_code AND s.post_type = e.post_type AND s.month = e.month
  CROSS JOIN LATERAL (SELECT extract(day FROM d.month + interval '1 month' - interval '1 day')::int AS days) m
  CROSS JOIN LATERAL (SELECT CASE WHEN p.require = 'assessment' AND a.county_code IS NULL THEN 'assessment-missing'
                                  WHEN p.require = 'attendance' AND coalesce(e.recorded_days, 0) = 0 THEN 'attendance-missing'
                             END AS reason) h;
END;

GRANT EXECUTE ON FUNCTION payroll_evidence(date, date, text), payroll_due(date, date, text, text[])
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- A held line says why (SPEC §14). Not part of the seal's digest (sql/0016 keeps its column
-- list): a held line's zero post subsidy is.
ALTER TABLE payroll_line ADD COLUMN held_reason text
  CONSTRAINT payroll_line_held CHECK (held_reason IN ('assessment-missing', 'attendance-missing'));

-- PAID_WITHOUT_EVIDENCE (只发钱不上岗): a person paid for a month in which attendance shows no
-- day present in post, or, where the county requires evidence, with none recorded. Per person
-- and month: attendance is a person's, and a payment without a post still counts. What counts
-- is pay for work: the social-insurance subsidy is due for days in post whatever the evidence
-- (a held line pays it), so a case is a payment beyond the social-insurance subsidy of the
-- month's payroll lines, and that excess is at stake.
INSERT INTO audit_rule (code, position, title_zh, basis, from_payments)
SELECT 'PAID_WITHOUT_EVIDENCE', max(position) + 1, '只发钱不上岗', '人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为', false
FROM audit_rule;

-- A PL/pgSQL function for the reason audit_payment_cases is one (sql/0006): planned with the
-- report's dates as values, hash joins only.
CREATE FUNCTION audit_paid_without_evidence_rows()
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
  ), cases AS (
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
REVOKE ALL ON FUNCTION audit_paid_without_evidence_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_paid_without_evidence_rows()
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

CREATE VIEW audit_paid_without_evidence WITH (security_invoker = true) AS SELECT * FROM audit_paid_without_evidence_rows();
GRANT SELECT ON audit_paid_without_evidence TO wp_auditor;

-- The state half of the report (sql/0006) with the new rule added at its end: the only change
-- to an existing view.
CREATE OR REPLACE VIEW audit_state_violation WITH (security_invoker = true) AS
  SELECT * FROM audit_deceased_in_post
  UNION ALL SELECT * FROM audit_ineligible_in_post
  UNION ALL SELECT * FROM audit_over_age_in_post
  UNION ALL SELECT * FROM audit_household_over_cap
  UNION ALL SELECT * FROM audit_no_contract
  UNION ALL SELECT * FROM audit_uninsured
  UNION ALL SELECT * FROM audit_duplicate_payment
  UNION ALL SELECT * FROM audit_paid_to_other_account
  UNION ALL SELECT * FROM audit_repeated_failure
  UNION ALL SELECT * FROM audit_vacant_too_long
  UNION ALL SELECT * FROM audit_over_quota
  UNION ALL SELECT * FROM audit_paid_without_evidence;
