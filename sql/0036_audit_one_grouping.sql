-- The audit's payment half grouped once (issue 17: `audit violations` within 1.5x of
-- payroll_due). Same cases, line for line (bench/audit.sh AUDIT_BEFORE=; AuditTests,
-- HistoryTests, EvidenceTests, AccessTests).
--
-- sql/0024's audit_payment_cases grouped what was due three times over: booked (due full-joined
-- with the approved adjustments) regrouped by person, month and post (for a post that moved
-- county and for months paid without a post), the payments grouped on the same key, and the two
-- met in a full join. Now what is due, the approved adjustments and the payments are one stream
-- grouped once by person, month and post, with sums kept as bigint (audit_sum: int8pl, no
-- numeric state to allocate per group, the same total; an overflow is an error as the cast of
-- the numeric sum was) and the counties as min/max: the same groups, as a full join of two sets
-- grouped on the same key gives one row per key. Groups paid exactly what was booked can hold
-- no case (payments are never negative: disbursement_amount_bounds) and are dropped, except
-- those of a person-month paid at least once without a post, which are regrouped by person and
-- month as before; such a group names its post where exactly one post was booked, in one
-- county (before: the one row of due full-joined with the adjustments, each unique on county,
-- month, person and post).
--
-- sql/0031 tried one grouping with a dozen text and numeric states per group: it spilled to
-- disk at 1,000,000 persons. This one keeps five narrow states per group (two bigint sums,
-- three six-character county codes).

-- sum(bigint) without numeric: int8pl (strict) starts from the first non-null value, skips
-- nulls and gives null for none, as sum does.
CREATE AGGREGATE audit_sum(bigint) (SFUNC = int8pl, STYPE = bigint);
REVOKE ALL ON FUNCTION audit_sum(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_sum(bigint) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

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
  WITH keyed AS (
    -- What is due, the approved adjustments (both booked: paid_fen NULL) and the payments.
    SELECT d.county_code, d.month, d.id_number, d.post_id, (d.post_subsidy_fen + d.social_insurance_fen) AS booked_fen, NULL::bigint AS paid_fen
    FROM payroll_due(from_month, to_month, county) d
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

-- The approved adjustments and the months paid without a post are few among a province's
-- lines and payments, but each report found them by reading every line and every payment
-- (the credit of audit_payment_case, sql/0020, read each approved month's lines of its county
-- through payroll_line_once: 1.6 s of CPU at 1,000,000 persons, for no adjustment at all).
-- Partial indexes hold only those rows; a regular line or a payment with a post is not put in
-- them.
CREATE INDEX payroll_line_adjustment ON payroll_line (county_code, month) WHERE kind = 'adjustment';
CREATE INDEX disbursement_without_post ON disbursement (county_code, id_number, month) WHERE post_id IS NULL;

-- audit_stake looks its persons up with `= ANY (ids)`, an array of up to a province's
-- thousands of IDs, which PostgreSQL hashes only when the array is a constant: in a custom
-- plan. PL/pgSQL switches to a generic plan after five calls in one session, and the report's
-- state half calls audit_stake three times (INELIGIBLE_IN_POST, OVER_AGE_IN_POST,
-- DECEASED_IN_POST): a session's second report then compared each line with every ID (the
-- state half at 300,000 persons took 78 s of CPU instead of 6 s). Always a custom plan.
ALTER FUNCTION audit_stake(jsonb, boolean) SET plan_cache_mode = force_custom_plan;
