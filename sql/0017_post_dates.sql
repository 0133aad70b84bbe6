-- History, part 1 (issue 13, SPEC §5): a post's transitions have dates, in order, and its state
-- on a day follows from them — one SQL function, read by every listing, rule and report — so
-- that the answer for a day never depends on when the transition was typed in.

-- A post's state on a day, from its dates: NULL before it was proposed; closed from its closing
-- date; approved (in force) from its approval date; rejected from its rejection date; else
-- proposed. A SQL-standard body: bound now, inlined where it is used.
CREATE FUNCTION post_state_on(proposed_on date, approved_on date, rejected_on date, closed_on date, day date)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN day < proposed_on THEN NULL
            WHEN closed_on <= day THEN 'closed'
            WHEN approved_on <= day THEN 'approved'
            WHEN rejected_on <= day THEN 'rejected'
            ELSE 'proposed' END;
GRANT EXECUTE ON FUNCTION post_state_on(date, date, date, date, date)
  TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

-- The dates keep their order: proposed ≤ approved or rejected < closed (post_state_dates of
-- 0003 already has approved < closed). NOT VALID first, so that a county whose earlier
-- approvals were typed with dates before their proposals can still upgrade; validated at once
-- where the rows allow it (they do unless someone backdated an approval before this).
ALTER TABLE post ADD CONSTRAINT post_dates_in_order
  CHECK (approved_on >= proposed_on AND rejected_on >= proposed_on AND closed_on > approved_on) NOT VALID;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM post WHERE approved_on < proposed_on OR rejected_on < proposed_on) THEN
    ALTER TABLE post VALIDATE CONSTRAINT post_dates_in_order;
  END IF;
END $$;

-- POST_NOT_OPEN in the database: a placement lies within its post's days in force — it starts
-- on or after the approval date, and ends (has an exit) before the closing date. Checked per
-- statement over the rows it wrote (a placement import checks its rows in one join), from
-- both sides: placements written, and posts whose dates change.
CREATE FUNCTION placement_within_post() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  IF TG_TABLE_NAME = 'placement' THEN
    SELECT n.post_id, n.start_on, n.exit_on, p.approved_on, p.closed_on INTO bad
    FROM new_rows n JOIN post p ON p.id = n.post_id
    WHERE p.approved_on IS NULL OR n.start_on < p.approved_on
       OR (p.closed_on IS NOT NULL AND (n.exit_on IS NULL OR n.exit_on >= p.closed_on))
    LIMIT 1;
  ELSE
    SELECT pl.post_id, pl.start_on, pl.exit_on, n.approved_on, n.closed_on INTO bad
    FROM new_rows n JOIN placement pl ON pl.post_id = n.id AND pl.county_code = n.county_code
    WHERE n.approved_on IS NULL OR pl.start_on < n.approved_on
       OR (n.closed_on IS NOT NULL AND (pl.exit_on IS NULL OR pl.exit_on >= n.closed_on))
    LIMIT 1;
  END IF;
  IF bad.post_id IS NOT NULL THEN
    RAISE EXCEPTION 'post % is in force from % % : a placement from % to % lies outside it', bad.post_id,
      coalesce(bad.approved_on::text, '(not approved)'), coalesce('until ' || bad.closed_on::text, ''), bad.start_on,
      coalesce(bad.exit_on::text, '(open)')
      USING ERRCODE = 'check_violation', CONSTRAINT = 'post_not_open';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER placement_within_post_insert AFTER INSERT ON placement
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION placement_within_post();
CREATE TRIGGER placement_within_post_update AFTER UPDATE ON placement
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION placement_within_post();
CREATE TRIGGER post_dates_hold_placements AFTER UPDATE ON post
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION placement_within_post();
REVOKE ALL ON FUNCTION placement_within_post() FROM PUBLIC;

-- OVER_QUOTA (SPEC §7): more posts in force in a county on a day than that year's quota. A
-- quota cut below the posts in force is accepted (with a warning) and reported here; so is a
-- county that was over its quota before the approvals were checked day by day.
UPDATE audit_rule SET position = position + 100 WHERE position >= 4;
UPDATE audit_rule SET position = position - 99 WHERE position >= 100;
INSERT INTO audit_rule (code, position, title_zh, basis) VALUES
  ('OVER_QUOTA', 4, '岗位数量超过总量', '人社部发〔2021〕26号（十二）保持乡村公益性岗位规模总体稳定');

-- The number of posts in force changes only on approval and closing dates, and the quota on
-- the first day of a year: between two such days it is constant. Each stretch over the quota,
-- up to the as-of date, is one case per county and year (consecutive stretches joined).
CREATE VIEW audit_over_quota WITH (security_invoker = true) AS
  WITH a AS (SELECT audit_as_of() AS day OFFSET 0),
  changes AS (
    SELECT p.county_code, p.approved_on AS day, 1 AS delta FROM post p CROSS JOIN a
    WHERE p.approved_on <= a.day
    UNION ALL
    SELECT p.county_code, p.closed_on, -1 FROM post p CROSS JOIN a WHERE p.closed_on <= a.day
    UNION ALL
    -- The first day of every year with a quota, and of the year after it (where it stops).
    SELECT left(q.county_code, 6), make_date(y, 1, 1), 0
    FROM post_quota q CROSS JOIN a CROSS JOIN LATERAL (VALUES (q.year), (q.year + 1)) v(y)
    WHERE make_date(y, 1, 1) <= a.day
  ), steps AS (
    SELECT c.county_code, c.day, sum(c.delta)::int AS delta FROM changes c GROUP BY c.county_code, c.day
  ), levels AS (
    SELECT s.county_code, s.day,
           sum(s.delta) OVER (PARTITION BY s.county_code ORDER BY s.day)::int AS in_force,
           coalesce(lead(s.day) OVER (PARTITION BY s.county_code ORDER BY s.day) - 1, (SELECT day FROM a)) AS until
    FROM steps s
  ), judged AS (
    SELECT l.*, q.posts AS quota, extract(year FROM l.day)::int AS year,
           l.in_force > coalesce(q.posts, 2147483647) AS over
    FROM levels l LEFT JOIN post_quota q ON q.county_code = l.county_code || '000000' AND q.year = extract(year FROM l.day)
  ), islands AS (
    SELECT j.*, count(*) FILTER (WHERE NOT j.over) OVER (PARTITION BY j.county_code ORDER BY j.day) AS island FROM judged j
  ), cases AS (
    SELECT i.county_code, i.year, min(i.quota) AS quota, min(i.day) AS from_on, max(i.until) AS to_on, max(i.in_force) AS most
    FROM islands i WHERE i.over GROUP BY i.county_code, i.year, i.island
  )
  SELECT 'OVER_QUOTA'::text AS rule, c.county_code, NULL::text AS township_code, NULL::text AS village_code,
         c.county_code || '000000' AS region_code, NULL::text AS id_number, NULL::text AS post_id,
         c.from_on, c.to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         format('%s posts in force from %s to %s, above the %s quota of %s: close posts or raise the quota with `policy quota`',
                c.most, c.from_on, c.to_on, c.year, c.quota) AS explanation,
         format('%s 至 %s 在册岗位 %s 个，超过 %s 年岗位总量 %s 个：请撤销岗位或用 `policy quota` 调整总量',
                c.from_on, c.to_on, c.most, c.year, c.quota) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'OVER_QUOTA') AS basis
  FROM cases c;
GRANT SELECT ON audit_over_quota TO wp_auditor;

CREATE OR REPLACE VIEW audit_state_violation WITH (security_invoker = true) AS
  SELECT * FROM audit_deceased_in_post
  UNION ALL SELECT * FROM audit_ineligible_in_post
  UNION ALL SELECT * FROM audit_over_age_in_post
  UNION ALL SELECT * FROM audit_household_over_cap
  UNION ALL SELECT * FROM audit_no_contract
  UNION ALL SELECT * FROM audit_uninsured
  UNION ALL SELECT * FROM audit_duplicate_payment
  UNION ALL SELECT * FROM audit_paid_to_other_account
  UNION ALL SELECT * FROM audit_repeated_failure
  UNION ALL SELECT * FROM audit_vacant_too_long
  UNION ALL SELECT * FROM audit_over_quota;

-- VACANT_TOO_LONG reads the post's state on the as-of date through post_state_on, like the
-- ledger and the listings.
CREATE OR REPLACE VIEW audit_vacant_too_long WITH (security_invoker = true) AS
  SELECT 'VACANT_TOO_LONG'::text AS rule, po.county_code, township_of(po.region_code) AS township_code,
         village_of(po.region_code) AS village_code, po.region_code, NULL::text AS id_number, po.id AS post_id,
         v.since AS from_on, a.day AS to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         format('vacant for %s days (since %s): hire someone or close the post', a.day - v.since + 1, v.since) AS explanation,
         format('已空缺 %s 天（%s 起）：请聘用人员或撤销岗位', a.day - v.since + 1, v.since) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'VACANT_TOO_LONG') AS basis
  FROM post po
  CROSS JOIN (SELECT audit_as_of() AS day) a
  LEFT JOIN (SELECT pl.post_id, max(pl.exit_on) FILTER (WHERE pl.exit_on IS NOT NULL) AS last_exit,
                    bool_or(pl.exit_on IS NULL OR pl.exit_on >= audit_as_of()) AS held
             FROM placement pl WHERE pl.start_on <= audit_as_of() GROUP BY pl.post_id) h ON h.post_id = po.id
  CROSS JOIN LATERAL (SELECT greatest(po.approved_on, h.last_exit + 1) AS since) v
  WHERE post_state_on(po.proposed_on, po.approved_on, po.rejected_on, po.closed_on, a.day) = 'approved'
    AND h.held IS NOT TRUE AND a.day - v.since + 1 > 90;
