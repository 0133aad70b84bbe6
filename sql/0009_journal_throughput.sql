-- The journal at bulk-import speed (issue 5: an import may not slow by more than 2x because of
-- it). Same entries, same chain, same verification; three costs removed from every row:
--
-- * Rows are kept as `json`, the text `to_json` makes, instead of `jsonb`. Building jsonb and
--   printing it again to hash it cost more than the row's own insert. The digest hashes the
--   stored text, so verification rehashes exactly what was written. Entries written before
--   this migration keep their text: jsonb cast to json is jsonb's own output, which is what
--   their digest hashed, so they still verify.
-- * The time is hashed as microseconds since the epoch computed once per statement (the
--   numeric `extract` per row was a quarter of the journal's cost).
-- * Key, county and region are read from the row's columns, not out of its JSON, and the
--   chain runs in the same single pass that numbers the entries (a window over the rows as
--   they come, without a sort or a join back to the entries).
--
-- The chain itself is unchanged: hash_i = sha256(hash_{i-1} || digest_i), each entry keeping
-- prev_hash = hash_{i-1}.

ALTER TABLE journal ALTER COLUMN row_before TYPE json USING row_before::json,
                    ALTER COLUMN row_after TYPE json USING row_after::json;

-- The digest of an entry's content: everything but its place in the chain, as one text with
-- the fields separated by a unit separator and NULL written as a record separator (neither can
-- appear in JSON text). `epoch_us` is the entry's time in microseconds since the epoch, so the
-- digest does not depend on the session's time zone. STABLE, as concat_ws is: so the planner
-- inlines it into the journal's statement instead of calling a function for every row.
DROP FUNCTION journal_digest(timestamptz, text, text, text, text, text, text, jsonb, jsonb);
CREATE FUNCTION journal_digest(epoch_us bigint, role text, operation text, table_name text, row_key text,
                               county_code text, region_code text, row_before json, row_after json)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(textsend(concat_ws(E'\x1f', epoch_us, role, operation, table_name,
                                   coalesce(row_key, E'\x1e'), coalesce(county_code, E'\x1e'), coalesce(region_code, E'\x1e'),
                                   coalesce(row_before::text, E'\x1e'), coalesce(row_after::text, E'\x1e'))))
$$;

-- The chain as a running window aggregate. Its state is prev_hash || hash of the current row,
-- so one pass gives both; the first row chains from `seed` (the hash before the statement's
-- first entry, empty for the very first entry).
DROP AGGREGATE journal_chain(bytea, bytea);
DROP FUNCTION journal_chain_step(bytea, bytea, bytea);
CREATE FUNCTION journal_chain_step(state bytea, seed bytea, digest bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  prev bytea := CASE WHEN state IS NULL THEN seed ELSE substring(state FROM length(state) - 31) END;
BEGIN
  RETURN prev || sha256(prev || digest);
END $$;
CREATE AGGREGATE journal_chain(bytea, bytea) (sfunc = journal_chain_step, stype = bytea);

-- Appends the rows of one statement. TG_ARGV: the key columns of the table (up to three).
-- Statement-level with transition tables, so a million-row import appends in one INSERT.
-- DateStyle ISO: keys that are dates read as in the rows' JSON.
CREATE OR REPLACE FUNCTION journal_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET work_mem = '256MB' SET datestyle = 'ISO, YMD' AS $$
DECLARE
  head journal_head;
  added bigint;
  at timestamptz := now();
  columns text[];
  -- How a column of the entry's row is read, as a format taking (first key column, column):
  -- of `r` for an insert or delete; for an update, of the new row, or of the old row when it
  -- has no new partner (its key changed). Both are quoted as identifiers in one pass.
  col text := CASE TG_OP WHEN 'UPDATE' THEN 'CASE WHEN n.%1$I IS NULL THEN o.%2$I ELSE n.%2$I END' ELSE 'r.%2$I' END;
  row_key text;
  county text := 'NULL::text';
  region text[] := '{}';
  source text;
  anything boolean;
BEGIN
  IF TG_OP <> 'TRUNCATE' THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END) INTO anything;
    IF NOT anything THEN RETURN NULL; END IF;
  END IF;
  SELECT array_agg(attname::text) INTO columns FROM pg_attribute WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped;
  -- Only the domain tables' own triggers (0005, 0007) call this, with their key columns. It runs
  -- as the journal's owner: refuse anything else rather than journal or execute it.
  IF TG_TABLE_SCHEMA <> 'public' OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT' OR TG_NARGS = 0
     OR NOT TG_ARGV <@ columns THEN
    RAISE EXCEPTION 'journal_statement() journals the domain tables only, from their own triggers'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT format('nullif(concat_ws(''/'', %s), '''')', string_agg(format(col, TG_ARGV[0], k) || '::text', ', ' ORDER BY i))
    INTO row_key FROM unnest(TG_ARGV) WITH ORDINALITY AS a(k, i);
  -- Where the row belongs: its county, and its village, region or county as a region code.
  IF 'county_code' = ANY (columns) THEN county := format(col, TG_ARGV[0], 'county_code') || '::text'; END IF;
  IF 'village_code' = ANY (columns) THEN region := region || format(col, TG_ARGV[0], 'village_code'); END IF;
  IF 'region_code' = ANY (columns) THEN region := region || format(col, TG_ARGV[0], 'region_code'); END IF;
  IF TG_TABLE_NAME = 'region' THEN region := region || format(col, TG_ARGV[0], 'code'); END IF;
  IF 'county_code' = ANY (columns) THEN region := region || format('rpad(%s, 12, ''0'')', county); END IF;
  source := format('SELECT %s AS before, %s AS after, %s AS row_key, %s AS county_code, %s::text AS region_code',
                   CASE TG_OP WHEN 'DELETE' THEN 'to_json(r)'
                              WHEN 'UPDATE' THEN format('CASE WHEN o.%I IS NULL THEN NULL ELSE to_json(o) END', TG_ARGV[0])
                              ELSE 'NULL::json' END,
                   CASE TG_OP WHEN 'INSERT' THEN 'to_json(r)'
                              WHEN 'UPDATE' THEN format('CASE WHEN n.%I IS NULL THEN NULL ELSE to_json(n) END', TG_ARGV[0])
                              ELSE 'NULL::json' END,
                   CASE WHEN TG_OP = 'TRUNCATE' THEN 'NULL::text' ELSE row_key END,
                   CASE WHEN TG_OP = 'TRUNCATE' THEN 'NULL::text' ELSE county END,
                   CASE WHEN TG_OP = 'TRUNCATE' OR cardinality(region) = 0 THEN 'NULL'
                        ELSE format('coalesce(%s)', array_to_string(region, ', ')) END)
         || CASE TG_OP WHEN 'INSERT' THEN ' FROM new_rows r'
                       WHEN 'DELETE' THEN ' FROM old_rows r'
                       -- Old and new rows of an update pair up by key.
                       WHEN 'UPDATE' THEN ' FROM old_rows o FULL JOIN new_rows n ON '
                                          || (SELECT string_agg(format('o.%1$I = n.%1$I', k), ' AND ') FROM unnest(TG_ARGV) k)
                       ELSE '' END;
  SELECT * INTO head FROM journal_head FOR UPDATE;
  -- One pass: each entry's digest is made beside its row, then the window numbers the entries
  -- and chains them in the same order. OFFSET 0 keeps each row's JSON and digest made once
  -- (the subqueries would otherwise be pulled up into every use of them).
  EXECUTE format($sql$
    INSERT INTO journal (seq, at, role, operation, table_name, row_key, county_code, region_code, row_before, row_after, prev_hash, hash)
    SELECT $1 + c.n, $4, $5, $6, $7, c.row_key, c.county_code, c.region_code, c.before, c.after,
           substring(c.link FOR length(c.link) - 32), substring(c.link FROM length(c.link) - 31)
    FROM (SELECT d.*, row_number() OVER w AS n, journal_chain($2, d.digest) OVER w AS link
          FROM (SELECT e.*, journal_digest($3, $5, $6, $7, e.row_key, e.county_code, e.region_code, e.before, e.after) AS digest
                FROM (%s OFFSET 0) e OFFSET 0) d
          WINDOW w AS (ROWS UNBOUNDED PRECEDING)) c
    $sql$, source)
  USING head.last_seq, head.last_hash, (extract(epoch FROM at) * 1000000)::bigint, at, session_user::text, TG_OP, TG_TABLE_NAME::text;
  GET DIAGNOSTICS added = ROW_COUNT;
  UPDATE journal_head SET last_seq = head.last_seq + added,
                          last_hash = (SELECT j.hash FROM journal j WHERE j.seq = head.last_seq + added);
  RETURN NULL;
END $$;

-- Trigger functions that run as the owner are for the domain tables' own triggers only: nobody
-- may attach them to a table of their own (a temporary one) to run them with the owner's rights
-- and outside row-level security. A trigger fires without EXECUTE; creating one needs it.
REVOKE ALL ON FUNCTION journal_statement(), region_not_in_use() FROM PUBLIC;

-- As in 0005, rehashing each entry with the digest above. SECURITY DEFINER as 0007 made it:
-- the whole chain is checked whatever the auditor's region.
CREATE OR REPLACE FUNCTION journal_verify()
RETURNS TABLE (seq bigint, problem text, expected_seq bigint, entries bigint, last_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH chain AS (
    SELECT j.seq, j.prev_hash, j.hash,
           journal_digest((extract(epoch FROM j.at) * 1000000)::bigint, j.role, j.operation, j.table_name, j.row_key,
                          j.county_code, j.region_code, j.row_before, j.row_after) AS digest,
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
