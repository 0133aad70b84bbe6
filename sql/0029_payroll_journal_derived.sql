-- payroll run, journal included, at the speed of its INSERT (issue 17): the lines a payroll
-- run derives are journaled as one digest per county-month instead of line by line.
--
-- A regular line (kind 'regular': what `payroll run` writes) is derived data: payroll_due of
-- journaled placements, contracts, assessments, attendance and standards, with the person's
-- name and account. sql/0023 journaled each of them in bulk entries (its values as text): a
-- quarter of the run's INSERT in CPU at 200,000 lines (0.46 s of 1.9 s; derived entries take
-- 0.29 s, most of it making each line's text for the digest). Now a statement that inserts, deletes or updates
-- regular lines appends, for each county-month they belong to, one *derived entry* (table
-- payroll_line, key `COUNTY/YYYY-MM`) whose row_after is what the county-month's regular lines
-- are after the statement: their number, total fen and a SHA-256 digest of every column of
-- every line in the order of their ids (payroll_lines_state). A statement that removes lines
-- (a re-run deleting its draft) also records in row_before the number, total and digest of the
-- lines it removed. Adjustment lines, and any update of lines, are journaled as before (entries
-- of one row, or bulk entries), beside the derived entry an update also makes.
--
-- What `journal verify` checks of them (payroll_lines_unjournaled): each county-month's regular
-- lines as they stand give the digest of its latest derived entry (a line altered, removed or
-- added behind the triggers is found); a county-month with regular lines has a derived entry;
-- and where a statement removed all of a county-month's lines, what it removed is what the
-- entry before it recorded (lines altered and then removed by a re-run are found too).
--
-- Which invariants are kept: every change of regular lines is recorded, with role, time, county
-- and month, hash-chained, append-only, tamper-evident against the lines kept. Given up: the
-- journal no longer holds each regular line's content, only its digest: lines removed by a
-- re-run (a draft) can be proved to have been what the run wrote, but not read back from the
-- journal; `journal show --entity person:…` no longer lists a person's regular lines (adjustments
-- still). The approved month's seal (sql/0016, sql/0017d) is unchanged.

-- One line as text for the digest: every column, NULL as a record separator, dates as days
-- since 2000-01-01 (no DateStyle). Only immutable operators, so it is inlined where it is used.
CREATE FUNCTION payroll_line_text(id bigint, county_code text, month date, for_month date, kind text, id_number text,
                                  post_id text, days_in_post int, post_subsidy_fen bigint, social_insurance_fen bigint,
                                  adjustment_fen bigint, name text, bank_account text, post_subsidy_standard_fen bigint,
                                  social_insurance_standard_fen bigint, held_reason text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN id::text || E'\x1f' || county_code || E'\x1f' || (month - date '2000-01-01')::text || E'\x1f'
       || (for_month - date '2000-01-01')::text || E'\x1f' || kind || E'\x1f' || id_number || E'\x1f' || post_id || E'\x1f'
       || days_in_post::text || E'\x1f' || post_subsidy_fen::text || E'\x1f' || social_insurance_fen::text || E'\x1f'
       || adjustment_fen::text || E'\x1f' || coalesce(name, E'\x1e') || E'\x1f' || coalesce(bank_account, E'\x1e') || E'\x1f'
       || coalesce(post_subsidy_standard_fen::text, E'\x1e') || E'\x1f' || coalesce(social_insurance_standard_fen::text, E'\x1e')
       || E'\x1f' || coalesce(held_reason, E'\x1e');

-- The regular lines of a county-month as they stand: how many, their total, and the digest.
-- With the caller's rights: the journal trigger calls it as the owner, an auditor's `journal
-- verify` sees the lines of their region (and the journal's entries of it).
CREATE FUNCTION payroll_lines_state(county text, first_day date)
RETURNS TABLE (lines bigint, total_fen bigint, lines_digest text) LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT count(*), coalesce(sum(l.total_fen), 0)::bigint,
         encode(sha256(convert_to(coalesce(string_agg(payroll_line_text(l.id, l.county_code, l.month, l.for_month, l.kind,
           l.id_number, l.post_id, l.days_in_post, l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen, l.name,
           l.bank_account, l.post_subsidy_standard_fen, l.social_insurance_standard_fen, l.held_reason), E'\x1e' ORDER BY l.id), ''),
           'UTF8')), 'hex')
  FROM payroll_line l
  WHERE l.county_code = county AND l.for_month = first_day AND l.month = first_day AND l.kind = 'regular';
END;
REVOKE ALL ON FUNCTION payroll_line_text(bigint, text, date, date, text, text, text, int, bigint, bigint, bigint, text, text, bigint, bigint, text),
                       payroll_lines_state(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payroll_line_text(bigint, text, date, date, text, text, text, int, bigint, bigint, bigint, text, text, bigint, bigint, text),
                          payroll_lines_state(text, date) TO wp_auditor;

-- Appends the rows of one statement. TG_ARGV: the key columns of the table (up to three). As
-- sql/0023, but a statement on payroll_line journals its regular lines as derived entries.
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
  -- payroll_line: the regular lines of an insert or delete are journaled as derived entries
  -- (sql/0029), not row by row; `derived` is the statement making those entries.
  derived_lines boolean := TG_TABLE_NAME = 'payroll_line' AND TG_OP <> 'TRUNCATE';
  filter text := '';
  derived text;
  removed text;
BEGIN
  IF derived_lines AND TG_OP IN ('INSERT', 'DELETE') THEN
    filter := ' WHERE r.kind <> ''regular''';
  END IF;
  IF TG_OP <> 'TRUNCATE' THEN
    EXECUTE format('SELECT count(*) FROM %s r%s', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END, filter) INTO changed;
  END IF;
  IF derived_lines THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s r WHERE r.kind = ''regular'')%s',
                   CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END,
                   CASE TG_OP WHEN 'UPDATE' THEN ' OR EXISTS (SELECT 1 FROM old_rows r WHERE r.kind = ''regular'')' ELSE '' END)
      INTO derived_lines;
  END IF;
  IF derived_lines THEN
    -- What the statement removed of each county-month's regular lines, and the county-months
    -- whose regular lines it changed.
    removed := $sql$
      SELECT r.county_code, r.month, count(*) AS lines, sum(r.total_fen)::bigint AS total_fen,
             encode(sha256(convert_to(string_agg(payroll_line_text(r.id, r.county_code, r.month, r.for_month, r.kind,
               r.id_number, r.post_id, r.days_in_post, r.post_subsidy_fen, r.social_insurance_fen, r.adjustment_fen, r.name,
               r.bank_account, r.post_subsidy_standard_fen, r.social_insurance_standard_fen, r.held_reason), E'\x1e' ORDER BY r.id),
               'UTF8')), 'hex') AS lines_digest
      FROM old_rows r WHERE r.kind = 'regular' GROUP BY r.county_code, r.month $sql$;
    derived := CASE TG_OP
      WHEN 'INSERT' THEN 'SELECT DISTINCT r.county_code, r.month, NULL::bigint AS lines, NULL::bigint AS total_fen, NULL::text AS lines_digest
                          FROM new_rows r WHERE r.kind = ''regular'''
      WHEN 'DELETE' THEN removed
      ELSE format('SELECT k.county_code, k.month, o.lines, o.total_fen, o.lines_digest
                   FROM (SELECT r.county_code, r.month FROM old_rows r WHERE r.kind = ''regular''
                         UNION SELECT r.county_code, r.month FROM new_rows r WHERE r.kind = ''regular'') k
                   LEFT JOIN (%s) o ON o.county_code = k.county_code AND o.month = k.month', removed) END;
    derived := format($sql$
      SELECT k.county_code || '/' || to_char(k.month, 'YYYY-MM') AS row_key, k.county_code::text AS county_code,
             rpad(k.county_code, 12, '0') AS region_code,
             CASE WHEN k.lines IS NOT NULL THEN json_build_object('county_code', k.county_code, 'month', k.month, 'kind', 'regular',
                    'lines', k.lines, 'total_fen', k.total_fen, 'lines_digest', k.lines_digest) END AS before,
             json_build_object('county_code', k.county_code, 'month', k.month, 'kind', 'regular',
                    'lines', s.lines, 'total_fen', s.total_fen, 'lines_digest', s.lines_digest) AS after
      FROM (%s) k CROSS JOIN LATERAL payroll_lines_state(k.county_code, k.month) s $sql$, derived);
  END IF;
  IF changed = 0 AND derived IS NULL THEN RETURN NULL; END IF;
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
  source := format('SELECT %s AS row_key, %s AS county_code, %s::text AS region_code, %s AS before, %s AS after',
                   CASE WHEN TG_OP = 'TRUNCATE' THEN 'NULL::text' ELSE row_key END,
                   CASE WHEN TG_OP = 'TRUNCATE' THEN 'NULL::text' ELSE county END,
                   CASE WHEN TG_OP = 'TRUNCATE' OR cardinality(region) = 0 THEN 'NULL'
                        ELSE format('coalesce(%s)', array_to_string(region, ', ')) END,
                   CASE TG_OP WHEN 'DELETE' THEN format(as_json, 'r')
                              WHEN 'UPDATE' THEN format('CASE WHEN o.%I IS NULL THEN NULL ELSE %s END', TG_ARGV[0], format(as_json, 'o'))
                              ELSE 'NULL::json' END,
                   CASE TG_OP WHEN 'INSERT' THEN format(as_json, 'r')
                              WHEN 'UPDATE' THEN format('CASE WHEN n.%I IS NULL THEN NULL ELSE %s END', TG_ARGV[0], format(as_json, 'n'))
                              ELSE 'NULL::json' END)
         || CASE TG_OP WHEN 'INSERT' THEN ' FROM new_rows r'
                       WHEN 'DELETE' THEN ' FROM old_rows r'
                       -- Old and new rows of an update pair up by key.
                       WHEN 'UPDATE' THEN ' FROM old_rows o FULL JOIN new_rows n ON '
                                          || (SELECT string_agg(format('o.%1$I = n.%1$I', k), ' AND ') FROM unnest(TG_ARGV) k)
                       ELSE '' END || filter;
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
  -- The rows' entries (none when a statement on payroll_line changed regular lines only), then
  -- the derived entries, which read the lines after taking the chain's head: what they record
  -- is what concurrent writers, serialised by it, left.
  source := CASE WHEN changed = 0 THEN '' ELSE format('SELECT g.row_key, g.county_code, g.region_code, g.before, g.after FROM (%s) g', source) END
            || CASE WHEN changed > 0 AND derived IS NOT NULL THEN ' UNION ALL ' ELSE '' END
            || CASE WHEN derived IS NULL THEN ''
                    ELSE format('SELECT d.row_key, d.county_code, d.region_code, d.before, d.after FROM (%s) d', derived) END;
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

-- The regular lines already there are journaled as they stand, one derived entry per
-- county-month, so that from now on every county-month with regular lines has one.
DO $$
DECLARE
  head journal_head;
  added bigint;
  at timestamptz := now();
BEGIN
  IF NOT EXISTS (SELECT 1 FROM payroll_line WHERE kind = 'regular') THEN
    RETURN;
  END IF;
  SELECT * INTO head FROM journal_head FOR UPDATE;
  INSERT INTO journal (seq, at, role, operation, table_name, row_key, county_code, region_code, row_before, row_after, prev_hash, hash)
  SELECT head.last_seq + c.n, at, session_user, 'INSERT', 'payroll_line', c.row_key, c.county_code, c.region_code, NULL, c.after,
         substring(c.link FOR length(c.link) - 32), substring(c.link FROM length(c.link) - 31)
  FROM (SELECT d.*, row_number() OVER w AS n, journal_chain(head.last_hash, d.digest) OVER w AS link
        FROM (SELECT e.*, journal_digest((extract(epoch FROM at) * 1000000)::bigint, session_user::text, 'INSERT', 'payroll_line',
                                         e.row_key, e.county_code, e.region_code, NULL, e.after) AS digest
              FROM (SELECT k.county_code || '/' || to_char(k.month, 'YYYY-MM') AS row_key, k.county_code::text AS county_code,
                           rpad(k.county_code, 12, '0') AS region_code,
                           json_build_object('county_code', k.county_code, 'month', k.month, 'kind', 'regular',
                             'lines', s.lines, 'total_fen', s.total_fen, 'lines_digest', s.lines_digest) AS after
                    FROM (SELECT DISTINCT l.county_code, l.month FROM payroll_line l WHERE l.kind = 'regular') k
                    CROSS JOIN LATERAL payroll_lines_state(k.county_code, k.month) s
                    ORDER BY 1 OFFSET 0) e OFFSET 0) d
        WINDOW w AS (ORDER BY d.row_key ROWS UNBOUNDED PRECEDING)) c;
  GET DIAGNOSTICS added = ROW_COUNT;
  UPDATE journal_head SET last_seq = head.last_seq + added,
                          last_hash = (SELECT j.hash FROM journal j WHERE j.seq = head.last_seq + added);
END $$;

-- County-months whose regular lines are not what the journal recorded: `lines added`, `lines
-- removed` or `lines altered` when the lines as they stand do not give the latest derived
-- entry's number, total and digest (or there is none: lines added behind the triggers), and
-- `removed lines altered` when a statement that removed all of a county-month's lines (a
-- re-run) removed lines other than those the entry before it recorded. Entries before the
-- latest TRUNCATE of payroll_line no longer describe lines. With the caller's rights, as
-- payroll_seals_broken: an auditor checks the county-months of their region.
CREATE FUNCTION payroll_lines_unjournaled() RETURNS TABLE (county_code text, month date, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  WITH derived AS (
    SELECT j.seq, j.row_before, j.row_after, j.row_after ->> 'county_code' AS county_code, (j.row_after ->> 'month')::date AS month
    FROM journal j
    WHERE j.table_name = 'payroll_line' AND json_typeof(j.row_after) = 'object' AND j.row_after ->> 'lines_digest' IS NOT NULL
      AND j.seq > coalesce((SELECT max(t.seq) FROM journal t WHERE t.table_name = 'payroll_line' AND t.operation = 'TRUNCATE'), 0)
  ), latest AS (
    SELECT DISTINCT ON (d.county_code, d.month) d.county_code, d.month, d.row_after
    FROM derived d ORDER BY d.county_code, d.month, d.seq DESC
  ), kept AS (
    SELECT coalesce(l.county_code, p.county_code) AS county_code, coalesce(l.month, p.month) AS month, l.row_after
    FROM latest l
    FULL JOIN (SELECT DISTINCT pl.county_code::text AS county_code, pl.month FROM payroll_line pl WHERE pl.kind = 'regular') p
      ON p.county_code = l.county_code AND p.month = l.month
  ), removals AS (
    SELECT d.county_code, d.month, d.row_before ->> 'lines_digest' AS removed_digest, (d.row_after ->> 'lines')::bigint AS lines_after,
           lag(d.row_after ->> 'lines_digest') OVER (PARTITION BY d.county_code, d.month ORDER BY d.seq) AS digest_before
    FROM derived d
  )
  SELECT k.county_code, k.month,
         CASE WHEN k.row_after IS NULL OR s.lines > (k.row_after ->> 'lines')::bigint THEN 'lines added'
              WHEN s.lines < (k.row_after ->> 'lines')::bigint THEN 'lines removed'
              ELSE 'lines altered' END
  FROM kept k CROSS JOIN LATERAL payroll_lines_state(k.county_code, k.month) s
  WHERE k.row_after IS NULL OR s.lines <> (k.row_after ->> 'lines')::bigint OR s.total_fen <> (k.row_after ->> 'total_fen')::bigint
     OR s.lines_digest <> k.row_after ->> 'lines_digest'
  UNION
  SELECT r.county_code, r.month, 'removed lines altered' FROM removals r
  WHERE r.removed_digest IS NOT NULL AND r.lines_after = 0 AND r.digest_before IS DISTINCT FROM r.removed_digest
    AND r.digest_before IS NOT NULL
  ORDER BY 1, 2, 3
$$;
REVOKE ALL ON FUNCTION payroll_lines_unjournaled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payroll_lines_unjournaled() TO wp_auditor;

-- One unique index on payroll_line instead of two (issue 17). `payroll_line_once` (county,
-- for_month, person, post, month, kind) is the key every statement looks lines up by, and
-- nobody is paid twice for a post and month by one payroll; the primary key on `id` served no
-- query (lines are never looked up by id: the seal and the digests above sort a county-month's
-- lines by it) and cost a sixth of writing a run's lines. `id` stays the identity the sequence
-- gives each line (GENERATED ALWAYS), the key the journal names a line by.
ALTER TABLE payroll_line DROP CONSTRAINT payroll_line_pkey;
ALTER TABLE payroll_line REPLICA IDENTITY USING INDEX payroll_line_once;

-- payroll_due_worked and payroll_due_counted (sql/0024) again, the same rows: the standards are
-- looked up for every county of the prefix (region, level 3) and every post type, instead of
-- for the pairs found by reading every post of the prefix (SELECT DISTINCT over post: 46 ms of
-- payroll_due's 700 at 200,000 posts, more under an operator's row-level security). Every post's
-- county is a county of the region table (post.region_code references region, each region its
-- parent), so each line finds the standard it found before; pairs without posts join nothing.
CREATE OR REPLACE FUNCTION payroll_due_worked(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH months AS (
    SELECT m.first, m.last, m.days FROM payroll_months(from_month, to_month) m
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
    -- pay_standard_on for each county, type and month, in one statement: the standard set
    -- closest to the county (county, city, province), the latest in force on the first day.
    SELECT DISTINCT ON (k.county_code, k.post_type, m.first) k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT r.county_code, t.code AS post_type FROM region r CROSS JOIN post_type t
          WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
    CROSS JOIN months m
    JOIN pay_standard s ON s.post_type = k.post_type AND s.effective_from <= m.first
     AND s.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
    ORDER BY k.county_code, k.post_type, m.first,
             CASE s.region_code WHEN k.county_code || '000000' THEN 3 WHEN rpad(left(k.county_code, 4), 12, '0') THEN 2 ELSE 1 END DESC,
             s.effective_from DESC
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

CREATE OR REPLACE FUNCTION payroll_due_counted(from_month date, to_month date, county_prefix text DEFAULT '', persons text[] DEFAULT NULL)
RETURNS TABLE (county_code text, month date, id_number text, post_id text, post_type text, month_days int, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint,
               post_subsidy_standard_fen bigint, social_insurance_standard_fen bigint,
               recorded_days int, present_days int, absent_days int, leave_days int, failed boolean, assessed boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH months AS (
    SELECT m.first, m.last, m.days FROM payroll_months(from_month, to_month) m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code ^@ county_prefix AND (persons IS NULL OR s.id_number = ANY (persons))
    GROUP BY s.id_number
  ), att AS (
    -- One string per person and month (two only where the person's posts moved county
    -- between imports).
    SELECT a.id_number, a.month,
           CASE WHEN count(*) = 1 THEN min(a.days)
                ELSE (SELECT attendance_merged(array_agg(x.days)) FROM attendance x
                      WHERE x.id_number = a.id_number AND x.month = a.month AND x.county_code ^@ county_prefix) END AS days
    FROM attendance a
    WHERE a.month BETWEEN from_month AND to_month AND a.county_code ^@ county_prefix AND (persons IS NULL OR a.id_number = ANY (persons))
    GROUP BY a.id_number, a.month
  ), segments AS (
    -- Each contract's days in post in the month, and the part of the month's attendance they
    -- cover (OFFSET 0: cut once, counted three times).
    SELECT x.placement_id, x.county_code, x.post_id, x.id_number, x.first, x.days, x.n,
           CASE WHEN x.n = x.days THEN x.att WHEN x.n > 0 THEN substr(x.att, x.f, x.n) END AS part
    FROM (
      SELECT pl.id AS placement_id, pl.county_code, pl.post_id, pl.id_number, m.first, m.days, att.days AS att, greatest(c.start_on, pl.start_on, m.first) - m.first + 1 AS f,
             greatest(0, least(c.end_on, coalesce(pl.exit_on, c.end_on), m.last, coalesce(d.died_on - 1, c.end_on))
                         - greatest(c.start_on, pl.start_on, m.first) + 1) AS n
      FROM placement pl
      JOIN contract c ON c.placement_id = pl.id
      JOIN months m ON c.start_on <= m.last AND c.end_on >= m.first
                   AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
      LEFT JOIN deaths d ON d.id_number = pl.id_number
      LEFT JOIN att ON att.id_number = pl.id_number AND att.month = m.first
      WHERE pl.county_code ^@ county_prefix AND (persons IS NULL OR pl.id_number = ANY (persons))
      OFFSET 0) x
  ), worked AS (
    SELECT s.placement_id, s.county_code, s.post_id, s.id_number, s.first, s.days, sum(s.n)::int AS days_in_post,
           sum(length(s.part) - length(replace(s.part, 'P', '')))::int AS present,
           sum(length(s.part) - length(replace(s.part, 'A', '')))::int AS absent,
           sum(length(s.part) - length(replace(s.part, 'L', '')))::int AS leave
    FROM segments s GROUP BY s.placement_id, s.county_code, s.post_id, s.id_number, s.first, s.days
  ), standards AS (
    -- pay_standard_on for each county, type and month, in one statement: the standard set
    -- closest to the county (county, city, province), the latest in force on the first day.
    SELECT DISTINCT ON (k.county_code, k.post_type, m.first) k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT r.county_code, t.code AS post_type FROM region r CROSS JOIN post_type t
          WHERE r.level = 3 AND r.county_code ^@ county_prefix) k
    CROSS JOIN months m
    JOIN pay_standard s ON s.post_type = k.post_type AND s.effective_from <= m.first
     AND s.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
    ORDER BY k.county_code, k.post_type, m.first,
             CASE s.region_code WHEN k.county_code || '000000' THEN 3 WHEN rpad(left(k.county_code, 4), 12, '0') THEN 2 ELSE 1 END DESC,
             s.effective_from DESC
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, min(p.post_type), w.days, sum(w.days_in_post)::int,
         sum(CASE WHEN a.result = 'fail' THEN 0
                  ELSE (2 * coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0)) + w.days) / (2 * w.days) END)::bigint,
         sum((2 * coalesce(s.social_insurance_fen, 0) * w.days_in_post + w.days) / (2 * w.days))::bigint,
         max(s.monthly_fen), max(s.social_insurance_fen),
         coalesce(sum(w.present + w.absent + w.leave), 0)::int, coalesce(sum(w.present), 0)::int,
         coalesce(sum(w.absent), 0)::int, coalesce(sum(w.leave), 0)::int,
         bool_or(a.result = 'fail'), bool_or(a.placement_id IS NOT NULL)
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0
  GROUP BY w.county_code, w.first, w.id_number, w.post_id, w.days;
END;

