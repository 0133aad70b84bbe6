-- A post's ID is its county, a dash and its serial, zero-padded to five digits (320321-00017).
-- Said once here: `post propose` (Posts.swift), the ledger import's assigned IDs and the free
-- serials below all spelled it out before.
CREATE FUNCTION post_id_of(county text, serial int) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT county || '-' || CASE WHEN serial < 100000 THEN lpad(serial::text, 5, '0') ELSE serial::text END;
END;
GRANT EXECUTE ON FUNCTION post_id_of(text, int) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor;

CREATE OR REPLACE FUNCTION post_free_serials(county text, after int, wanted int, also_taken text[])
RETURNS SETOF int LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT n FROM generate_series(after + 1, after + wanted
           + (SELECT count(*)::int FROM post WHERE county_code = county) + coalesce(cardinality(also_taken), 0)) n
  WHERE (SELECT caller_scope()) IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM post p WHERE p.id = post_id_of(county, n))
    AND NOT post_id_of(county, n) = ANY (coalesce(also_taken, '{}'))
  ORDER BY n LIMIT wanted
$$;
