-- Selection and public notice (SPEC §13, issue 15): a vacant post is filled from applications
-- (报名), ranked by the policy's priority, and the intended holder is publicised (公示) before
-- the hire. `hire` refuses with NOT_PUBLICISED unless a notice for that person and post ended
-- before the start date with no upheld and no unresolved objection (when the policy in force
-- on the start requires notice days, see notice_days_on below).
--
-- The three tables belong to the post's county and region, as payroll lines do: the township
-- that manages a post manages who applied for it and its notices, whoever the applicants are.

-- Applications: one per person and post (applying again changes the date).
CREATE TABLE application (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code text COLLATE "C" NOT NULL,
  post_id     text COLLATE "C" NOT NULL REFERENCES post (id),
  id_number   text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  applied_on  date NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT application_county CHECK (post_id LIKE county_code || '-%'),
  CONSTRAINT application_once UNIQUE (county_code, post_id, id_number)
);

-- A notice (公示) of the intended holder of a post: from from_on for `days` calendar days, to
-- to_on inclusive. `contact` says where and to whom objections go (printed on the sheet).
CREATE TABLE notice (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code  text COLLATE "C" NOT NULL,
  post_id      text COLLATE "C" NOT NULL REFERENCES post (id),
  id_number    text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  from_on      date NOT NULL,
  days         int NOT NULL CONSTRAINT notice_days CHECK (days BETWEEN 1 AND 365),
  to_on        date NOT NULL GENERATED ALWAYS AS (from_on + (days - 1)) STORED,
  contact      text NOT NULL CHECK (btrim(contact) <> ''),
  published_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT notice_county CHECK (post_id LIKE county_code || '-%')
);
CREATE INDEX notice_post ON notice (county_code, post_id, id_number);

-- Objections (异议) raised during a notice, each resolved once: upheld (the hire may not
-- follow this notice) or dismissed, with a note of the finding.
CREATE TABLE notice_objection (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code text COLLATE "C" NOT NULL,
  notice_id   bigint NOT NULL REFERENCES notice (id),
  raised_on   date NOT NULL,
  reason      text NOT NULL CHECK (btrim(reason) <> ''),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  finding     text CONSTRAINT objection_finding CHECK (finding IN ('upheld', 'dismissed')),
  note        text,
  resolved_on date,
  CONSTRAINT objection_resolution CHECK ((finding IS NULL) = (resolved_on IS NULL) AND (finding IS NULL OR btrim(note) <> '')),
  CONSTRAINT objection_resolved_after CHECK (resolved_on >= raised_on)
);
CREATE INDEX notice_objection_notice ON notice_objection (county_code, notice_id);

-- An objection is raised within its notice's period, and a finding, once made, stands: a new
-- objection is how a case is reopened. (A constraint across two tables, and a rule on changes.)
CREATE FUNCTION notice_objection_kept() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.finding IS NOT NULL
     AND (NEW.finding, NEW.note, NEW.resolved_on) IS DISTINCT FROM (OLD.finding, OLD.note, OLD.resolved_on) THEN
    RAISE EXCEPTION 'objection % was resolved (%) on %: a finding stands; record a new objection to reopen the case',
      OLD.id, OLD.finding, OLD.resolved_on USING ERRCODE = 'check_violation', CONSTRAINT = 'objection_resolved_once';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM notice n WHERE n.id = NEW.notice_id AND NEW.raised_on BETWEEN n.from_on AND n.to_on) THEN
    RAISE EXCEPTION 'an objection is raised during its notice''s period'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'objection_within_notice';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER notice_objection_kept BEFORE INSERT OR UPDATE ON notice_objection
  FOR EACH ROW EXECUTE FUNCTION notice_objection_kept();
REVOKE ALL ON FUNCTION notice_objection_kept() FROM PUBLIC;

-- Notice days (SPEC §13: `policy eligibility … --notice-days N`), inherited value by value like
-- the other eligibility values; default 0: no notice required.
ALTER TABLE eligibility_policy ADD COLUMN notice_days int CONSTRAINT eligibility_notice_days CHECK (notice_days BETWEEN 0 AND 365);

-- The notice days in force in a region on a day.
CREATE FUNCTION notice_days_on(region text, day date) RETURNS int LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce((SELECT e.notice_days FROM eligibility_policy e JOIN region_lineage(region) l ON l.ancestor = e.region_code
                   WHERE e.effective_from <= day AND e.notice_days IS NOT NULL
                   ORDER BY l.level DESC, e.effective_from DESC LIMIT 1), 0);
END;
GRANT EXECUTE ON FUNCTION notice_days_on(text, date)
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- Journaled like every domain table (sql/0005, 0009).
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['application', 'notice', 'notice_objection'] LOOP
    EXECUTE format('CREATE TRIGGER journal_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(id)', t);
    EXECUTE format('CREATE TRIGGER journal_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(id)', t);
    EXECUTE format('CREATE TRIGGER journal_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(id)', t);
    EXECUTE format('CREATE TRIGGER journal_truncate AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(id)', t);
  END LOOP;
END $$;

-- Access (sql/0007): administrators take applications and run notices; auditors read them.
REVOKE ALL ON application, notice, notice_objection FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON application, notice, notice_objection TO wp_township_admin, wp_county_admin;
GRANT SELECT ON application, notice, notice_objection TO wp_auditor;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wp_township_admin, wp_county_admin, wp_finance;

-- Row-level security as the neighbours have it: the county first (a range on the leading key),
-- then the post's region for applications and notices, and the notice's for objections.
ALTER TABLE application ENABLE ROW LEVEL SECURITY;
-- As sql/0014's tables: the county range for county-level groups; a township also by the parent.
CREATE POLICY in_county ON application TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND post_id IN (SELECT id FROM post));
CREATE POLICY in_township ON application TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post));

ALTER TABLE notice ENABLE ROW LEVEL SECURITY;
-- As sql/0014's tables: the county range for county-level groups; a township also by the parent.
CREATE POLICY in_county ON notice TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND post_id IN (SELECT id FROM post));
CREATE POLICY in_township ON notice TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post));

ALTER TABLE notice_objection ENABLE ROW LEVEL SECURITY;
-- As sql/0014's tables: the county range for county-level groups; a township also by the parent.
CREATE POLICY in_county ON notice_objection TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND notice_id IN (SELECT id FROM notice));
CREATE POLICY in_township ON notice_objection TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND notice_id IN (SELECT id FROM notice))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND notice_id IN (SELECT id FROM notice));
