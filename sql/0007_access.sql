-- Access (SPEC §11): each operator logs in to PostgreSQL as their own role, has one role and
-- one region, and sees and changes only rows of that region and below. The database enforces
-- it — privileges by group role, row-level security by region — so psql gets no further than
-- the tool. Row-level security does not bind the tables' owner (the migration owner) or
-- superusers: operators must log in as ordinary roles that own nothing.

-- One NOLOGIN group role per operator role. Roles are cluster-wide, so create them only once.
DO $$
DECLARE g text;
BEGIN
  FOREACH g IN ARRAY ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', g);
    END IF;
  END LOOP;
END $$;

-- The significant digits of a region code: everything under it starts with them.
CREATE FUNCTION region_prefix(code text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT left(code, CASE region_level(code) WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 6 WHEN 4 THEN 9 ELSE 12 END)
$$;

-- The operators: one login, one role, one region. Passwords are PostgreSQL's business
-- (ALTER ROLE … PASSWORD or certificates, as pg_hba.conf says); nothing secret is kept here.
CREATE TABLE operator (
  login       text PRIMARY KEY,
  role        text NOT NULL CONSTRAINT operator_role
              CHECK (role IN ('township-admin', 'county-admin', 'finance', 'auditor', 'system-admin')),
  region_code text COLLATE "C" NOT NULL REFERENCES region (code),
  added_at    timestamptz NOT NULL DEFAULT now(),
  added_by    text NOT NULL DEFAULT session_user,
  -- A township admin works for a township, a county admin for a county; finance and auditors
  -- for a county or anything above it.
  CONSTRAINT operator_region CHECK (CASE role
    WHEN 'township-admin' THEN region_level(region_code) = 4
    WHEN 'county-admin' THEN region_level(region_code) = 3
    WHEN 'system-admin' THEN true
    ELSE region_level(region_code) <= 3 END)
);

-- The logged-in operator's region prefix and role; NULL for anyone who is not an operator (who
-- then sees no domain rows at all). session_user, because inside a SECURITY DEFINER function
-- current_user is the owner. STABLE and called as `(SELECT operator_scope())` in policies, so a
-- query computes it once.
CREATE FUNCTION operator_scope() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT region_prefix(region_code) FROM operator WHERE login = session_user
$$;

CREATE FUNCTION operator_role() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT role FROM operator WHERE login = session_user
$$;

CREATE FUNCTION operator_region() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT region_code FROM operator WHERE login = session_user
$$;

-- Whether a post or person exists at all, whoever may see it: lets the tool say "outside your
-- region" instead of "not found". It tells only that the key exists.
CREATE FUNCTION post_exists(post_id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM post WHERE id = post_id)
$$;

CREATE FUNCTION person_exists(id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM person WHERE id_number = id)
$$;

-- Of the given resident IDs, those registered outside the operator's region: an import by a
-- township must not take over another township's person.
CREATE FUNCTION persons_outside_region(ids text[]) RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT p.id_number FROM person p
  WHERE p.id_number = ANY (ids) AND p.village_code NOT LIKE coalesce(operator_scope(), '') || '%'
$$;

-- The household rules (HOUSEHOLD_CAP, a village cadre in the household) count every member of
-- the household, wherever they live or work in the county: an operator's region must not hide
-- a member in post in another township's post.
CREATE FUNCTION household_in_post(member_id text, from_day date) RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  -- Most other household members in post on any one day from from_day on.
  WITH me AS (SELECT county_code, household_id, id_number FROM person WHERE id_number = member_id),
  others AS (
    SELECT daterange(pl.start_on, pl.exit_on, '[]') AS r FROM me
    JOIN person m ON m.county_code = me.county_code AND m.household_id = me.household_id AND m.id_number <> me.id_number
    JOIN placement pl ON pl.id_number = m.id_number
    WHERE daterange(pl.start_on, pl.exit_on, '[]') && daterange(from_day, NULL, '[]'))
  SELECT coalesce(max((SELECT count(*) FROM others o WHERE o.r @> x.d)), 0)::int
  FROM (SELECT from_day AS d UNION SELECT lower(r) FROM others WHERE lower(r) > from_day) x
$$;

CREATE FUNCTION household_cadres(member_id text, on_day date) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT string_agg(m.name, ',' ORDER BY m.name)
  FROM person p JOIN person m ON m.county_code = p.county_code AND m.household_id = p.household_id AND m.id_number <> p.id_number
  JOIN person_status s ON s.id_number = m.id_number
  WHERE p.id_number = member_id AND s.status = 'village-cadre' AND s.valid_from <= on_day AND (s.valid_to IS NULL OR s.valid_to >= on_day)
$$;

-- Adds an operator or changes their role or region: creates the login role if missing (without
-- a password: the DBA sets one, or a certificate), puts it in exactly one group role, records
-- the region. Runs as the migration owner, which needs CREATEROLE; only system administrators
-- may call it.
CREATE FUNCTION operator_add(new_login text, new_role text, new_region text) RETURNS operator
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  groups constant text[] := ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin'];
  target text := 'wp_' || replace(new_role, '-', '_');
  g text;
  added operator;
BEGIN
  IF NOT target = ANY (groups) THEN
    RAISE EXCEPTION 'unknown operator role %', new_role USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF new_login = ANY (groups) OR new_login = current_user OR new_login LIKE 'pg\_%'
     OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_login AND (rolsuper OR rolbypassrls OR rolcreaterole))
     OR EXISTS (SELECT 1 FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = new_login)) THEN
    -- Row-level security would not bind such a role: it cannot be an operator.
    RAISE EXCEPTION 'role % is a superuser, an owner or an administrative role and cannot be an operator', new_login
      USING ERRCODE = 'invalid_parameter_value', CONSTRAINT = 'operator_login';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_login) THEN
    EXECUTE format('CREATE ROLE %I LOGIN', new_login);
  END IF;
  FOREACH g IN ARRAY groups LOOP
    IF g <> target AND pg_has_role(new_login, g, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', g, new_login);
    END IF;
  END LOOP;
  IF NOT pg_has_role(new_login, target, 'MEMBER') THEN
    EXECUTE format('GRANT %I TO %I', target, new_login);
  END IF;
  INSERT INTO operator AS o (login, role, region_code) VALUES (new_login, new_role, new_region)
  ON CONFLICT (login) DO UPDATE SET role = EXCLUDED.role, region_code = EXCLUDED.region_code,
    added_at = now(), added_by = session_user
  RETURNING * INTO added;
  RETURN added;
END $$;

-- Removes an operator: the record and the group membership. The login role itself stays (it
-- is cluster-wide and may be used elsewhere); without a group it can read nothing here.
CREATE FUNCTION operator_remove(old_login text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE g text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM operator WHERE login = old_login) THEN RETURN false; END IF;
  FOREACH g IN ARRAY ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin'] LOOP
    IF pg_has_role(old_login, g, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', g, old_login);
    END IF;
  END LOOP;
  DELETE FROM operator WHERE login = old_login;
  RETURN true;
END $$;

REVOKE ALL ON FUNCTION operator_add(text, text, text), operator_remove(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_add(text, text, text), operator_remove(text) TO wp_system_admin;

-- A region's persons are kept out of sight of those who delete or renumber regions, but the
-- check that none lives there must see them all.
ALTER FUNCTION region_not_in_use() SECURITY DEFINER SET search_path = public, pg_temp;

-- Privileges: what each role's column of SPEC §11 allows, and nothing else.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT SELECT ON region, person_category, labour_capacity, person_status_kind, post_type, funding_channel,
  contract_kind, exit_reason, assessment_result, schema_migration
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- Township admin: persons of its villages; propose posts (and word their developer and need);
-- hire, renew, exit; insurance; assessments; read its township.
GRANT SELECT, INSERT, UPDATE ON person, insurance_policy, assessment, post_serial TO wp_township_admin, wp_county_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON person_status TO wp_township_admin, wp_county_admin;
GRANT SELECT, INSERT ON post, placement, contract TO wp_township_admin, wp_county_admin;
-- Column privileges: a hire locks the post row (FOR UPDATE needs UPDATE on some column), but
-- approving, rejecting and closing are the county's.
GRANT UPDATE (developer, need) ON post TO wp_township_admin;
GRANT UPDATE (exit_on, exit_reason) ON placement TO wp_township_admin, wp_county_admin;
GRANT SELECT ON pay_standard, eligibility_policy, post_quota, payroll_run, payroll_line, disbursement
  TO wp_township_admin, wp_county_admin;
-- County admin: also approve, reject and close posts; county policy; run and approve payroll.
GRANT UPDATE ON post TO wp_county_admin;
GRANT INSERT, UPDATE, DELETE ON pay_standard, eligibility_policy, post_quota TO wp_county_admin;
GRANT INSERT, UPDATE ON payroll_run TO wp_county_admin;
GRANT INSERT, DELETE ON payroll_line TO wp_county_admin;
-- Finance: read payroll (and what it is made of); export, summarise, reconcile; disbursements.
GRANT SELECT ON person, post, placement, contract, assessment, pay_standard, eligibility_policy, post_quota,
  payroll_run, payroll_line, disbursement, disbursement_file TO wp_finance;
GRANT INSERT ON disbursement, disbursement_file TO wp_finance;
-- Auditor: read everything in its region; nothing else.
GRANT SELECT ON person, person_status, post, post_serial, placement, contract, insurance_policy, assessment,
  pay_standard, eligibility_policy, post_quota, payroll_run, payroll_line, disbursement, disbursement_file, operator
  TO wp_auditor;
-- System admin: regions, vocabulary, operators (through operator_add and operator_remove).
GRANT INSERT, UPDATE, DELETE ON region, post_type, funding_channel TO wp_system_admin;
GRANT SELECT ON operator TO wp_system_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wp_township_admin, wp_county_admin, wp_finance;

-- Row-level security: a row is visible and writable when it lies in the operator's region.
-- Every policy first bounds county_code to the operator's counties as a range (codes are
-- digits and compare byte-wise, so ':' sorts right after '9'): the tables' indexes lead with
-- county_code, so a county's rows are found by index instead of a scan of the whole province.
-- Tables with a region of their own then filter on it; child tables follow their parent with
-- `IN (SELECT … FROM parent)`, so the parent's policy applies (a hashed subplan on big scans).
CREATE FUNCTION operator_county_prefix() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT left(operator_scope(), 6)
$$;

ALTER TABLE person ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON person
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND village_code LIKE (SELECT operator_scope()) || '%')
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND village_code LIKE (SELECT operator_scope()) || '%');

ALTER TABLE post ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON post
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND region_code LIKE (SELECT operator_scope()) || '%')
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND region_code LIKE (SELECT operator_scope()) || '%');

ALTER TABLE post_serial ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON post_serial
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':')
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':');

ALTER TABLE person_status ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON person_status
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person));

ALTER TABLE insurance_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON insurance_policy
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person));

-- A placement belongs to both its post's region and its person's: a person of township B
-- hired into a post of township A is seen by both townships (the post's manages it).
ALTER TABLE placement ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON placement
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND (post_id IN (SELECT id FROM post) OR id_number IN (SELECT id_number FROM person)))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND post_id IN (SELECT id FROM post));

ALTER TABLE contract ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON contract
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND placement_id IN (SELECT id FROM placement))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND placement_id IN (SELECT id FROM placement));

ALTER TABLE assessment ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON assessment
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND placement_id IN (SELECT id FROM placement))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND placement_id IN (SELECT id FROM placement));

ALTER TABLE payroll_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON payroll_run
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':')
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':');

-- A township sees the lines of its own posts.
ALTER TABLE payroll_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON payroll_line
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND post_id IN (SELECT id FROM post))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND post_id IN (SELECT id FROM post));

ALTER TABLE disbursement ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON disbursement
  USING (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person))
  WITH CHECK (county_code >= (SELECT operator_county_prefix()) AND county_code < (SELECT operator_county_prefix()) || ':'
    AND id_number IN (SELECT id_number FROM person));

-- Policy: everyone reads the policy of their region, its ancestors (what applies to them) and
-- its descendants (a city auditor reads its counties'); county policy is written by the
-- county's own admins (province and city policy by the DBA or migrations).
ALTER TABLE pay_standard ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_lineage ON pay_standard FOR SELECT
  USING (region_code LIKE (SELECT operator_scope()) || '%' OR (SELECT operator_scope()) LIKE region_prefix(region_code) || '%');
CREATE POLICY county_writes ON pay_standard FOR INSERT TO wp_county_admin
  WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_updates ON pay_standard FOR UPDATE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0')) WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_deletes ON pay_standard FOR DELETE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0'));

ALTER TABLE eligibility_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_lineage ON eligibility_policy FOR SELECT
  USING (region_code LIKE (SELECT operator_scope()) || '%' OR (SELECT operator_scope()) LIKE region_prefix(region_code) || '%');
CREATE POLICY county_writes ON eligibility_policy FOR INSERT TO wp_county_admin
  WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_updates ON eligibility_policy FOR UPDATE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0')) WITH CHECK (region_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_deletes ON eligibility_policy FOR DELETE TO wp_county_admin
  USING (region_code = rpad((SELECT operator_scope()), 12, '0'));

ALTER TABLE post_quota ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_lineage ON post_quota FOR SELECT
  USING (county_code LIKE (SELECT operator_scope()) || '%' OR (SELECT operator_scope()) LIKE left(county_code, 6) || '%');
CREATE POLICY county_writes ON post_quota FOR INSERT TO wp_county_admin
  WITH CHECK (county_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_updates ON post_quota FOR UPDATE TO wp_county_admin
  USING (county_code = rpad((SELECT operator_scope()), 12, '0')) WITH CHECK (county_code = rpad((SELECT operator_scope()), 12, '0'));
CREATE POLICY county_deletes ON post_quota FOR DELETE TO wp_county_admin
  USING (county_code = rpad((SELECT operator_scope()), 12, '0'));

-- Operators: system administrators and auditors read them all (granted above); changes go
-- through operator_add and operator_remove only.
ALTER TABLE operator ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON operator FOR SELECT TO wp_system_admin, wp_auditor USING (true);

-- The journal and the audit (0005, 0006): auditors read the journal of their region and the
-- audit views (security_invoker, so the tables' policies apply); nobody else reads the journal.
GRANT SELECT ON journal TO wp_auditor;
ALTER TABLE journal ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_region ON journal FOR SELECT TO wp_auditor USING (
  CASE WHEN region_code IS NOT NULL THEN region_code LIKE (SELECT operator_scope()) || '%'
       ELSE county_code LIKE left((SELECT operator_scope()), 6) || '%' END);
-- Who was given which role and region is journaled like domain data.
CREATE TRIGGER journal_insert AFTER INSERT ON operator REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('login');
CREATE TRIGGER journal_update AFTER UPDATE ON operator REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('login');
CREATE TRIGGER journal_delete AFTER DELETE ON operator REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('login');
-- The chain is one for the whole database: verifying it needs every entry, whatever the
-- auditor's region; it tells where the chain breaks and how long it is, not what entries say.
ALTER FUNCTION journal_verify() SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION journal_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION journal_verify() TO wp_auditor;
GRANT SELECT ON audit_rule TO wp_auditor;
DO $$
DECLARE v text;
BEGIN
  FOR v IN SELECT viewname FROM pg_views WHERE schemaname = 'public' AND viewname LIKE 'audit\_%' LOOP
    EXECUTE format('GRANT SELECT ON %I TO wp_auditor', v);
  END LOOP;
END $$;
