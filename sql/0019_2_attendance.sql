-- Daily attendance (考勤, SPEC §14, issue 15): the evidence that a person worked. A province's
-- month is a million persons × 30 days; it is kept as one row per person and month, the days
-- encoded as one character each:
--   P present (出勤)   A absent (缺勤)   L leave (请假)   - nothing recorded
-- so `PPPPAPP-…` reads as the 签到 book does, a month is 31 bytes, and a province's month is a
-- million rows, imported by COPY and one INSERT … SELECT.
--
-- The row belongs to the county of the person's placement in that month (where the post is),
-- as placements and assessments do.
CREATE TABLE attendance (
  county_code text COLLATE "C" NOT NULL,
  id_number   text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  month       date NOT NULL CONSTRAINT attendance_month CHECK (extract(day FROM month) = 1),
  days        text COLLATE "C" NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (county_code, id_number, month),
  -- One character per day of the month, each one of P, A, L, -.
  CONSTRAINT attendance_days CHECK (length(days) = extract(day FROM month + interval '1 month' - interval '1 day')
                                    AND ltrim(days, 'PAL-') = '')
);

-- What a later import of the same person and month does: its recorded days replace those
-- days, the days it leaves out keep what was recorded (a book handed in week by week).
CREATE FUNCTION attendance_overlay(old text, new text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN strpos(new, '-') = 0 OR new = old OR old = repeat('-', length(old)) THEN new
              ELSE (SELECT string_agg(CASE WHEN substr(new, i, 1) = '-' THEN substr(old, i, 1) ELSE substr(new, i, 1) END, '' ORDER BY i)
                    FROM generate_series(1, length(new)) i) END;
END;

-- How many days of `days` from day `first` to day `last` (1-based, inclusive) have `status`.
CREATE FUNCTION attendance_count(days text, status text, first int, last int) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT length(substr(days, first, greatest(last - first + 1, 0))) - length(replace(substr(days, first, greatest(last - first + 1, 0)), status, ''));
END;

-- Evidence policy (SPEC §14: `policy evidence --region C --from YYYY-MM --require
-- none|assessment|attendance`), effective-dated from the first of a month, set at county level
-- or above and inherited value by value like eligibility; with it the paid leave days a month
-- (a leave day beyond them reduces the post subsidy like an absence). Defaults: none, 0.
CREATE TABLE evidence_policy (
  region_code     text NOT NULL REFERENCES region (code)
                  CONSTRAINT evidence_region CHECK (is_policy_region(region_code)),
  county_code     text GENERATED ALWAYS AS (CASE WHEN region_level(region_code) = 3 THEN left(region_code, 6) END) STORED,
  effective_from  date NOT NULL CONSTRAINT evidence_month_start CHECK (extract(day FROM effective_from) = 1),
  require         text CONSTRAINT evidence_require CHECK (require IN ('none', 'assessment', 'attendance')),
  paid_leave_days int CONSTRAINT evidence_paid_leave_days CHECK (paid_leave_days BETWEEN 0 AND 31),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (region_code, effective_from)
);

-- The evidence policy in force in a region on a day, defaults filled in.
CREATE FUNCTION evidence_on(region text, day date) RETURNS TABLE (require text, paid_leave_days int)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce((SELECT e.require FROM evidence_policy e JOIN region_lineage(region) l ON l.ancestor = e.region_code
                   WHERE e.effective_from <= day AND e.require IS NOT NULL ORDER BY l.level DESC, e.effective_from DESC LIMIT 1), 'none'),
         coalesce((SELECT e.paid_leave_days FROM evidence_policy e JOIN region_lineage(region) l ON l.ancestor = e.region_code
                   WHERE e.effective_from <= day AND e.paid_leave_days IS NOT NULL ORDER BY l.level DESC, e.effective_from DESC LIMIT 1), 0);
END;

GRANT EXECUTE ON FUNCTION attendance_overlay(text, text), attendance_count(text, text, int, int), evidence_on(text, date)
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- Journaled like every domain table (sql/0005, 0009).
CREATE TRIGGER journal_insert AFTER INSERT ON attendance REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(county_code, id_number, month);
CREATE TRIGGER journal_update AFTER UPDATE ON attendance REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(county_code, id_number, month);
CREATE TRIGGER journal_delete AFTER DELETE ON attendance REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(county_code, id_number, month);
CREATE TRIGGER journal_truncate AFTER TRUNCATE ON attendance
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(county_code, id_number, month);
CREATE TRIGGER journal_insert AFTER INSERT ON evidence_policy REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(region_code, effective_from);
CREATE TRIGGER journal_update AFTER UPDATE ON evidence_policy REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(region_code, effective_from);
CREATE TRIGGER journal_delete AFTER DELETE ON evidence_policy REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(region_code, effective_from);
CREATE TRIGGER journal_truncate AFTER TRUNCATE ON evidence_policy
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(region_code, effective_from);

-- Access (sql/0007): administrators record attendance as they record assessments; finance
-- reads what payroll is made of; auditors read everything. Evidence policy is county policy.
REVOKE ALL ON attendance, evidence_policy FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON attendance TO wp_township_admin, wp_county_admin;
GRANT SELECT ON attendance TO wp_finance, wp_auditor;
GRANT SELECT ON evidence_policy TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor;
GRANT INSERT, UPDATE, DELETE ON evidence_policy TO wp_county_admin;

-- A person's month belongs to the region of their record or of their post (the township of a
-- post records its holder's attendance, whose record it may not see), as placements do.
ALTER TABLE attendance ENABLE ROW LEVEL SECURITY;
-- As sql/0014's tables: the county range for county-level groups; a township also by the parent.
CREATE POLICY in_county ON attendance TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND (id_number IN (SELECT id_number FROM person) OR id_number IN (SELECT id_number FROM placement)));
CREATE POLICY in_township ON attendance TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND (id_number IN (SELECT id_number FROM person) OR id_number IN (SELECT id_number FROM placement)))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND (id_number IN (SELECT id_number FROM person) OR id_number IN (SELECT id_number FROM placement)));

ALTER TABLE evidence_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_lineage ON evidence_policy FOR SELECT
  USING (region_code LIKE (SELECT operator_scope()) || '%' OR (SELECT operator_scope()) LIKE region_prefix(region_code) || '%');
CREATE POLICY county_writes ON evidence_policy FOR INSERT TO wp_county_admin
  WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_updates ON evidence_policy FOR UPDATE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0')) WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_deletes ON evidence_policy FOR DELETE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0'));
