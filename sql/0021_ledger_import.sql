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
  WHERE caller_scope() IS NOT NULL
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
  SELECT p.id FROM post p WHERE caller_scope() IS NOT NULL AND p.id = ANY (ids) AND cardinality(ids) <= 100000
$$;
REVOKE ALL ON FUNCTION posts_existing(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION posts_existing(text[]) TO wp_township_admin, wp_county_admin;
