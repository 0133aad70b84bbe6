-- History, part 2 (issue 13, SPEC §5 "Facts with history"): a person's category, labour
-- capacity, household, village and bank account each hold from a date. An import (or a
-- command) that changes them records the new values from a date and keeps the old ones before
-- it; every rule, payroll line and audit finding reads the values in force on the day it
-- concerns.
--
-- How it is kept, with the million-person import in mind: `person` holds the latest values
-- recorded, in force from `facts_from` (NULL: from the start — a new person's facts hold from
-- the start, there being nothing older to keep), and `person_history` holds only the older
-- values, each over the days it was in force. A new person or an unchanged one writes no
-- history row, so a first import and an unchanged re-import cost what they did; only a change
-- writes one. `person_version` is the two as one set of dated rows, never overlapping for one
-- person (the exclusion constraint between history rows, and a check against the current row),
-- and `person_facts_on(id, day)` is the person as on a day.

ALTER TABLE person ADD COLUMN facts_from date;

CREATE TABLE person_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The county of this version's village: households are counted per county.
  county_code     text COLLATE "C" NOT NULL,
  id_number       text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  -- The days these values were in force: [from, to), from NULL for the first values recorded.
  valid           daterange NOT NULL,
  household_id    text COLLATE "C" NOT NULL CHECK (btrim(household_id) <> ''),
  village_code    text COLLATE "C" NOT NULL CONSTRAINT person_history_village CHECK (right(village_code, 3) <> '000'),
  category        text NOT NULL CONSTRAINT person_history_category
                  CHECK (category IN ('poverty-alleviated', 'monitored', 'low-income', 'other')),
  labour_capacity text NOT NULL CONSTRAINT person_history_labour_capacity CHECK (labour_capacity IN ('full', 'weak', 'half', 'none')),
  bank_account    text CONSTRAINT person_history_bank_account
                  CHECK (length(bank_account) BETWEEN 10 AND 30 AND ltrim(bank_account, '0123456789') = ''),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT person_history_county CHECK (county_code = left(village_code, 6)),
  -- Older values end where newer ones begin: never open-ended, never empty.
  CONSTRAINT person_history_bounded CHECK (NOT upper_inf(valid) AND NOT isempty(valid)),
  -- Two values of a person's facts never hold on one day.
  CONSTRAINT person_facts_once EXCLUDE USING gist (id_number WITH =, valid WITH &&)
);
CREATE INDEX person_history_person ON person_history (county_code, id_number);

-- The other half of person_facts_once: older values end on or before the day the current ones
-- start, and a new person's facts hold from the start (nothing older is kept for them). One
-- join per statement, over the persons it wrote.
CREATE FUNCTION person_facts_in_order() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  bad text;
BEGIN
  IF TG_TABLE_NAME = 'person' AND TG_OP = 'INSERT' THEN
    SELECT n.id_number INTO bad FROM new_rows n WHERE n.facts_from IS NOT NULL LIMIT 1;
  ELSIF TG_TABLE_NAME = 'person' THEN
    SELECT n.id_number INTO bad FROM new_rows n JOIN person_history h ON h.id_number = n.id_number
    WHERE n.facts_from IS NULL OR upper(h.valid) > n.facts_from LIMIT 1;
  ELSE
    SELECT n.id_number INTO bad FROM new_rows n JOIN person p ON p.id_number = n.id_number
    WHERE p.facts_from IS NULL OR upper(n.valid) > p.facts_from LIMIT 1;
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'the facts of person % would hold twice on some day: older values must end where the current ones begin', bad
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'person_facts_once';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER person_facts_in_order_insert AFTER INSERT ON person
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_facts_in_order();
CREATE TRIGGER person_facts_in_order_update AFTER UPDATE ON person
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_facts_in_order();
CREATE TRIGGER person_history_in_order_insert AFTER INSERT ON person_history
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_facts_in_order();
CREATE TRIGGER person_history_in_order_update AFTER UPDATE ON person_history
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_facts_in_order();
REVOKE ALL ON FUNCTION person_facts_in_order() FROM PUBLIC;

-- Journaled like every domain table (sql/0005).
CREATE TRIGGER journal_insert AFTER INSERT ON person_history REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_update AFTER UPDATE ON person_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_delete AFTER DELETE ON person_history REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_truncate AFTER TRUNCATE ON person_history
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');

-- Access like person_status (sql/0007): the rows of persons the operator may see.
GRANT SELECT, INSERT, UPDATE ON person_history TO wp_township_admin, wp_county_admin;
GRANT SELECT ON person_history TO wp_finance, wp_auditor;
ALTER TABLE person_history ENABLE ROW LEVEL SECURITY;
-- As sql/0014's tables: the county range for county-level groups; a township also by the person.
CREATE POLICY in_county ON person_history TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]) AND id_number IN (SELECT id_number FROM person WHERE county_code >= ((SELECT operator_county_range()))[1] AND county_code < ((SELECT operator_county_range()))[2]));
CREATE POLICY in_township ON person_history TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[]) AND id_number IN (SELECT id_number FROM person WHERE county_code >= ((SELECT operator_county_range()))[1] AND county_code < ((SELECT operator_county_range()))[2]))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[]) AND id_number IN (SELECT id_number FROM person WHERE county_code >= ((SELECT operator_county_range()))[1] AND county_code < ((SELECT operator_county_range()))[2]));

-- Every version of every person's facts, each with the days it holds: what rules, payroll and
-- the audit join to placements by person and days.
CREATE VIEW person_version WITH (security_invoker = true) AS
  SELECT p.county_code, p.id_number, daterange(p.facts_from, NULL) AS valid, p.household_id, p.village_code,
         p.category, p.labour_capacity, p.bank_account
  FROM person p
  UNION ALL
  SELECT h.county_code, h.id_number, h.valid, h.household_id, h.village_code, h.category, h.labour_capacity, h.bank_account
  FROM person_history h;
GRANT SELECT ON person_version TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor;

-- A person's facts as on a day (no row: not a person the caller may see).
CREATE FUNCTION person_facts_on(person_id text, day date)
RETURNS TABLE (county_code text, household_id text, village_code text, category text, labour_capacity text,
               bank_account text, facts_from date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT v.county_code, v.household_id, v.village_code, v.category, v.labour_capacity, v.bank_account, lower(v.valid)
  FROM person_version v WHERE v.id_number = person_id AND v.valid @> day;
END;
GRANT EXECUTE ON FUNCTION person_facts_on(text, date) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- HOUSEHOLD_CAP with households as they were on each day: the most other members of the
-- person's household (as it was that day) in post on any one day from from_day to to_day
-- (NULL: from then on). Whole households, whatever the caller's region hides, for a person the
-- caller may see (sql/0013). The count rises only where a member's days in the household and
-- in post begin, so those days are the only ones counted.
DROP FUNCTION household_in_post(text, date);
CREATE FUNCTION household_in_post(member_id text, from_day date, to_day date DEFAULT NULL) RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH me AS (
    SELECT v.county_code, v.household_id, v.valid * daterange(from_day, to_day, '[]') AS r
    FROM person_version v JOIN person p ON p.id_number = v.id_number
    WHERE v.id_number = member_id AND p.village_code LIKE caller_scope() || '%' AND v.valid && daterange(from_day, to_day, '[]')
  ), others AS (
    SELECT m.r * o.valid * daterange(pl.start_on, pl.exit_on, '[]') AS r
    FROM me m
    JOIN person_version o ON o.county_code = m.county_code AND o.household_id = m.household_id
     AND o.id_number <> member_id AND o.valid && m.r
    JOIN placement pl ON pl.id_number = o.id_number AND daterange(pl.start_on, pl.exit_on, '[]') && (m.r * o.valid)
  )
  SELECT coalesce(max((SELECT count(*) FROM others o WHERE o.r @> lower(x.r))), 0)::int FROM others x
$$;
REVOKE ALL ON FUNCTION household_in_post(text, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION household_in_post(text, date, date) TO wp_township_admin, wp_county_admin;

-- The village-cadre rule with the household as it was on the day.
CREATE OR REPLACE FUNCTION household_has_cadre(member_id text, on_day date) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM person p
    JOIN person_version me ON me.id_number = p.id_number AND me.valid @> on_day
    JOIN person_version m ON m.county_code = me.county_code AND m.household_id = me.household_id
     AND m.id_number <> p.id_number AND m.valid @> on_day
    JOIN person_status s ON s.id_number = m.id_number
    WHERE p.id_number = member_id AND p.village_code LIKE caller_scope() || '%'
      AND s.status = 'village-cadre' AND s.valid_from <= on_day AND (s.valid_to IS NULL OR s.valid_to >= on_day))
$$;
