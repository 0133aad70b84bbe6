-- The audit's halves made cheaper (issue 17: `audit violations` within 1.5x of payroll_due).
-- Same cases, line for line (bench/audit.sh AUDIT_BEFORE=; AuditTests, HistoryTests,
-- EvidenceTests, AccessTests).
--
-- The payment half (sql/0024's audit_payment_cases): what was due, the approved adjustments and
-- the payments were grouped three times (booked by county, person, month and post; then again
-- by person, month and post, for a post that moved county or a month paid without a post; the
-- payments by person, month and post) and the two sides met in a full join. They are now one
-- stream grouped once by person, month and post (person and month where paid without a post),
-- with the sums of each side and the county of what was booked (else of the payments): the
-- same groups, as a full join of two sets grouped on the same key gives one row per key. The
-- post named for a month paid without a post is the one post booked when exactly one post in
-- one county was booked (before: one row of the full join of due and adjustments, which is one
-- county and post, as both are unique on county, month, person and post). Groups whose
-- payments add up to what was booked are dropped at once: no rule can find a case in them
-- (payments are never negative), so only the rest are matched with the approved payrolls.

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
    -- What is due, the approved adjustments and the payments, as one stream (paid_fen NULL
    -- for what is booked) grouped once below.
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
  ), loose AS (
    -- Person-months paid at least once without a post: matched as a whole.
    SELECT DISTINCT d.id_number, d.month FROM disbursement d
    WHERE d.post_id IS NULL AND d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
  ), grouped AS (
    SELECT k.id_number, k.month, CASE WHEN l.id_number IS NULL THEN k.post_id ELSE '' END AS post_key,
           sum(k.booked_fen)::bigint AS booked_fen, sum(k.paid_fen)::bigint AS paid_fen,
           min(k.county_code) FILTER (WHERE k.paid_fen IS NULL) AS booked_county,
           min(k.county_code) FILTER (WHERE k.paid_fen IS NOT NULL) AS paid_county,
           -- Only where paid without a post: whether one post in one county was booked.
           max(k.county_code) FILTER (WHERE l.id_number IS NOT NULL AND k.paid_fen IS NULL) AS loose_county_max,
           min(k.post_id) FILTER (WHERE l.id_number IS NOT NULL AND k.paid_fen IS NULL) AS loose_post,
           max(k.post_id) FILTER (WHERE l.id_number IS NOT NULL AND k.paid_fen IS NULL) AS loose_post_max
    FROM keyed k LEFT JOIN loose l ON l.id_number = k.id_number AND l.month = k.month
    GROUP BY k.id_number, k.month, CASE WHEN l.id_number IS NULL THEN k.post_id ELSE '' END
    -- Where the payments add up to what was booked there is no case (payments are never
    -- negative): only the other groups go on.
    HAVING sum(k.paid_fen) IS DISTINCT FROM coalesce(sum(k.booked_fen), 0)
  ), compared AS (
    -- One group per person, month and post (or person and month where paid without a post):
    -- the county of what was booked where anything was, else of the payments; a group paid
    -- without a post names its post where one post in one county was booked.
    SELECT coalesce(g.booked_county, g.paid_county) AS county_code, g.id_number, g.month,
           CASE WHEN g.post_key = '' THEN CASE WHEN g.booked_county = g.loose_county_max AND g.loose_post = g.loose_post_max
                                               THEN g.loose_post END
                ELSE g.post_key END AS post_id,
           coalesce(g.booked_fen, 0) AS booked_fen, g.paid_fen
    FROM grouped g
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

-- PAID_TO_OTHER_ACCOUNT (sql/0017e): the same rows. Its filters were the settings' expressions
-- of audit_range, which the planner could not estimate (190 payments for a province's million),
-- so it joined every payment to its post, sorted the million by person for the history and
-- hashed them; with the dates as values, it compares each payment with its person's account in
-- one hash join and looks up the post of the few that differ.
CREATE OR REPLACE FUNCTION audit_paid_to_other_account_rows()
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
  RETURN QUERY
  WITH other AS MATERIALIZED (
    SELECT d.county_code, d.id_number, d.post_id, d.paid_on, d.month, d.amount_fen, d.bank_account, pe.village_code
    FROM disbursement d
    JOIN person pe ON pe.id_number = d.id_number
    LEFT JOIN person_history h ON h.id_number = d.id_number AND h.valid @> d.paid_on
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
      AND d.bank_account IS DISTINCT FROM CASE WHEN h.id IS NULL THEN pe.bank_account ELSE h.bank_account END
  )
  SELECT 'PAID_TO_OTHER_ACCOUNT'::text, d.county_code, township_of(d.region_code), village_of(d.region_code), d.region_code,
         d.id_number, d.post_id, d.paid_on, d.paid_on, d.month, d.amount_fen,
         format('%s for %s paid on %s to account %s, which was not the person''s registered account that day: recover it and pay the registered account',
                yuan_text(d.amount_fen), to_char(d.month, 'YYYY-MM'), d.paid_on, mask_account(d.bank_account)),
         format('%s 的 %s 元于 %s 发放至非本人当日登记账户 %s：应追回并发放至本人账户',
                to_char(d.month, 'YYYY-MM'), yuan_text(d.amount_fen), d.paid_on, mask_account(d.bank_account)),
         (SELECT r.basis FROM audit_rule r WHERE r.code = 'PAID_TO_OTHER_ACCOUNT')
  FROM (SELECT o.*, coalesce((SELECT po.region_code FROM post po WHERE po.id = o.post_id), o.village_code) AS region_code
        FROM other o) d;
END $$;

-- DUPLICATE_PAYMENT (sql/0017e): the same rows, with the dates as values; the keys paid more
-- than once are found by sorting the narrow columns (cheaper here than hashing a million keys
-- of which a few hundred repeat). The view keeps its columns and their collations.
CREATE FUNCTION audit_duplicate_payment_rows()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen numeric, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET enable_hashagg = off SET work_mem = '256MB' SET jit = off
SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  from_month date := audit_from_month();
  to_month date := audit_to_month();
  as_of date := audit_as_of();
  county text := audit_county();
BEGIN
  RETURN QUERY
  WITH twice AS MATERIALIZED (
    -- The few keys paid more than once, found on the narrow columns first.
    SELECT DISTINCT x.id_number, x.month FROM disbursement x
    WHERE x.month BETWEEN from_month AND to_month AND x.paid_on <= as_of AND x.county_code ^@ county
    GROUP BY x.id_number, x.post_id, x.month HAVING count(*) > 1
  ), g AS MATERIALIZED (
    SELECT min(d.county_code) AS county_code, d.id_number, d.post_id, d.month, count(*) AS payments,
           array_agg(d.amount_fen ORDER BY d.paid_on, d.file_id, d.line) AS amounts,
           string_agg(yuan_text(d.amount_fen) || ' on ' || d.paid_on, ', ' ORDER BY d.paid_on, d.file_id, d.line) AS list,
           string_agg(d.paid_on || ' ' || yuan_text(d.amount_fen) || ' 元', '，' ORDER BY d.paid_on, d.file_id, d.line) AS list_zh
    FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
      AND (d.id_number, d.month) IN (SELECT t.id_number, t.month FROM twice t)
    GROUP BY d.id_number, d.post_id, d.month
    HAVING count(*) > 1
  ), a AS (
    SELECT g.*, CASE WHEN g.post_id IS NULL
                     THEN greatest(1, (SELECT count(DISTINCT pl.post_id) FROM placement pl
                                       WHERE pl.id_number = g.id_number AND pl.start_on <= (g.month + interval '1 month' - interval '1 day')::date
                                         AND (pl.exit_on IS NULL OR pl.exit_on >= g.month)))::int
                     ELSE 1 END AS allowed
    FROM g
  ), d AS (
    SELECT a.county_code, a.id_number, a.post_id, a.month, a.payments, a.list, a.list_zh, a.allowed,
           (SELECT coalesce(sum(x), 0) FROM unnest(a.amounts[a.allowed + 1:]) x)::numeric AS amount_fen,
           coalesce((SELECT po.region_code FROM post po WHERE po.id = a.post_id),
                    (SELECT pe.village_code FROM person pe WHERE pe.id_number = a.id_number)) AS region_code
    FROM a WHERE a.payments > a.allowed
  )
  SELECT 'DUPLICATE_PAYMENT'::text, d.county_code, township_of(d.region_code), village_of(d.region_code), d.region_code, d.id_number, d.post_id,
         d.month, (d.month + interval '1 month' - interval '1 day')::date, d.month, d.amount_fen,
         CASE WHEN d.allowed = 1
              THEN format('paid %s times for %s (%s): recover the payments after the first', d.payments, to_char(d.month, 'YYYY-MM'), d.list)
              ELSE format('paid %s times for %s without a post, for the %s posts held that month (%s): recover the payments after the first %s',
                          d.payments, to_char(d.month, 'YYYY-MM'), d.allowed, d.list, d.allowed) END,
         CASE WHEN d.allowed = 1
              THEN format('%s 重复发放 %s 次（%s）：应追回首笔之外的款项', to_char(d.month, 'YYYY-MM'), d.payments, d.list_zh)
              ELSE format('%s 未注明岗位发放 %s 次，当月在岗 %s 个岗位（%s）：应追回前 %s 笔之外的款项',
                          to_char(d.month, 'YYYY-MM'), d.payments, d.allowed, d.list_zh, d.allowed) END,
         (SELECT r.basis FROM audit_rule r WHERE r.code = 'DUPLICATE_PAYMENT')
  FROM d;
END $$;

CREATE OR REPLACE VIEW audit_duplicate_payment WITH (security_invoker = true) AS
  SELECT d.rule, d.county_code COLLATE "C" AS county_code, d.township_code COLLATE "C" AS township_code,
         d.village_code COLLATE "C" AS village_code, d.region_code COLLATE "C" AS region_code, d.id_number COLLATE "C" AS id_number,
         d.post_id COLLATE "C" AS post_id, d.from_on, d.to_on, d.month, d.amount_fen, d.explanation, d.explanation_zh, d.basis
  FROM audit_duplicate_payment_rows() d;

REVOKE ALL ON FUNCTION audit_duplicate_payment_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_duplicate_payment_rows() TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;
