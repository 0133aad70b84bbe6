-- The audit's payment half without grouping what is due twice (issue 17: `audit violations`
-- within 1.5x of payroll_due). Same cases and amounts, line for line (bench/audit.sh
-- AUDIT_BEFORE=; AuditTests, HistoryTests, EvidenceTests, AccessTests).
--
-- payroll_due groups what is due per placement and month into one row per county, month,
-- person and post; the payment half then groups those rows again, with the payments, per
-- person, month and post (sql/0036). Where no evidence of work counts, a line's amount is the
-- sum of its placements' amounts, each rounded by itself (payroll_due_worked sums them), so the
-- payment half now groups the placements' amounts directly: one hash grouping of 3.4 million
-- rows fewer over a province's year. The same sums per person, month and post, and the same
-- counties (each placement's county is its line's). Where evidence counts (attendance recorded
-- in the months, or a policy requiring it) the amount of a line is not a sum of its
-- placements' (absent and unpaid leave days are taken from the line's days in post): there
-- the payment half reads payroll_due as before.
--
-- payroll_due_placements is payroll_due_worked without its last grouping, and
-- payroll_due_worked is now that grouping over it (the same rows; EvidenceTests).
-- audit_payment_cases restates sql/0041's work_mem (a CREATE OR REPLACE resets it).

-- What is due per placement and month, before payroll_due_worked groups it by county, month,
-- person and post.
CREATE FUNCTION payroll_due_placements(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
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
    FROM (SELECT r.county_code, t.code AS post_type FROM region r CROSS JOIN post_type t
          WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
    CROSS JOIN months m
    JOIN pay_standard s ON s.post_type = k.post_type AND s.effective_from <= m.first
     AND s.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
    ORDER BY k.county_code, k.post_type, m.first,
             CASE s.region_code WHEN k.county_code || '000000' THEN 3 WHEN rpad(left(k.county_code, 4), 12, '0') THEN 2 ELSE 1 END DESC,
             s.effective_from DESC
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, w.days_in_post,
         CASE WHEN a.result = 'fail' THEN 0
              ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END,
         (2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days),
         s.monthly_fen, s.social_insurance_fen
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0;
END;
GRANT EXECUTE ON FUNCTION payroll_due_placements(date, date, text, text[])
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

CREATE OR REPLACE FUNCTION payroll_due_worked(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT p.county_code, p.month, p.id_number, p.post_id, sum(p.days_in_post)::int, sum(p.post_subsidy_fen)::bigint,
         sum(p.social_insurance_fen)::bigint, max(p.post_subsidy_standard_fen), max(p.social_insurance_standard_fen)
  FROM payroll_due_placements(from_month, to_month, county_prefix, persons) p
  GROUP BY p.county_code, p.month, p.id_number, p.post_id;
END;

CREATE OR REPLACE FUNCTION audit_payment_cases()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET enable_sort = off SET work_mem = '4MB'
SET jit = off SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  from_month date := audit_from_month();
  to_month date := audit_to_month();
  as_of date := audit_as_of();
  county text := audit_county();
  -- payroll_due's branch: with evidence of work (attendance recorded in the months, or a policy
  -- asking for it) its amounts are per person, post and month and cannot be split.
  evidence boolean := EXISTS (SELECT 1 FROM attendance t WHERE t.month BETWEEN from_month AND to_month AND t.county_code ^@ county)
                      OR EXISTS (SELECT 1 FROM evidence_policy v WHERE v.require IN ('assessment', 'attendance') AND v.effective_from <= to_month);
BEGIN
  RETURN QUERY
  WITH keyed AS (
    -- What is due, the approved adjustments (both booked: paid_fen NULL) and the payments. What
    -- is due per placement and month where no evidence counts (grouped below as payroll_due
    -- groups it), else payroll_due's rows.
    SELECT d.county_code, d.month, d.id_number, d.post_id, (d.post_subsidy_fen + d.social_insurance_fen) AS booked_fen, NULL::bigint AS paid_fen
    FROM payroll_due_placements(from_month, to_month, county) d WHERE NOT evidence
    UNION ALL
    SELECT d.county_code, d.month, d.id_number, d.post_id, d.post_subsidy_fen + d.social_insurance_fen, NULL::bigint
    FROM payroll_due(from_month, to_month, county) d WHERE evidence
    UNION ALL
    SELECT l.county_code, l.month, l.id_number, l.post_id, l.adjustment_fen, NULL::bigint
    FROM payroll_line l
    JOIN payroll_run pr ON pr.county_code = l.county_code AND pr.month = l.month AND pr.state = 'approved'
    WHERE l.kind = 'adjustment' AND l.month BETWEEN from_month AND to_month AND l.county_code ^@ county
    UNION ALL
    SELECT d.county_code, d.month, d.id_number, d.post_id, NULL::bigint, d.amount_fen FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
  ), grouped AS (
    SELECT k.id_number, k.month, k.post_id, audit_sum(k.booked_fen) AS booked_fen, audit_sum(k.paid_fen) AS paid_fen,
           min(k.county_code) FILTER (WHERE k.paid_fen IS NULL) AS booked_county,
           max(k.county_code) FILTER (WHERE k.paid_fen IS NULL) AS booked_county_max,
           min(k.county_code) FILTER (WHERE k.paid_fen IS NOT NULL) AS paid_county
    FROM keyed k GROUP BY k.id_number, k.month, k.post_id
  ), loose AS (
    -- Person-months paid at least once without a post: matched as a whole.
    SELECT DISTINCT d.id_number, d.month FROM disbursement d
    WHERE d.post_id IS NULL AND d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
  ), kept AS MATERIALIZED (
    -- The groups that can hold a case, and every group of a person-month paid without a post.
    SELECT g.*, l.id_number IS NOT NULL AS loose
    FROM grouped g LEFT JOIN loose l ON l.id_number = g.id_number AND l.month = g.month
    WHERE g.paid_fen IS DISTINCT FROM coalesce(g.booked_fen, 0) OR l.id_number IS NOT NULL
  ), compared AS (
    -- The county of what was booked where anything was, else of the payments.
    SELECT coalesce(k.booked_county, k.paid_county) AS county_code, k.id_number, k.month, k.post_id,
           coalesce(k.booked_fen, 0) AS booked_fen, k.paid_fen
    FROM kept k WHERE NOT k.loose
    UNION ALL
    SELECT coalesce(min(k.booked_county), min(k.paid_county)), k.id_number, k.month,
           CASE WHEN count(k.booked_county) = 1 AND min(k.booked_county) = min(k.booked_county_max)
                THEN min(k.post_id) FILTER (WHERE k.booked_county IS NOT NULL) END,
           coalesce(sum(k.booked_fen), 0)::bigint, sum(k.paid_fen)::bigint
    FROM kept k WHERE k.loose GROUP BY k.id_number, k.month
  ), cases AS MATERIALIZED (
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
