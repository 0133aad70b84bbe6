-- The seal of an approved payroll (SPEC §6, §11; issue 11 item 7).
--
-- What holds without it: no operator role can change an approved month by any statement
-- (privileges, row-level security, and the lock triggers of sql/0004, whose names are bound
-- by sql/0013). What does not: a superuser or the tables' owner can switch triggers off
-- (`SET session_replication_role = replica`, `ALTER TABLE … DISABLE TRIGGER`) and change lines
-- with no journal entry. Such a change cannot be prevented inside the database; it can be
-- found. On approval the run records a digest of its lines; the approval is journaled, so the
-- digest is in the hash chain. `journal verify` recomputes every approved month's digest and
-- compares it with the run's and with the journal's. To rewrite a month unseen one must then
-- rewrite the lines, the run and the journal's chain from that entry on — which only a hash
-- of the chain kept outside the database (printed by `journal verify`, checked again with
-- `journal verify --entry N --hash H`) reveals.

ALTER TABLE payroll_run ADD COLUMN lines_digest text;

-- SHA-256 of a county-month's lines, in the order they were written, each line its columns
-- as text in a fixed order. A migration that adds a column to payroll_line keeps this list
-- as it is (or versions the digest): approved months must keep verifying. With the owner's
-- rights, so a seal never depends on what the approver's region shows; it tells a hash only.
CREATE FUNCTION payroll_lines_digest(county text, first_day date) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp SET DateStyle = 'ISO, YMD' AS $$
  SELECT encode(sha256(convert_to(coalesce(string_agg(concat_ws(E'\x1f', l.id, l.county_code, l.month, l.for_month, l.kind,
           l.id_number, l.post_id, l.days_in_post, l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen), E'\x1e'
           ORDER BY l.id), ''), 'UTF8')), 'hex')
  FROM payroll_line l WHERE l.county_code = county AND l.month = first_day
$$;

-- An approved run stays approved and stays; a run is sealed as it becomes approved, however
-- it becomes so (by the tool, or by an INSERT or UPDATE from psql).
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
  NEW.lines_digest := CASE WHEN NEW.state = 'approved' THEN payroll_lines_digest(NEW.county_code, NEW.month) END;
  RETURN NEW;
END $$;
DROP TRIGGER payroll_run_locked ON payroll_run;
CREATE TRIGGER payroll_run_locked BEFORE INSERT OR UPDATE OR DELETE ON payroll_run
  FOR EACH ROW EXECUTE FUNCTION payroll_run_unlocked();

-- Months approved before this migration are sealed now, as they stand (journaled as an update
-- of each run).
ALTER TABLE payroll_run DISABLE TRIGGER payroll_run_locked;
UPDATE payroll_run SET lines_digest = payroll_lines_digest(county_code, month) WHERE state = 'approved';
ALTER TABLE payroll_run ENABLE TRIGGER payroll_run_locked;

-- Approved months whose lines are not what was approved: `lines changed` when the lines no
-- longer give the run's digest, `seal changed` when the run's digest is not the one its
-- approval journaled. With the caller's rights: an auditor checks the months of their region.
CREATE FUNCTION payroll_seals_broken() RETURNS TABLE (county_code text, month date, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  WITH journaled AS (
    SELECT DISTINCT ON (j.row_after ->> 'county_code', j.row_after ->> 'month')
           j.row_after ->> 'county_code' AS county_code, (j.row_after ->> 'month')::date AS month,
           j.row_after ->> 'lines_digest' AS lines_digest
    FROM journal j WHERE j.table_name = 'payroll_run' AND j.row_after IS NOT NULL
    ORDER BY j.row_after ->> 'county_code', j.row_after ->> 'month', j.seq DESC)
  SELECT r.county_code, r.month,
         CASE WHEN r.lines_digest IS DISTINCT FROM payroll_lines_digest(r.county_code, r.month) THEN 'lines changed'
              ELSE 'seal changed' END
  FROM payroll_run r LEFT JOIN journaled j ON j.county_code = r.county_code AND j.month = r.month
  WHERE r.state = 'approved'
    AND (r.lines_digest IS DISTINCT FROM payroll_lines_digest(r.county_code, r.month)
         OR j.lines_digest IS DISTINCT FROM r.lines_digest)
  ORDER BY r.county_code, r.month
$$;

-- The hash of one journal entry, to compare with one kept outside the database. Tells a hash
-- only; any auditor may ask it of any entry, as journal_verify reads the whole chain.
CREATE FUNCTION journal_hash_at(entry bigint) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT encode(j.hash, 'hex') FROM journal j WHERE j.seq = entry
$$;

REVOKE ALL ON FUNCTION payroll_lines_digest(text, date), payroll_seals_broken(), journal_hash_at(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payroll_seals_broken(), journal_hash_at(bigint) TO wp_auditor;
-- Approving (the lock trigger seals with the approver's rights) and verifying.
GRANT EXECUTE ON FUNCTION payroll_lines_digest(text, date) TO wp_county_admin, wp_auditor;
