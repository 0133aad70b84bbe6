-- The journal at the speed of a bulk statement (issue 17). Measured on 1,000,000 persons, one
-- entry per row cost ~15 s beside a 1.7 s INSERT: a row of JSON made and hashed per row (2 s),
-- the chain's step called per row (3.5 s), and a million entries written and indexed (1.5 s+).
--
-- Now a statement that changes more than 100 rows appends one entry per county and hash group
-- of its rows, as many groups as it has 10,000 rows (a `bulk entry`), instead of one per row. A bulk entry is an
-- entry like any other: time, role, operation, table; its row_before and row_after are each a
-- JSON array of two: the table's column names, and the rows before (after) as arrays of their
-- values as text in that order (row i of one pairs with row i of the other; `null` where a row
-- has no before or no after); its row_key names the key columns, as `(id_number)`. Values as
-- text in column order cost half what to_json's objects do (it looks up each column's type and
-- output function again for every row) and take half the space. Its digest is journal_digest of those fields, as for every entry, so the
-- chain, `journal verify` and the entries written before stay exactly as they were: a row's
-- JSON is always an object, an array always a bulk entry. A statement of up to 100 rows (what
-- the tool writes outside imports and payroll runs) keeps one entry per row.
--
-- What each invariant becomes:
-- * every changed row recorded with before/after, role and time: yes, as an element of its
--   statement's entry; `journal_row` (below) lists the journal row by row, with each row's key,
--   county and region, and `journal show --entity` reads it;
-- * append-only, hash-chained, verify finds an entry altered/removed/reordered: unchanged; a row
--   altered, removed or added inside a bulk entry alters that entry's digest;
-- * row-level security: a bulk entry holds the rows of one county, and its region is theirs when
--   they share one (else the county's), so a county's auditor sees their county's rows and no
--   other's; an auditor of a township sees its rows only in entries of one row or of its rows only.
--
-- The arrays are stored compressed with lz4 where the server has it (PostgreSQL 15 in Debian
-- does): pglz took 1.7 s more per million rows, uncompressed 8 times the space.

DO $$
BEGIN
  ALTER TABLE journal ALTER COLUMN row_before SET COMPRESSION lz4, ALTER COLUMN row_after SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END $$;

-- Appends the rows of one statement. TG_ARGV: the key columns of the table (up to three).
-- As sql/0009, with the bulk entries above for statements of more than 100 rows.
CREATE OR REPLACE FUNCTION journal_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET work_mem = '256MB' SET datestyle = 'ISO, YMD' SET enable_sort = off AS $$
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
  changed bigint := 1;
  -- The row as JSON, as a format taking the row's alias: an object for an entry of its own; in
  -- a bulk entry its values as text, in the order of the table's columns.
  as_json text := 'to_json(%s)';
BEGIN
  IF TG_OP <> 'TRUNCATE' THEN
    EXECUTE format('SELECT count(*) FROM %s', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END) INTO changed;
    IF changed = 0 THEN RETURN NULL; END IF;
  END IF;
  SELECT array_agg(attname::text ORDER BY attnum) INTO columns FROM pg_attribute WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped;
  IF changed > 100 THEN
    SELECT 'array_to_json(ARRAY[' || string_agg(format('%%1$s.%I::text', c), ', ' ORDER BY i) || '])' INTO as_json
    FROM unnest(columns) WITH ORDINALITY AS a(c, i);
  END IF;
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
                   CASE TG_OP WHEN 'DELETE' THEN format(as_json, 'r')
                              WHEN 'UPDATE' THEN format('CASE WHEN o.%I IS NULL THEN NULL ELSE %s END', TG_ARGV[0], format(as_json, 'o'))
                              ELSE 'NULL::json' END,
                   CASE TG_OP WHEN 'INSERT' THEN format(as_json, 'r')
                              WHEN 'UPDATE' THEN format('CASE WHEN n.%I IS NULL THEN NULL ELSE %s END', TG_ARGV[0], format(as_json, 'n'))
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
  IF changed > 100 THEN
    -- Bulk entries: the rows grouped by county, and within a county into as many groups as
    -- there are 10,000 rows in the statement, by a hash of their key. One hash aggregate over
    -- the rows as they come: neither the rows nor the groups are sorted (a sort of the rows'
    -- JSON cost more than making it), so enable_sort is off in this function (nothing else in it
    -- sorts: the update's pairing is a hash join).
    source := format($sql$
      SELECT %L AS row_key, g.county_code,
             CASE WHEN min(g.region_code) = max(g.region_code) AND count(g.region_code) = count(*) THEN min(g.region_code)
                  WHEN g.county_code IS NOT NULL THEN rpad(g.county_code, 12, '0') END AS region_code,
             %s AS before, %s AS after
      FROM (%s) g
      GROUP BY g.county_code, abs(hashtext(g.row_key)) %% %s
      $sql$, '(' || array_to_string(TG_ARGV, ',') || ')',
      CASE WHEN TG_OP = 'INSERT' THEN 'NULL::json' ELSE format('json_build_array(%L::json, json_agg(g.before))', to_json(columns)) END,
      CASE WHEN TG_OP = 'DELETE' THEN 'NULL::json' ELSE format('json_build_array(%L::json, json_agg(g.after))', to_json(columns)) END,
      source, (changed + 9999) / 10000);
  END IF;
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
REVOKE ALL ON FUNCTION journal_statement() FROM PUBLIC;

-- The journal row by row: an entry of one row as it is (item 0), and every row of a bulk entry
-- (item 1, 2, …) as a JSON object of its column names and values (as text), with its key,
-- county and region read from it as the trigger reads them from the table. With the caller's
-- rights: the journal's row-level security applies to the entries the rows come from.
CREATE VIEW journal_row WITH (security_invoker = true) AS
SELECT j.seq, 0::bigint AS item, j.at, j.role, j.operation, j.table_name, j.row_key, j.county_code, j.region_code,
       j.row_before, j.row_after
FROM journal j
WHERE json_typeof(coalesce(j.row_after, j.row_before)) IS DISTINCT FROM 'array'
UNION ALL
SELECT j.seq, x.item, j.at, j.role, j.operation, j.table_name,
       (SELECT nullif(concat_ws('/', VARIADIC array_agg(r.el ->> k.name ORDER BY k.i)), '')
        FROM unnest(string_to_array(btrim(j.row_key, '()'), ',')) WITH ORDINALITY AS k(name, i)),
       r.el ->> 'county_code',
       coalesce(r.el ->> 'village_code', r.el ->> 'region_code', CASE WHEN j.table_name = 'region' THEN r.el ->> 'code' END,
                rpad(r.el ->> 'county_code', 12, '0')),
       y.before, y.after
FROM journal j
CROSS JOIN LATERAL (SELECT ARRAY(SELECT json_array_elements_text(coalesce(j.row_after, j.row_before) -> 0)) AS names) h
CROSS JOIN LATERAL ROWS FROM (json_array_elements(j.row_before -> 1), json_array_elements(j.row_after -> 1)) WITH ORDINALITY AS x(b, a, item)
CROSS JOIN LATERAL (SELECT CASE WHEN json_typeof(x.b) = 'array' THEN json_object(h.names, ARRAY(SELECT json_array_elements_text(x.b))) END AS before,
                           CASE WHEN json_typeof(x.a) = 'array' THEN json_object(h.names, ARRAY(SELECT json_array_elements_text(x.a))) END AS after) y
CROSS JOIN LATERAL (SELECT coalesce(y.after, y.before) AS el) r
WHERE json_typeof(coalesce(j.row_after, j.row_before)) = 'array';
REVOKE ALL ON journal_row FROM PUBLIC;
GRANT SELECT ON journal_row TO wp_auditor;

-- The seal's check (0017d) reads the approvals row by row, wherever they were journaled.
CREATE OR REPLACE FUNCTION payroll_seals_broken() RETURNS TABLE (county_code text, month date, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  WITH journaled AS (
    SELECT DISTINCT ON (j.row_after ->> 'county_code', j.row_after ->> 'month')
           j.row_after ->> 'county_code' AS county_code, (j.row_after ->> 'month')::date AS month,
           j.row_after ->> 'lines_digest' AS lines_digest
    FROM journal_row j WHERE j.table_name = 'payroll_run' AND j.row_after IS NOT NULL
    ORDER BY j.row_after ->> 'county_code', j.row_after ->> 'month', j.seq DESC, j.item DESC)
  SELECT r.county_code, r.month,
         CASE WHEN r.lines_digest IS DISTINCT FROM payroll_lines_sealed(r.county_code, r.month, r.seal_version) THEN 'lines changed'
              ELSE 'seal changed' END
  FROM payroll_run r LEFT JOIN journaled j ON j.county_code = r.county_code AND j.month = r.month
  WHERE r.state = 'approved'
    AND (r.lines_digest IS DISTINCT FROM payroll_lines_sealed(r.county_code, r.month, r.seal_version)
         OR j.lines_digest IS DISTINCT FROM r.lines_digest)
  ORDER BY r.county_code, r.month
$$;
