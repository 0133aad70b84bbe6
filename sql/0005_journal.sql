-- The journal (SPEC §8): every insert, update, delete and truncate of domain data, by this
-- tool or by anyone with SQL access, appended with its time, the database role and the row
-- before and after. Append-only, and chained by SHA-256 so that `journal verify` finds an
-- entry altered, removed or reordered behind its back.
--
-- The chain: digest_i = sha256(the entry's content), hash_i = sha256(hash_{i-1} || digest_i),
-- hash_0 = '' (empty). Each entry also keeps prev_hash (= hash_{i-1}), so verification is
-- set-based: an entry is intact when hash = sha256(prev_hash || digest), and in order when its
-- prev_hash is the hash of the entry before it and its seq follows that entry's.
--
-- Appends are serialised by a row lock on journal_head, held until the writing transaction
-- ends, so two transactions never chain from the same entry (no fork). Writers use READ
-- COMMITTED and see the head as the last committer left it.

CREATE TABLE journal (
  seq         bigint PRIMARY KEY,
  at          timestamptz NOT NULL,
  -- The role that logged in (session_user): the trigger runs as the journal's owner.
  role        text NOT NULL,
  operation   text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
  table_name  text NOT NULL,
  -- The row's key as text (`320321-00001`, an id, `320321000000/cleaner/2026-01-01`).
  row_key     text,
  -- Where the row belongs, for filtering and row-level security (NULL above county level).
  county_code text COLLATE "C",
  region_code text COLLATE "C",
  row_before  jsonb,
  row_after   jsonb,
  prev_hash   bytea NOT NULL,
  hash        bytea NOT NULL
);

-- The last entry of the chain. Its row lock serialises appends.
CREATE TABLE journal_head (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  last_seq  bigint NOT NULL,
  last_hash bytea NOT NULL
);
INSERT INTO journal_head VALUES (true, 0, '');

-- The digest of an entry's content: everything but its place in the chain, as one text with
-- the fields separated by a unit separator and NULL written as a record separator (neither can
-- appear in JSON text). Timestamps are hashed as microseconds since the epoch, so the digest
-- does not depend on the session's time zone.
CREATE FUNCTION journal_digest(at timestamptz, role text, operation text, table_name text, row_key text,
                               county_code text, region_code text, row_before jsonb, row_after jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(textsend(concat_ws(E'\x1f', (extract(epoch FROM at) * 1000000)::bigint, role, operation, table_name,
                                   coalesce(row_key, E'\x1e'), coalesce(county_code, E'\x1e'), coalesce(region_code, E'\x1e'),
                                   coalesce(row_before::text, E'\x1e'), coalesce(row_after::text, E'\x1e'))))
$$;

-- One step of the chain, as the running state of a window aggregate: the first row starts
-- from `seed` (the hash of the entry before the statement's first).
CREATE FUNCTION journal_chain_step(state bytea, seed bytea, digest bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN sha256(coalesce(state, seed) || digest);
END $$;
CREATE AGGREGATE journal_chain(bytea, bytea) (sfunc = journal_chain_step, stype = bytea);

-- Appends the rows of one statement. TG_ARGV: the key columns of the table (up to three).
-- Statement-level with transition tables, so a million-row import appends in one INSERT.
CREATE FUNCTION journal_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET work_mem = '256MB' AS $$
DECLARE
  head journal_head;
  added bigint;
  -- The statement's rows as (before, after) pairs; old and new rows of an UPDATE pair up by
  -- key (a row whose key changed leaves both halves unpaired).
  source text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT NULL::jsonb AS before, to_jsonb(r) AS after FROM new_rows r'
    WHEN 'DELETE' THEN 'SELECT to_jsonb(r) AS before, NULL::jsonb AS after FROM old_rows r'
    WHEN 'UPDATE' THEN 'SELECT o.j AS before, n.j AS after
                        FROM (SELECT to_jsonb(r) AS j FROM old_rows r) o FULL JOIN (SELECT to_jsonb(r) AS j FROM new_rows r) n
                        ON concat_ws(''/'', o.j ->> $3, o.j ->> $4, o.j ->> $5) = concat_ws(''/'', n.j ->> $3, n.j ->> $4, n.j ->> $5)'
    ELSE 'SELECT NULL::jsonb AS before, NULL::jsonb AS after' END;
  anything boolean;
BEGIN
  IF TG_OP <> 'TRUNCATE' THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END) INTO anything;
    IF NOT anything THEN RETURN NULL; END IF;
  END IF;
  SELECT * INTO head FROM journal_head FOR UPDATE;
  -- The entries are made once (e); the chain runs over their narrow (n, digest) only, so that
  -- its ordered window sorts a few bytes a row, not whole rows.
  EXECUTE format($sql$
    WITH e AS MATERIALIZED (
      SELECT x.*, journal_digest(x.at, x.role, x.operation, x.table_name, x.row_key, x.county_code, x.region_code,
                                 x.before, x.after) AS digest
      FROM (
        SELECT row_number() OVER () AS n, now() AS at, session_user::text AS role, $6 AS operation, $7 AS table_name,
               nullif(concat_ws('/', j.j ->> $3, j.j ->> $4, j.j ->> $5), '') AS row_key,
               j.j ->> 'county_code' AS county_code,
               coalesce(j.j ->> 'village_code', j.j ->> 'region_code', CASE WHEN $7 = 'region' THEN j.j ->> 'code' END,
                        rpad(j.j ->> 'county_code', 12, '0')) AS region_code,
               r.before, r.after
        -- OFFSET 0: the row is made JSON once, not once for every use of it below.
        FROM (%s OFFSET 0) r CROSS JOIN LATERAL (SELECT coalesce(r.after, r.before) AS j) j
      ) x
    ), chain AS (
      SELECT c.n, c.hash, coalesce(lag(c.hash) OVER (ORDER BY c.n), $2) AS prev_hash
      FROM (SELECT e.n, journal_chain($2, e.digest) OVER (ORDER BY e.n) AS hash FROM e) c
    )
    INSERT INTO journal (seq, at, role, operation, table_name, row_key, county_code, region_code, row_before, row_after, prev_hash, hash)
    SELECT $1 + e.n, e.at, e.role, e.operation, e.table_name, e.row_key, e.county_code, e.region_code, e.before, e.after,
           c.prev_hash, c.hash
    FROM e JOIN chain c ON c.n = e.n
    $sql$, source)
  USING head.last_seq, head.last_hash, TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], TG_OP, TG_TABLE_NAME::text;
  GET DIAGNOSTICS added = ROW_COUNT;
  UPDATE journal_head SET last_seq = head.last_seq + added,
                          last_hash = (SELECT j.hash FROM journal j WHERE j.seq = head.last_seq + added);
  RETURN NULL;
END $$;

-- Journal every domain table. The arguments name each table's key columns.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('region', 'code'), ('person', 'id_number'), ('person_status', 'id'),
      ('pay_standard', 'region_code, post_type, effective_from'), ('eligibility_policy', 'region_code, effective_from'),
      ('post_quota', 'county_code, year'), ('post', 'id'), ('placement', 'id'), ('contract', 'id'),
      ('insurance_policy', 'id'), ('assessment', 'id'), ('payroll_run', 'county_code, month'), ('payroll_line', 'id'),
      ('disbursement_file', 'id'), ('disbursement', 'id'), ('post_type', 'code'), ('funding_channel', 'code')
    ) AS v(name, keys)
  LOOP
    EXECUTE format('CREATE TRIGGER journal_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_truncate AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
  END LOOP;
END $$;

-- Append-only: no role may change or remove an entry (a trigger fires for superusers too;
-- only one who disables it can, and `journal verify` finds what they did).
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: its entries can never be changed or removed'
    USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'journal_append_only';
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
  FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
  FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_head_kept BEFORE DELETE ON journal_head
  FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_head_no_truncate BEFORE TRUNCATE ON journal_head
  FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
REVOKE ALL ON journal, journal_head FROM PUBLIC;

-- Finds the first entry that is not as it was written, and what happened to it: `altered`
-- (its content no longer matches its hash), `removed` (entries before it are missing),
-- `reordered` (it does not follow the entry before it), `truncated` (entries at the end are
-- missing); problem NULL when the chain is whole. One row, with the number of entries and
-- the last hash.
CREATE FUNCTION journal_verify()
RETURNS TABLE (seq bigint, problem text, expected_seq bigint, entries bigint, last_hash text)
LANGUAGE sql STABLE AS $$
  WITH chain AS (
    SELECT j.seq, j.prev_hash, j.hash,
           journal_digest(j.at, j.role, j.operation, j.table_name, j.row_key, j.county_code, j.region_code,
                          j.row_before, j.row_after) AS digest,
           coalesce(lag(j.seq) OVER w, 0) AS before_seq,
           coalesce(lag(j.hash) OVER w, '') AS before_hash
    FROM journal j WINDOW w AS (ORDER BY j.seq)
  ), problems AS (
    SELECT c.seq, CASE WHEN c.hash <> sha256(c.prev_hash || c.digest) THEN 'altered'
                       WHEN c.seq <> c.before_seq + 1 THEN 'removed'
                       ELSE 'reordered' END AS problem,
           c.before_seq + 1 AS expected_seq
    FROM chain c
    WHERE c.hash <> sha256(c.prev_hash || c.digest) OR c.seq <> c.before_seq + 1 OR c.prev_hash <> c.before_hash
    UNION ALL
    SELECT h.last_seq, 'truncated', coalesce((SELECT max(j.seq) FROM journal j), 0) + 1
    FROM journal_head h
    WHERE h.last_seq <> coalesce((SELECT max(j.seq) FROM journal j), 0)
       OR h.last_hash <> coalesce((SELECT j.hash FROM journal j ORDER BY j.seq DESC LIMIT 1), '')
  )
  SELECT p.seq, p.problem, p.expected_seq, (SELECT count(*) FROM journal),
         (SELECT encode(h.last_hash, 'hex') FROM journal_head h)
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (SELECT * FROM problems ORDER BY problems.seq, problems.problem LIMIT 1) p ON true
$$;
