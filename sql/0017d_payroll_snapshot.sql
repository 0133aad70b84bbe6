-- History, part 4 (issue 13, SPEC §6): an approved month is a snapshot. Each line keeps the
-- name, bank account and standards it was run with (the lock triggers of 0004 keep them from
-- changing once the month is approved), and finance's export prints them, whatever changes
-- later. The seal of 0016 covers them from now on, as version 2 of the digest; months sealed
-- before keep verifying with version 1.

ALTER TABLE payroll_line
  ADD COLUMN name text,
  ADD COLUMN bank_account text,
  ADD COLUMN post_subsidy_standard_fen bigint,
  ADD COLUMN social_insurance_standard_fen bigint;

-- payroll_due (0004, 0008) again: the same amounts, now also with the standards they were
-- computed from, and optionally for some persons only (`persons`, NULL for all), so that the
-- audit can price a handful of findings without computing a province.
-- County filters with ^@ (starts_with), leakproof, as sql/0014 explains.
DROP FUNCTION payroll_due(date, date, text);
CREATE FUNCTION payroll_due(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH months AS (
    SELECT m::date AS first, (m + interval '1 month' - interval '1 day')::date AS last,
           extract(day FROM m + interval '1 month' - interval '1 day')::int AS days
    FROM generate_series(from_month, to_month, interval '1 month') m
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
    -- Standards are set at county level or above: one lookup per county, type and month.
    SELECT k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code ^@ county_prefix) k
    CROSS JOIN months m
    CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, m.first) s
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
GRANT EXECUTE ON FUNCTION payroll_due(date, date, text, text[])
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- The seal, version 2: version 1's columns (0016, unchanged, so months sealed with it still
-- verify) and the snapshot's. A run records the version it was sealed with.
ALTER TABLE payroll_run ADD COLUMN seal_version int NOT NULL DEFAULT 1;

CREATE FUNCTION payroll_lines_digest_v2(county text, first_day date) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp SET DateStyle = 'ISO, YMD' AS $$
  SELECT encode(sha256(convert_to(coalesce(string_agg(concat_ws(E'\x1f', l.id, l.county_code, l.month, l.for_month, l.kind,
           l.id_number, l.post_id, l.days_in_post, l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen,
           coalesce(l.name, E'\x1e'), coalesce(l.bank_account, E'\x1e'), coalesce(l.post_subsidy_standard_fen::text, E'\x1e'),
           coalesce(l.social_insurance_standard_fen::text, E'\x1e')), E'\x1e' ORDER BY l.id), ''), 'UTF8')), 'hex')
  FROM payroll_line l WHERE l.county_code = county AND l.month = first_day
$$;

-- The digest of a county-month as sealed with `version`.
CREATE FUNCTION payroll_lines_sealed(county text, first_day date, version int) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE version WHEN 1 THEN payroll_lines_digest(county, first_day) ELSE payroll_lines_digest_v2(county, first_day) END
$$;

CREATE OR REPLACE FUNCTION payroll_run_unlocked() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.state = 'approved' THEN
    RAISE EXCEPTION 'the payroll of % % is approved and can never change', OLD.county_code, to_char(OLD.month, 'YYYY-MM')
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_locked';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  NEW.seal_version := 2;
  NEW.lines_digest := CASE WHEN NEW.state = 'approved' THEN payroll_lines_sealed(NEW.county_code, NEW.month, 2) END;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION payroll_seals_broken() RETURNS TABLE (county_code text, month date, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  WITH journaled AS (
    SELECT DISTINCT ON (j.row_after ->> 'county_code', j.row_after ->> 'month')
           j.row_after ->> 'county_code' AS county_code, (j.row_after ->> 'month')::date AS month,
           j.row_after ->> 'lines_digest' AS lines_digest
    FROM journal j WHERE j.table_name = 'payroll_run' AND j.row_after IS NOT NULL
    ORDER BY j.row_after ->> 'county_code', j.row_after ->> 'month', j.seq DESC)
  SELECT r.county_code, r.month,
         CASE WHEN r.lines_digest IS DISTINCT FROM payroll_lines_sealed(r.county_code, r.month, r.seal_version) THEN 'lines changed'
              ELSE 'seal changed' END
  FROM payroll_run r LEFT JOIN journaled j ON j.county_code = r.county_code AND j.month = r.month
  WHERE r.state = 'approved'
    AND (r.lines_digest IS DISTINCT FROM payroll_lines_sealed(r.county_code, r.month, r.seal_version)
         OR j.lines_digest IS DISTINCT FROM r.lines_digest)
  ORDER BY r.county_code, r.month
$$;

REVOKE ALL ON FUNCTION payroll_lines_digest_v2(text, date), payroll_lines_sealed(text, date, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payroll_lines_digest_v2(text, date), payroll_lines_sealed(text, date, int) TO wp_county_admin, wp_auditor;

-- Finance's export prints what each line keeps. Lines run before this migration kept nothing:
-- for them (and only them: a snapshot line always has a name) the person's record stands in.
CREATE OR REPLACE VIEW payroll_export_line WITH (security_invoker = true) AS
SELECT l.month, l.county_code, t.name AS township, CASE WHEN v.level = 5 THEN v.name END AS village,
       l.post_id, p.post_type, pt.label_zh AS post_type_zh, p.funding_channel, fc.label_zh AS funding_channel_zh,
       CASE WHEN l.name IS NULL THEN pe.name ELSE l.name END AS name, l.id_number,
       CASE WHEN l.name IS NULL THEN pe.bank_account ELSE l.bank_account END AS bank_account, l.days_in_post,
       l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen, l.total_fen,
       p.region_code, l.kind, l.for_month,
       l.post_subsidy_standard_fen, l.social_insurance_standard_fen
FROM payroll_line l JOIN post p ON p.id = l.post_id JOIN person pe ON pe.id_number = l.id_number
JOIN region v ON v.code = p.region_code JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0')
JOIN post_type pt ON pt.code = p.post_type JOIN funding_channel fc ON fc.code = p.funding_channel;
