-- Bringing an existing ledger in (issue 16, SPEC §10 and §16): `post import` keeps the post IDs a
-- county's ledger gives, and assigns the others as `post propose` does. The serial of a county
-- then skips every ID already taken, whoever wrote it: a ledger's own numbers and the product's
-- serial live side by side, and a proposal never collides with an imported post.

-- The next `wanted` free serials of a county after `after`, skipping IDs already held by a post
-- (in any region: row-level security must not hide a taken number) and those in `also_taken`
-- (the IDs a file gives). An ID is the county, a dash and the serial, zero-padded to five digits.
CREATE FUNCTION post_free_serials(county text, after int, wanted int, also_taken text[])
RETURNS SETOF int LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT n FROM generate_series(after + 1, after + wanted
           + (SELECT count(*)::int FROM post WHERE county_code = county) + coalesce(cardinality(also_taken), 0)) n
  WHERE (SELECT caller_scope()) IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM post p WHERE p.id = county || '-' || CASE WHEN n < 100000 THEN lpad(n::text, 5, '0') ELSE n::text END)
    AND NOT (county || '-' || CASE WHEN n < 100000 THEN lpad(n::text, 5, '0') ELSE n::text END) = ANY (coalesce(also_taken, '{}'))
  ORDER BY n LIMIT wanted
$$;
REVOKE ALL ON FUNCTION post_free_serials(text, int, int, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION post_free_serials(text, int, int, text[]) TO wp_township_admin, wp_county_admin;

-- Of the post IDs passed, those that exist (in any region): a ledger's ID already taken is
-- refused as already imported, not as "unknown" behind row-level security.
CREATE FUNCTION posts_existing(ids text[]) RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT p.id FROM post p WHERE (SELECT caller_scope()) IS NOT NULL AND p.id = ANY (ids) AND cardinality(ids) <= 100000
$$;
REVOKE ALL ON FUNCTION posts_existing(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION posts_existing(text[]) TO wp_township_admin, wp_county_admin;

-- HOUSEHOLD_CAP for a file's placements at once: for each (line, person, from, to), the most
-- other members of the person's household (as it was on each day) in post on any one day
-- from `from` to `to` (NULL: from then on) — household_in_post (sql/0017b) for many rows in one
-- statement. Whole households, whatever the caller's region hides, for persons the caller may
-- see; lines with no other member in post are left out.
CREATE FUNCTION household_in_post_many(lines int[], member_ids text[], from_days date[], to_days date[])
RETURNS TABLE (line int, others int) LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  WITH x AS MATERIALIZED (
    SELECT u.line, u.id, daterange(u.f, u.t, '[]') AS days FROM unnest(lines, member_ids, from_days, to_days) u(line, id, f, t)
    WHERE cardinality(lines) <= 100000
  ), me AS MATERIALIZED (
    SELECT x.line, x.id, v.county_code, v.household_id, v.valid * x.days AS r
    FROM x JOIN person p ON p.id_number = x.id AND p.village_code LIKE (SELECT caller_scope()) || '%'
    JOIN person_version v ON v.id_number = x.id AND v.valid && x.days
  ), others AS MATERIALIZED (
    SELECT m.line, m.r * o.valid * daterange(pl.start_on, pl.exit_on, '[]') AS r
    FROM me m
    JOIN person_version o ON o.county_code = m.county_code AND o.household_id = m.household_id AND o.id_number <> m.id AND o.valid && m.r
    JOIN placement pl ON pl.id_number = o.id_number AND daterange(pl.start_on, pl.exit_on, '[]') && (m.r * o.valid)
  )
  SELECT a.line, max((SELECT count(*) FROM others b WHERE b.line = a.line AND b.r @> lower(a.r)))::int
  FROM others a GROUP BY a.line
$$;
REVOKE ALL ON FUNCTION household_in_post_many(int[], text[], date[], date[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION household_in_post_many(int[], text[], date[], date[]) TO wp_township_admin, wp_county_admin;
