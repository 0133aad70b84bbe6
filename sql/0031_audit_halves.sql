-- The audit's state half made cheaper (issue 17: `audit violations` within 1.5x of payroll_due).
-- Same cases, line for line (bench/audit.sh AUDIT_BEFORE=; AuditTests, HistoryTests,
-- EvidenceTests, AccessTests). The payment half (sql/0024's audit_payment_cases) is unchanged:
-- a variant grouping what was due and what was paid once was faster at 300,000 persons but
-- spilled to disk and was slower at 1,000,000 (README, Benchmarks), so it was not taken.

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
