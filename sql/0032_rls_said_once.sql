-- Row-level security of the tables added after sql/0014, said once (code health, issue 17).
-- sql/0017b, 0017c, 0019_1, 0019_2 and 0020 wrote each table's two policies out by hand, near
-- copies of each other; here they are dropped and made again by one loop in sql/0014's form:
-- county administrators, finance and auditors by the row's county_code within their region
-- (`operator_code_range()`), township administrators by their county (`operator_county_range()`)
-- and the parent(s) they see; a written row must name a parent the writer sees.
--
-- Each operator reads and writes exactly the rows it did. What the text changes:
-- * Every parent subquery now bounds the parent's county to the operator's county, as 0014's
--   do (application, notice, notice_objection, attendance, recovery, bank_failure and
--   bank_resubmission had `IN (SELECT … FROM parent)` alone). The parent's own policy already
--   keeps each row it shows within that county (a county-level operator's region is a county or
--   above, where the county range is the region's own range; a township's rows are in its
--   county), so the subquery gives the same keys; estimated at 0.5% of the parent, it is
--   hashed once per statement rather than possibly probed row by row (0014, point 3).
-- * placement_void gets 0014's placement WITH CHECK (the post) where it had none (USING then
--   checked writes too): no operator may insert into or update it (placement_void() writes it
--   as the owner), so no write is checked by it.
DO $$
DECLARE
  -- The row's county within the region of a county administrator, finance or an auditor ...
  wide constant text := 'county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])';
  -- ... or within a township administrator's county.
  county constant text := 'county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])';
  -- A parent's row the operator sees, within its county (%1$s: column, %2$s: parent, %3$s: its key).
  parent constant text := '%1$s IN (SELECT %3$s FROM %2$s WHERE county_code >= ((SELECT operator_county_range()))[1]'
                          ' AND county_code < ((SELECT operator_county_range()))[2])';
  t record;
BEGIN
  -- Each table with the parents a township's row follows, OR-ed in order; `writes`: a written
  -- row must name that parent too (else it is read by it only).
  FOR t IN
    SELECT v.tab,
           '(' || string_agg(format(parent, v.col, v.par, v.key), ' OR ' ORDER BY v.n) FILTER (WHERE v.writes) || ')' AS writes,
           '(' || string_agg(format(parent, v.col, v.par, v.key), ' OR ' ORDER BY v.n) FILTER (WHERE v.par IS NOT NULL) || ')' AS reads
    FROM (VALUES
      (1, 'person_history', 'id_number', 'person', 'id_number', true),
      -- As placement (0014): by the post, or read by the person's township too.
      (2, 'placement_void', 'post_id', 'post', 'id', true),
      (3, 'placement_void', 'id_number', 'person', 'id_number', false),
      (4, 'application', 'post_id', 'post', 'id', true),
      (5, 'notice', 'post_id', 'post', 'id', true),
      (6, 'notice_objection', 'notice_id', 'notice', 'id', true),
      -- A person's month belongs to the region of their record or of their post (the township
      -- of a post records its holder's attendance, whose record it may not see).
      (7, 'attendance', 'id_number', 'person', 'id_number', true),
      (8, 'attendance', 'id_number', 'placement', 'id_number', true),
      (9, 'bank_profile', NULL, NULL, NULL, NULL),
      (10, 'bank_batch', NULL, NULL, NULL, NULL),
      (11, 'recovery', 'post_id', 'post', 'id', true),
      (12, 'bank_failure', 'id_number', 'person', 'id_number', true),
      (13, 'bank_resubmission', 'failure_id', 'bank_failure', 'id', true)
    ) AS v (n, tab, col, par, key, writes)
    GROUP BY v.tab ORDER BY min(v.n)
  LOOP
    EXECUTE format('DROP POLICY in_county ON %I', t.tab);
    EXECUTE format('DROP POLICY in_township ON %I', t.tab);
    EXECUTE format('CREATE POLICY in_county ON %I TO wp_county_admin, wp_finance, wp_auditor USING (%s) WITH CHECK (%s)',
                   t.tab, wide, concat_ws(' AND ', wide, t.writes));
    EXECUTE format('CREATE POLICY in_township ON %I TO wp_township_admin USING (%s) WITH CHECK (%s)',
                   t.tab, concat_ws(' AND ', county, t.reads), concat_ws(' AND ', county, t.writes));
  END LOOP;
END $$;
