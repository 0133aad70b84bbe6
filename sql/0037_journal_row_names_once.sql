-- `journal show --entity` at the speed of the entries it reads (issue 17). journal_row (0023)
-- unpacks a bulk entry row by row; its column names, read from the entry's first element, were
-- a lateral subquery the planner pulled up into every row's `json_object`, so the whole entry's
-- text was parsed again for each of its rows (0.43 ms a row for entries of 484 persons: 0.88 s
-- to find one person in four entries, where the rows themselves take 12 ms). `OFFSET 0` keeps
-- the names a subquery of their own, made once per entry. The rows are the same, column for
-- column (the view is otherwise 0023's, word for word).
CREATE OR REPLACE VIEW journal_row WITH (security_invoker = true) AS
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
CROSS JOIN LATERAL (SELECT ARRAY(SELECT json_array_elements_text(coalesce(j.row_after, j.row_before) -> 0)) AS names OFFSET 0) h
CROSS JOIN LATERAL ROWS FROM (json_array_elements(j.row_before -> 1), json_array_elements(j.row_after -> 1)) WITH ORDINALITY AS x(b, a, item)
CROSS JOIN LATERAL (SELECT CASE WHEN json_typeof(x.b) = 'array' THEN json_object(h.names, ARRAY(SELECT json_array_elements_text(x.b))) END AS before,
                           CASE WHEN json_typeof(x.a) = 'array' THEN json_object(h.names, ARRAY(SELECT json_array_elements_text(x.a))) END AS after) y
CROSS JOIN LATERAL (SELECT coalesce(y.after, y.before) AS el) r
WHERE json_typeof(coalesce(j.row_after, j.row_before)) = 'array';
