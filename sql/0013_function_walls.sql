-- The walls hold against an operator who knows SQL (SPEC §11, issue 11).
--
-- 1. Every function runs with a fixed search_path. A function that names a table without a
--    schema resolves it through the *caller's* search_path, where pg_temp comes first: a
--    `CREATE TEMP TABLE payroll_run (…)` made the payroll lock look at an empty table. Two
--    ways are used, and tests/FunctionWallsTests keeps every future function to one of them:
--    - PL/pgSQL and functions that already carry settings: `SET search_path = pg_catalog,
--      public, pg_temp` (pg_temp named last: left out, it would be searched first);
--    - small SQL functions: a SQL-standard body (`BEGIN ATOMIC … END`), whose names are bound
--      to objects when the function is created, as a view's are. A SET clause would stop the
--      planner from inlining them, and they run once per row in imports, payroll and audit.
-- 2. Nobody but the group roles that need a function may execute it (EXECUTE revoked from
--    PUBLIC, here and by default for functions created later).
-- 3. SECURITY DEFINER helpers answer only about keys the caller passed, only within the
--    caller's county, never with names, and never anyone who is not an operator.
-- 4. Nobody changes their own operator record, and no operator is made of a login that its
--    maker controls.

-- 1a. SQL functions get SQL-standard bodies: the same text, bound now. The migration runs with
--     a plain search_path, so every name binds to the schema's own objects. (A SQL-standard
--     body records what it uses: a later migration that drops a column such a function reads
--     must replace the function first.)
SET LOCAL search_path = pg_catalog, public;
DO $$
DECLARE
  f record;
  definition text;
  body text;
BEGIN
  FOR f IN
    SELECT p.oid, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' AND l.lanname = 'sql'
      AND p.prosqlbody IS NULL AND p.proconfig IS NULL AND NOT p.prosecdef
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    definition := pg_get_functiondef(f.oid);
    -- Everything before the quoted body (name, arguments, result, volatility, strictness,
    -- parallel safety), then the body's statements, its last semicolon dropped.
    body := regexp_replace(f.prosrc, ';\s*$', '');
    EXECUTE left(definition, strpos(definition, E'\nAS $') - 1) || E'\nBEGIN ATOMIC\n' || body || E'\n;\nEND';
  END LOOP;
END $$;
RESET search_path;  -- what follows is created in public, as before

-- 1b. Everything else: PL/pgSQL, trigger functions, and the functions that carry planner
--     settings or run as their owner. Existing settings are kept (SET adds to proconfig).
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p') AND p.prosqlbody IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
END $$;

-- 3. What a SECURITY DEFINER helper may tell its caller: '' (everything) to the schema's owner
--    and superusers, the operator's own region prefix to an operator, NULL (nothing) to anyone
--    else. session_user, because inside these functions current_user is the owner.
CREATE FUNCTION caller_scope() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE WHEN pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'public.operator'::regclass), 'MEMBER')
              THEN '' ELSE (SELECT region_prefix(o.region_code) FROM operator o WHERE o.login = session_user) END
$$;

-- Of the resident IDs passed, those registered in the caller's county but outside the
-- caller's region: a township's import must not take over another township's person, and
-- says which line names one. Another county's persons are not answered for (the county is
-- where a township's work ends); such a row is refused by row-level security when written.
-- A township may ask about at most 100,000 IDs a call: a township's file, not a registry to sweep.
DROP FUNCTION persons_outside_region(text[]);
CREATE FUNCTION persons_outside_region(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE scope text := caller_scope();
BEGIN
  IF scope IS NULL OR length(scope) <= 6 THEN
    RETURN;  -- not an operator, or one whose region is a whole county or more: nothing is outside it here
  END IF;
  IF cardinality(ids) > 100000 THEN
    RAISE EXCEPTION 'at most 100000 resident IDs may be checked at once' USING ERRCODE = 'program_limit_exceeded',
      CONSTRAINT = 'persons_checked_at_once';
  END IF;
  RETURN QUERY SELECT p.id_number FROM person p
    WHERE p.county_code = left(scope, 6) AND p.id_number = ANY (ids) AND p.village_code NOT LIKE scope || '%';
END $$;

-- The household rules count every member of the household, wherever they live in the county
-- (sql/0007); but only for a person the caller may see, and a cadre is told as a yes or no.
DROP FUNCTION household_cadres(text, date);
CREATE FUNCTION household_has_cadre(member_id text, on_day date) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM person p
    JOIN person m ON m.county_code = p.county_code AND m.household_id = p.household_id AND m.id_number <> p.id_number
    JOIN person_status s ON s.id_number = m.id_number
    WHERE p.id_number = member_id AND p.village_code LIKE caller_scope() || '%'
      AND s.status = 'village-cadre' AND s.valid_from <= on_day AND (s.valid_to IS NULL OR s.valid_to >= on_day))
$$;

CREATE OR REPLACE FUNCTION household_in_post(member_id text, from_day date) RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  -- Most other household members in post on any one day from from_day on.
  WITH me AS (SELECT p.county_code, p.household_id, p.id_number FROM person p
              WHERE p.id_number = member_id AND p.village_code LIKE caller_scope() || '%'),
  others AS (
    SELECT daterange(pl.start_on, pl.exit_on, '[]') AS r FROM me
    JOIN person m ON m.county_code = me.county_code AND m.household_id = me.household_id AND m.id_number <> me.id_number
    JOIN placement pl ON pl.id_number = m.id_number
    WHERE daterange(pl.start_on, pl.exit_on, '[]') && daterange(from_day, NULL, '[]'))
  SELECT coalesce(max((SELECT count(*) FROM others o WHERE o.r @> x.d)), 0)::int
  FROM (SELECT from_day AS d UNION SELECT lower(r) FROM others WHERE lower(r) > from_day) x
$$;

-- Whether a key exists at all, for operators only: lets the tool say "outside your region"
-- instead of "not found".
CREATE OR REPLACE FUNCTION post_exists(post_id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT caller_scope() IS NOT NULL AND EXISTS (SELECT 1 FROM post WHERE id = post_id)
$$;

CREATE OR REPLACE FUNCTION person_exists(id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT caller_scope() IS NOT NULL AND EXISTS (SELECT 1 FROM person WHERE id_number = id)
$$;

-- 4. Operators are added and changed by system administrators, never by themselves, and never
--    made of a login the maker controls (itself, a role it belongs to or may administer): a
--    system administrator reads no domain data and must not be able to give itself that.
--    Nor may an operator be a member of the schema owner (it could SET ROLE past row-level
--    security).
CREATE OR REPLACE FUNCTION operator_add(new_login text, new_role text, new_region text) RETURNS operator
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  groups constant text[] := ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin'];
  target text := 'wp_' || replace(new_role, '-', '_');
  owner_oid oid := (SELECT relowner FROM pg_class WHERE oid = 'public.operator'::regclass);
  g text;
  added operator;
BEGIN
  IF NOT target = ANY (groups) THEN
    RAISE EXCEPTION 'unknown operator role %', new_role USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF new_login = session_user
     OR (NOT pg_has_role(session_user, owner_oid, 'MEMBER') AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_login)
         AND (pg_has_role(session_user, new_login, 'MEMBER') OR pg_has_role(session_user, new_login, 'USAGE WITH ADMIN OPTION'))) THEN
    RAISE EXCEPTION 'operators cannot add or change themselves or a login they control: % is %', new_login, session_user
      USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_self';
  END IF;
  IF new_login = ANY (groups) OR new_login = current_user OR new_login LIKE 'pg\_%'
     OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_login AND (rolsuper OR rolbypassrls OR rolcreaterole))
     OR EXISTS (SELECT 1 FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = new_login))
     OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_login) AND pg_has_role(new_login, owner_oid, 'MEMBER')) THEN
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

CREATE OR REPLACE FUNCTION operator_remove(old_login text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE g text;
BEGIN
  IF old_login = session_user THEN
    RAISE EXCEPTION 'operators cannot remove themselves: another system administrator must'
      USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_self';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM operator WHERE login = old_login) THEN RETURN false; END IF;
  FOREACH g IN ARRAY ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin'] LOOP
    IF pg_has_role(old_login, g, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', g, old_login);
    END IF;
  END LOOP;
  DELETE FROM operator WHERE login = old_login;
  RETURN true;
END $$;

-- 2. EXECUTE: nobody by default, then each group what its work calls. Functions that run with
--    the caller's rights (the pure helpers, the audit's and payroll's queries) can show no
--    more than the caller may read: every group may call them. Trigger functions are called
--    by their triggers, which need no EXECUTE: nobody.
-- (The extensions' own functions keep their defaults: they are PostgreSQL's, not ours.)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
DO $$
DECLARE f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS sig, p.prosecdef OR p.prorettype = 'trigger'::regtype AS private FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f.sig);
    CONTINUE WHEN f.private;
    EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin', f.sig);
  END LOOP;
END $$;
-- Row-level security asks who the caller is, for everyone.
GRANT EXECUTE ON FUNCTION operator_scope(), operator_role(), operator_region(), caller_scope(),
  post_exists(text), person_exists(text)
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;
-- Those who hire and import persons, insurance and assessments.
GRANT EXECUTE ON FUNCTION persons_outside_region(text[]), household_has_cadre(text, date), household_in_post(text, date)
  TO wp_township_admin, wp_county_admin;
GRANT EXECUTE ON FUNCTION journal_verify() TO wp_auditor;
GRANT EXECUTE ON FUNCTION operator_add(text, text, text), operator_remove(text) TO wp_system_admin;
