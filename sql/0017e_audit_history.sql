-- History, part 5 (issue 13, SPEC §7): the audit reads each fact as it was on the day it
-- concerns, and puts money on the findings about people.
--
-- * Facts by day: a placement is cut into segments by the versions of its person's facts
--   (`audit_placement_fact`), and the eligibility policy into the periods it was in force per
--   county (`audit_county_policy_period`): INELIGIBLE_IN_POST judges the category in force each
--   day against the policy in force that day, the village-cadre rule and HOUSEHOLD_OVER_CAP take
--   households as they were each day, OVER_AGE_IN_POST the maximum age in force each day, and
--   PAID_TO_OTHER_ACCOUNT the account registered on the payment date.
-- * Money at stake (`audit_stake`): for INELIGIBLE_IN_POST and OVER_AGE_IN_POST, what was
--   booked for the days concerned — per month, what the approved payroll booked for it (its
--   line and every adjustment made for it since; what is due, for a month with no approved
--   payroll), in the share of the month's days in post that the case covers; for
--   DECEASED_IN_POST, what approved months booked beyond what is due for the days before death
--   (exactly what the next payroll run takes back).
-- * One account of a death: nobody is in post on or after the day they died (SPEC §5), so the
--   exit — the last day in post — is dated the day before; a placement still open on the day
--   of death is a case, whatever its exit reason (the exception of 0006 for an exit on the day
--   of death is gone), and `exit` refuses a date on or after a recorded death.
-- * Payments without a post are matched against the person's total booked for the month
--   across their posts; a person paid once per post they held that month is no duplicate.

-- The eligibility policy of each county with posts, period by period: a new period starts
-- wherever the county or one of its ancestors set a value.
CREATE VIEW audit_county_policy_period WITH (security_invoker = true) AS
  WITH k AS (SELECT DISTINCT county_code FROM post),
  starts AS (
    SELECT k.county_code, '-infinity'::date AS from_on FROM k
    UNION
    SELECT k.county_code, e.effective_from FROM k JOIN eligibility_policy e
      ON e.region_code IN (rpad(left(k.county_code, 2), 12, '0'), rpad(left(k.county_code, 4), 12, '0'), k.county_code || '000000')
  )
  SELECT s.county_code, daterange(s.from_on, lead(s.from_on) OVER (PARTITION BY s.county_code ORDER BY s.from_on)) AS valid,
         e.min_age, e.max_age, e.household_cap, e.categories
  FROM starts s CROSS JOIN LATERAL eligibility_on(s.county_code || '000000', s.from_on) e;

-- audit_placement (0006) again, with the first day of its person's current facts and their
-- county, so that the placements of persons without history (nearly all) need no other join.
CREATE OR REPLACE VIEW audit_placement WITH (security_invoker = true) AS
  SELECT pl.id, pl.county_code, pl.post_id, pl.id_number, pl.start_on, pl.exit_on, pl.exit_reason,
         least(coalesce(pl.exit_on, a.day), a.day) AS last_on, a.day AS as_of,
         po.region_code, pe.household_id, pe.category, pe.name,
         d.died_on, pe.facts_from, pe.county_code AS person_county
  FROM placement pl
  CROSS JOIN (SELECT audit_as_of() AS day) a
  JOIN post po ON po.id = pl.post_id
  JOIN person pe ON pe.id_number = pl.id_number
  LEFT JOIN (SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s WHERE s.status = 'deceased' GROUP BY s.id_number) d
    ON d.id_number = pl.id_number AND d.died_on <= a.day
  WHERE pl.start_on <= a.day;

-- Each placement's days (as audit_placement sees them) cut by its person's facts: the
-- household and category in force on each segment. The current facts come with the placement;
-- older ones from person_history, joined only for the persons who have any.
CREATE VIEW audit_placement_fact WITH (security_invoker = true) AS
  SELECT p.id, p.county_code, p.post_id, p.id_number, p.region_code, p.start_on, p.exit_on, p.exit_reason, p.last_on,
         p.as_of, p.died_on, greatest(p.start_on, p.facts_from) AS from_on, p.last_on AS to_on,
         p.person_county AS household_county, p.household_id, p.category
  FROM audit_placement p
  WHERE p.facts_from IS NULL OR p.facts_from <= p.last_on
  UNION ALL
  SELECT p.id, p.county_code, p.post_id, p.id_number, p.region_code, p.start_on, p.exit_on, p.exit_reason, p.last_on,
         p.as_of, p.died_on, greatest(p.start_on, lower(h.valid)), least(p.last_on, upper(h.valid) - 1),
         h.county_code, h.household_id, h.category
  FROM person_history h JOIN audit_placement p ON p.id_number = h.id_number AND h.valid && daterange(p.start_on, p.last_on, '[]');

-- What was booked for some days of some people's posts. `cases`: a JSON array of objects with
-- id_number, post_id, from_on and to_on. Priced once for all of them: one payroll_due for
-- their persons and months.
CREATE FUNCTION audit_stake(cases jsonb, after_death boolean)
RETURNS TABLE (id_number text, post_id text, from_on date, to_on date, amount_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp SET enable_nestloop = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  first_month date;
  last_month date;
  ids text[];
BEGIN
  IF cases IS NULL OR jsonb_array_length(cases) = 0 THEN
    RETURN;
  END IF;
  SELECT min(date_trunc('month', c.from_on))::date, max(date_trunc('month', c.to_on))::date, array_agg(DISTINCT c.id_number)
    INTO first_month, last_month, ids
  FROM jsonb_to_recordset(cases) AS c(id_number text, post_id text, from_on date, to_on date);
  RETURN QUERY
  WITH c AS (
    SELECT DISTINCT x.id_number, x.post_id, x.from_on, x.to_on
    FROM jsonb_to_recordset(cases) AS x(id_number text, post_id text, from_on date, to_on date)
  ), due AS (
    SELECT d.id_number, d.post_id, d.month, d.days_in_post, d.post_subsidy_fen + d.social_insurance_fen AS due_fen
    FROM payroll_due(first_month, last_month, audit_county(), ids) d
  ), booked AS (
    SELECT l.id_number, l.post_id, l.for_month AS month, sum(l.total_fen)::bigint AS total
    FROM payroll_line l JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
    WHERE l.id_number = ANY (ids) AND l.for_month BETWEEN first_month AND last_month
    GROUP BY l.id_number, l.post_id, l.for_month
  ), worked AS (
    -- The days under contract in each of the persons' placements, post by post.
    SELECT pl.id_number, pl.post_id, min(pl.county_code) AS county_code,
           range_agg(daterange(greatest(ct.start_on, pl.start_on), least(ct.end_on, coalesce(pl.exit_on, ct.end_on)), '[]')) AS days
    FROM placement pl JOIN contract ct ON ct.placement_id = pl.id
    WHERE pl.id_number = ANY (ids) AND greatest(ct.start_on, pl.start_on) <= least(ct.end_on, coalesce(pl.exit_on, ct.end_on))
    GROUP BY pl.id_number, pl.post_id
  ), months AS (
    SELECT c.id_number, c.post_id, c.from_on, c.to_on, w.county_code, m::date AS month,
           (SELECT coalesce(sum(upper(r) - lower(r)), 0)::int
            FROM unnest(w.days * datemultirange(daterange(greatest(c.from_on, m::date),
                                                          least(c.to_on, (m + interval '1 month' - interval '1 day')::date), '[]'))) r) AS case_days
    FROM c JOIN worked w ON w.id_number = c.id_number AND w.post_id = c.post_id
    CROSS JOIN generate_series(date_trunc('month', c.from_on), date_trunc('month', c.to_on), interval '1 month') m
  ), priced AS (
    SELECT m.id_number, m.post_id, m.from_on, m.to_on,
           CASE WHEN after_death THEN
                  -- Due now stops the day before death: what approved months booked beyond it.
                  CASE WHEN r.month IS NOT NULL THEN greatest(0, coalesce(b.total, 0) - coalesce(d.due_fen, 0)) ELSE 0 END
                WHEN coalesce(d.days_in_post, 0) = 0 THEN 0
                ELSE round(CASE WHEN r.month IS NOT NULL THEN coalesce(b.total, 0) ELSE d.due_fen END
                           * least(m.case_days, d.days_in_post)::numeric / d.days_in_post)::bigint END AS fen
    FROM months m
    LEFT JOIN payroll_run r ON r.county_code = m.county_code AND r.month = m.month AND r.state = 'approved'
    LEFT JOIN booked b ON b.id_number = m.id_number AND b.post_id = m.post_id AND b.month = m.month
    LEFT JOIN due d ON d.id_number = m.id_number AND d.post_id = m.post_id AND d.month = m.month
  )
  SELECT p.id_number, p.post_id, p.from_on, p.to_on, sum(p.fen)::bigint FROM priced p
  GROUP BY p.id_number, p.post_id, p.from_on, p.to_on;
END $$;
GRANT EXECUTE ON FUNCTION audit_stake(jsonb, boolean) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor, wp_system_admin;

CREATE OR REPLACE VIEW audit_deceased_in_post WITH (security_invoker = true) AS
  WITH cases AS (
    SELECT p.*, greatest(p.start_on, p.died_on) AS from_on FROM audit_placement p
    WHERE p.died_on IS NOT NULL AND p.last_on >= p.died_on
  ), stakes AS (
    SELECT s.* FROM audit_stake((SELECT jsonb_agg(jsonb_build_object('id_number', c.id_number, 'post_id', c.post_id,
                                                                      'from_on', c.from_on, 'to_on', c.last_on)) FROM cases c), true) s
  )
  SELECT 'DECEASED_IN_POST'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         p.from_on, p.last_on AS to_on, NULL::date AS month, coalesce(s.amount_fen, 0) AS amount_fen,
         CASE WHEN p.start_on >= p.died_on
              THEN format('died on %s, before this placement began on %s: cancel it with `hire --void` and recover any pay', p.died_on, p.start_on)
              WHEN p.exit_on IS NULL OR p.exit_on >= p.as_of
              THEN format('died on %s and is still in post: record the exit dated %s (the last day in post, reason deceased) and recover %s booked after the death',
                          p.died_on, p.died_on - 1, yuan_text(coalesce(s.amount_fen, 0)))
              ELSE format('died on %s but the exit was recorded as %s: correct it with `exit --correct` to %s, the last day in post, and recover %s booked after the death',
                          p.died_on, p.exit_on, p.died_on - 1, yuan_text(coalesce(s.amount_fen, 0))) END AS explanation,
         CASE WHEN p.start_on >= p.died_on
              THEN format('已于 %s 死亡，早于本次聘用开始日 %s：请用 `hire --void` 撤销该聘用并追回补贴', p.died_on, p.start_on)
              WHEN p.exit_on IS NULL OR p.exit_on >= p.as_of
              THEN format('已于 %s 死亡仍在岗：请办理退岗（退岗日期即最后在岗日，为死亡前一日 %s，原因“死亡”），并追回死亡后已列支的 %s 元',
                          p.died_on, p.died_on - 1, yuan_text(coalesce(s.amount_fen, 0)))
              ELSE format('已于 %s 死亡，退岗日期却记为 %s：请用 `exit --correct` 更正为最后在岗日 %s，并追回死亡后已列支的 %s 元',
                          p.died_on, p.exit_on, p.died_on - 1, yuan_text(coalesce(s.amount_fen, 0))) END AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'DECEASED_IN_POST') AS basis
  FROM cases p
  LEFT JOIN stakes s ON s.id_number = p.id_number AND s.post_id = p.post_id AND s.from_on = p.from_on AND s.to_on = p.last_on;

CREATE OR REPLACE VIEW audit_ineligible_in_post WITH (security_invoker = true) AS
  WITH own AS (
    -- The person's own excluded statuses, each day it is in force (days after a death are
    -- DECEASED_IN_POST's).
    SELECT p.county_code, p.region_code, p.id_number, p.post_id, s.status, greatest(p.start_on, s.valid_from) AS from_on,
           least(p.last_on, coalesce(s.valid_to, p.last_on), coalesce(p.died_on - 1, p.last_on)) AS to_on
    FROM audit_placement p JOIN person_status s ON s.id_number = p.id_number AND s.status <> 'deceased'
    WHERE s.valid_from <= p.last_on AND coalesce(s.valid_to, p.last_on) >= p.start_on
  ), cadre AS (
    -- A village cadre in the household as it was each day.
    SELECT f.county_code, f.region_code, f.id_number, f.post_id, pm.name AS member, s.valid_from,
           greatest(f.from_on, lower(m.valid), s.valid_from) AS from_on,
           least(f.to_on, upper(m.valid) - 1, coalesce(s.valid_to, f.to_on), coalesce(f.died_on - 1, f.to_on)) AS to_on
    FROM audit_placement_fact f
    JOIN person_version m ON m.county_code = f.household_county AND m.household_id = f.household_id AND m.id_number <> f.id_number
     AND m.valid && daterange(f.from_on, f.to_on, '[]')
    JOIN person pm ON pm.id_number = m.id_number
    JOIN person_status s ON s.id_number = m.id_number AND s.status = 'village-cadre'
    WHERE s.valid_from <= f.to_on AND coalesce(s.valid_to, f.to_on) >= f.from_on
  ), cadre_days AS (
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.member, lower(r) AS from_on, upper(r) - 1 AS to_on
    FROM (SELECT c.county_code, c.region_code, c.id_number, c.post_id, c.member, c.valid_from,
                 range_agg(daterange(c.from_on, c.to_on, '[]')) AS days
          FROM cadre c WHERE c.from_on <= c.to_on GROUP BY 1, 2, 3, 4, 5, 6) g
    CROSS JOIN LATERAL unnest(g.days) r
  ), category AS (
    -- The category in force each day against the policy in force that day.
    SELECT f.county_code, f.region_code, f.id_number, f.post_id, f.category, c.categories,
           greatest(f.from_on, lower(c.valid)) AS from_on,
           least(f.to_on, upper(c.valid) - 1, coalesce(f.died_on - 1, f.to_on)) AS to_on
    FROM audit_placement_fact f
    JOIN audit_county_policy_period c ON c.county_code = f.county_code AND c.valid && daterange(f.from_on, f.to_on, '[]')
    WHERE NOT f.category = ANY (c.categories)
  ), category_days AS (
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.category, g.categories, lower(r) AS from_on, upper(r) - 1 AS to_on
    FROM (SELECT c.county_code, c.region_code, c.id_number, c.post_id, c.category, c.categories,
                 range_agg(daterange(c.from_on, c.to_on, '[]')) AS days
          FROM category c WHERE c.from_on <= c.to_on GROUP BY 1, 2, 3, 4, 5, 6) g
    CROSS JOIN LATERAL unnest(g.days) r
  ), cases AS (
    SELECT o.county_code, o.region_code, o.id_number, o.post_id, o.from_on, o.to_on,
           format('in post while status ''%s'' is in force (from %s): record the exit (reason no-longer-eligible)', o.status, o.from_on) AS explanation,
           format('在岗期间存在“%s”情形（%s 起）：请办理退岗（不再符合条件）', k.label_zh, o.from_on) AS explanation_zh
    FROM own o JOIN person_status_kind k ON k.code = o.status WHERE o.from_on <= o.to_on
    UNION ALL
    SELECT c.county_code, c.region_code, c.id_number, c.post_id, c.from_on, c.to_on,
           format('in post while household member %s is a village cadre (from %s): village cadres'' families are not placed', c.member, c.from_on),
           format('在岗期间家庭成员%s任村干部（%s 起）：村干部及其家庭成员不列入安置对象', c.member, c.from_on)
    FROM cadre_days c
    UNION ALL
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.from_on, g.to_on,
           format('category ''%s'' (in force from %s) is not eligible under the policy in force then (eligible: %s): record the exit (reason no-longer-eligible)',
                  g.category, g.from_on, array_to_string(g.categories, ', ')),
           format('自 %s 起人员类别“%s”不符合当时执行的政策（可安置：%s）：请办理退岗（不再符合条件）',
                  g.from_on, (SELECT label_zh FROM person_category WHERE code = g.category), array_to_string(g.categories, '、'))
    FROM category_days g
  ), stakes AS (
    SELECT s.* FROM audit_stake((SELECT jsonb_agg(jsonb_build_object('id_number', c.id_number, 'post_id', c.post_id,
                                                                      'from_on', c.from_on, 'to_on', c.to_on)) FROM cases c), false) s
  )
  SELECT 'INELIGIBLE_IN_POST'::text AS rule, x.county_code, township_of(x.region_code) AS township_code,
         village_of(x.region_code) AS village_code, x.region_code, x.id_number, x.post_id, x.from_on, x.to_on,
         NULL::date AS month, coalesce(s.amount_fen, 0) AS amount_fen, x.explanation, x.explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'INELIGIBLE_IN_POST') AS basis
  FROM cases x
  LEFT JOIN stakes s ON s.id_number = x.id_number AND s.post_id = x.post_id AND s.from_on = x.from_on AND s.to_on = x.to_on;

CREATE OR REPLACE VIEW audit_over_age_in_post WITH (security_invoker = true) AS
  WITH over AS (
    -- Each policy period's maximum age: older from the anniversary of max_age + 1 on.
    SELECT p.county_code, p.region_code, p.id_number, p.post_id, p.id, c.max_age,
           greatest(p.start_on, o.over_on, lower(c.valid)) AS from_on,
           least(p.last_on, upper(c.valid) - 1, coalesce(p.died_on - 1, p.last_on)) AS to_on
    FROM audit_placement p
    JOIN audit_county_policy_period c ON c.county_code = p.county_code AND c.valid && daterange(p.start_on, p.last_on, '[]')
    CROSS JOIN LATERAL (SELECT anniversary(resident_birth_date(p.id_number),
                                           extract(year FROM resident_birth_date(p.id_number))::int + c.max_age + 1) AS over_on) o
  ), cases AS (
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.max_age, lower(r) AS from_on, upper(r) - 1 AS to_on
    FROM (SELECT o.county_code, o.region_code, o.id_number, o.post_id, o.id, o.max_age, range_agg(daterange(o.from_on, o.to_on, '[]')) AS days
          FROM over o WHERE o.from_on <= o.to_on GROUP BY 1, 2, 3, 4, 5, 6) g
    CROSS JOIN LATERAL unnest(g.days) r
  ), stakes AS (
    SELECT s.* FROM audit_stake((SELECT jsonb_agg(jsonb_build_object('id_number', c.id_number, 'post_id', c.post_id,
                                                                      'from_on', c.from_on, 'to_on', c.to_on)) FROM cases c), false) s
  )
  SELECT 'OVER_AGE_IN_POST'::text AS rule, c.county_code, township_of(c.region_code) AS township_code,
         village_of(c.region_code) AS village_code, c.region_code, c.id_number, c.post_id,
         c.from_on, c.to_on, NULL::date AS month, coalesce(s.amount_fen, 0) AS amount_fen,
         format('older than the maximum age %s from %s: record the exit (reason over-age)', c.max_age, c.from_on) AS explanation,
         format('%s 起超过最高年龄 %s 岁：请办理退岗（超龄）', c.from_on, c.max_age) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'OVER_AGE_IN_POST') AS basis
  FROM cases c
  LEFT JOIN stakes s ON s.id_number = c.id_number AND s.post_id = c.post_id AND s.from_on = c.from_on AND s.to_on = c.to_on;

-- As in 0006, over segments of placements cut by households as they were: a segment that put
-- its household over the cap on its first day (the count only rises when a member's days in
-- the household and in post begin: a hire, or a household merge), until enough others end.
CREATE OR REPLACE VIEW audit_household_over_cap WITH (security_invoker = true) AS
  WITH p AS (
    SELECT f.id, f.county_code, f.household_county, f.household_id, f.id_number, f.post_id, f.region_code,
           f.from_on AS start_on, f.to_on AS last_on
    FROM audit_placement_fact f
  ), others AS (
    SELECT p.id, p.start_on, count(*)::int AS others, array_agg(q.last_on ORDER BY q.last_on) AS ends
    FROM p JOIN p q ON q.household_county = p.household_county AND q.household_id = p.household_id AND q.id_number <> p.id_number
     AND (q.start_on < p.start_on OR (q.start_on = p.start_on AND q.id < p.id)) AND q.last_on >= p.start_on
    GROUP BY p.id, p.start_on
  )
  , cap AS MATERIALIZED (
    -- Twenty rows for a province: made once, not once per case.
    SELECT c.county_code, c.household_cap FROM audit_county_policy c
  )
  SELECT 'HOUSEHOLD_OVER_CAP'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         p.start_on AS from_on, least(p.last_on, (o.ends)[o.others + 1 - c.household_cap]) AS to_on,
         NULL::date AS month, NULL::bigint AS amount_fen,
         format('%s members of household %s in post from %s, above the cap of %s: one of them must exit',
                o.others + 1, p.household_id, p.start_on, c.household_cap) AS explanation,
         format('户 %s 自 %s 起 %s 人在岗，超过每户 %s 人的上限：须有人退岗', p.household_id, p.start_on, o.others + 1, c.household_cap) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'HOUSEHOLD_OVER_CAP') AS basis
  FROM p JOIN others o ON o.id = p.id AND o.start_on = p.start_on
  JOIN cap c ON c.county_code = p.county_code
  WHERE o.others + 1 > c.household_cap;

-- The payment rules of 0006, with payments that name no post matched as a whole: for a person
-- and month with any payment without a post, everything paid is compared with everything booked
-- across their posts (a person who moved posts mid-month, paid once per post by the bank
-- without post IDs, is paid exactly right). The row names the post when there was only one.
CREATE OR REPLACE FUNCTION audit_payment_cases()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET enable_sort = off SET work_mem = '512MB'
SET jit = off SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  from_month date := audit_from_month();
  to_month date := audit_to_month();
  as_of date := audit_as_of();
  county text := audit_county();
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT d.county_code, d.month, d.id_number, d.post_id, (d.post_subsidy_fen + d.social_insurance_fen) AS due_fen
    FROM payroll_due(from_month, to_month, county) d
  ), adjusted AS (
    SELECT l.county_code, l.month, l.id_number, l.post_id, sum(l.adjustment_fen)::bigint AS adjustment_fen
    FROM payroll_line l
    JOIN payroll_run pr ON pr.county_code = l.county_code AND pr.month = l.month AND pr.state = 'approved'
    WHERE l.kind = 'adjustment' AND l.month BETWEEN from_month AND to_month AND l.county_code ^@ county
    GROUP BY 1, 2, 3, 4
  ), booked AS (
    SELECT coalesce(d.county_code, a.county_code) AS county_code, coalesce(d.id_number, a.id_number) AS id_number,
           coalesce(d.month, a.month) AS month, coalesce(d.post_id, a.post_id) AS post_id,
           coalesce(d.due_fen, 0) + coalesce(a.adjustment_fen, 0) AS booked_fen
    FROM due d FULL JOIN adjusted a
      ON a.county_code = d.county_code AND a.month = d.month AND a.id_number = d.id_number AND a.post_id = d.post_id
  ), payments AS (
    SELECT d.county_code, d.id_number, d.month, d.post_id, d.amount_fen FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code ^@ county
  ), loose AS (
    -- Person-months paid at least once without a post: matched as a whole.
    SELECT DISTINCT p.id_number, p.month FROM payments p WHERE p.post_id IS NULL
  ), booked_by_key AS (
    SELECT min(b.county_code) AS county_code, b.id_number, b.month, CASE WHEN l.id_number IS NULL THEN b.post_id ELSE '' END AS post_key,
           sum(b.booked_fen)::bigint AS booked_fen, CASE WHEN count(*) = 1 THEN min(b.post_id) END AS only_post
    FROM booked b LEFT JOIN loose l ON l.id_number = b.id_number AND l.month = b.month
    GROUP BY b.id_number, b.month, CASE WHEN l.id_number IS NULL THEN b.post_id ELSE '' END
  ), paid AS (
    SELECT min(p.county_code) AS county_code, p.id_number, p.month, CASE WHEN l.id_number IS NULL THEN p.post_id ELSE '' END AS post_key,
           sum(p.amount_fen)::bigint AS paid_fen
    FROM payments p LEFT JOIN loose l ON l.id_number = p.id_number AND l.month = p.month
    GROUP BY p.id_number, p.month, CASE WHEN l.id_number IS NULL THEN p.post_id ELSE '' END
  ), compared AS (
    SELECT coalesce(b.county_code, p.county_code) AS county_code, coalesce(b.id_number, p.id_number) AS id_number,
           coalesce(b.month, p.month) AS month,
           CASE WHEN coalesce(b.post_key, p.post_key) = '' THEN b.only_post ELSE coalesce(b.post_key, p.post_key) END AS post_id,
           coalesce(b.booked_fen, 0) AS booked_fen, p.paid_fen
    FROM booked_by_key b FULL JOIN paid p ON p.id_number = b.id_number AND p.month = b.month AND p.post_key = b.post_key
  ), cases AS (
    SELECT c.*, k.rule, CASE k.rule WHEN 'PAID_NOT_DUE' THEN c.paid_fen - greatest(c.booked_fen, 0)
                                    WHEN 'UNDERPAID' THEN c.booked_fen - c.paid_fen ELSE c.booked_fen END AS amount_fen
    FROM compared c
    LEFT JOIN payroll_run pr ON pr.county_code = c.county_code AND pr.month = c.month AND pr.state = 'approved'
    CROSS JOIN LATERAL (SELECT CASE
        WHEN coalesce(c.paid_fen, 0) > greatest(c.booked_fen, 0) THEN 'PAID_NOT_DUE'
        WHEN pr.month IS NOT NULL AND c.paid_fen > 0 AND c.paid_fen < c.booked_fen THEN 'UNDERPAID'
        WHEN pr.month IS NOT NULL AND c.booked_fen > 0 AND c.paid_fen IS NULL
             AND as_of > (c.month + interval '1 month' - interval '1 day')::date + 30 THEN 'UNPAID_LATE'
        END AS rule) k
    WHERE k.rule IS NOT NULL
  )
  SELECT c.rule, c.county_code, township_of(x.region_code), village_of(x.region_code), x.region_code, c.id_number, c.post_id,
         c.month, (c.month + interval '1 month' - interval '1 day')::date, c.month, c.amount_fen,
         CASE c.rule
           WHEN 'PAID_NOT_DUE' THEN format('paid %s for %s but %s is due: recover %s',
                                           yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(greatest(c.booked_fen, 0)), yuan_text(c.amount_fen))
           WHEN 'UNDERPAID' THEN format('paid %s for %s of the %s booked: pay the remaining %s',
                                        yuan_text(c.paid_fen), to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen), yuan_text(c.amount_fen))
           ELSE format('%s booked for %s by the approved payroll and nothing paid more than 30 days after the month: pay it or find the bank''s result',
                       yuan_text(c.booked_fen), to_char(c.month, 'YYYY-MM')) END,
         CASE c.rule
           WHEN 'PAID_NOT_DUE' THEN format('%s 实发 %s 元，应发 %s 元：应追回 %s 元',
                                           to_char(c.month, 'YYYY-MM'), yuan_text(c.paid_fen), yuan_text(greatest(c.booked_fen, 0)), yuan_text(c.amount_fen))
           WHEN 'UNDERPAID' THEN format('%s 应发 %s 元，实发 %s 元：应补发 %s 元',
                                        to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen), yuan_text(c.paid_fen), yuan_text(c.amount_fen))
           ELSE format('%s 已审核应发 %s 元，月末后超过30天仍未发放：请发放或核实银行回单',
                       to_char(c.month, 'YYYY-MM'), yuan_text(c.booked_fen)) END,
         r.basis
  FROM cases c
  JOIN audit_rule r ON r.code = c.rule
  CROSS JOIN LATERAL (SELECT coalesce((SELECT po.region_code FROM post po WHERE po.id = c.post_id),
                                      (SELECT pe.village_code FROM person pe WHERE pe.id_number = c.id_number)) AS region_code) x;
END $$;

-- Payments of one person, post and month after the first are duplicates; payments naming no
-- post are duplicates beyond one per post the person held that month (at least one).
CREATE OR REPLACE VIEW audit_duplicate_payment WITH (security_invoker = true) AS
  SELECT 'DUPLICATE_PAYMENT'::text AS rule, d.county_code, township_of(r.region_code) AS township_code,
         village_of(r.region_code) AS village_code, r.region_code, d.id_number, d.post_id,
         d.month AS from_on, (d.month + interval '1 month' - interval '1 day')::date AS to_on, d.month, d.amount_fen,
         CASE WHEN d.allowed = 1
              THEN format('paid %s times for %s (%s): recover the payments after the first', d.payments, to_char(d.month, 'YYYY-MM'), d.list)
              ELSE format('paid %s times for %s without a post, for the %s posts held that month (%s): recover the payments after the first %s',
                          d.payments, to_char(d.month, 'YYYY-MM'), d.allowed, d.list, d.allowed) END AS explanation,
         CASE WHEN d.allowed = 1
              THEN format('%s 重复发放 %s 次（%s）：应追回首笔之外的款项', to_char(d.month, 'YYYY-MM'), d.payments, d.list_zh)
              ELSE format('%s 未注明岗位发放 %s 次，当月在岗 %s 个岗位（%s）：应追回前 %s 笔之外的款项',
                          to_char(d.month, 'YYYY-MM'), d.payments, d.allowed, d.list_zh, d.allowed) END AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'DUPLICATE_PAYMENT') AS basis
  FROM (
    SELECT g.county_code, g.id_number, g.post_id, g.month, g.payments, g.list, g.list_zh, g.allowed,
           (SELECT coalesce(sum(x), 0) FROM unnest(g.amounts[g.allowed + 1:]) x)::numeric AS amount_fen
    FROM (
      SELECT min(d.county_code) AS county_code, d.id_number, d.post_id, d.month, count(*) AS payments,
             array_agg(d.amount_fen ORDER BY d.paid_on, d.file_id, d.line) AS amounts,
             string_agg(yuan_text(d.amount_fen) || ' on ' || d.paid_on, ', ' ORDER BY d.paid_on, d.file_id, d.line) AS list,
             string_agg(d.paid_on || ' ' || yuan_text(d.amount_fen) || ' 元', '，' ORDER BY d.paid_on, d.file_id, d.line) AS list_zh,
             CASE WHEN d.post_id IS NULL
                  THEN greatest(1, (SELECT count(DISTINCT pl.post_id) FROM placement pl
                                    WHERE pl.id_number = d.id_number AND pl.start_on <= (d.month + interval '1 month' - interval '1 day')::date
                                      AND (pl.exit_on IS NULL OR pl.exit_on >= d.month)))::int
                  ELSE 1 END AS allowed
      FROM disbursement d
      CROSS JOIN audit_range r
      WHERE d.month BETWEEN r.from_month AND r.to_month AND d.paid_on <= r.as_of AND d.county_code LIKE r.county || '%'
        -- The few keys paid more than once, found on the narrow columns first.
        AND (d.id_number, d.month) IN (SELECT x.id_number, x.month FROM disbursement x CROSS JOIN audit_range q
                                       WHERE x.month BETWEEN q.from_month AND q.to_month AND x.paid_on <= q.as_of
                                         AND x.county_code LIKE q.county || '%'
                                       GROUP BY x.id_number, x.post_id, x.month HAVING count(*) > 1)
      GROUP BY d.id_number, d.post_id, d.month
      HAVING count(*) > 1
    ) g
    WHERE g.payments > g.allowed
  ) d
  CROSS JOIN LATERAL (SELECT coalesce((SELECT region_code FROM post WHERE id = d.post_id),
                                      (SELECT village_code FROM person WHERE id_number = d.id_number)) AS region_code) r;

-- Payments to an account other than the one registered for the person on the payment date.
CREATE OR REPLACE FUNCTION audit_paid_to_other_account_rows()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE sql STABLE SET enable_nestloop = off SET jit = off SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT 'PAID_TO_OTHER_ACCOUNT'::text, d.county_code, township_of(d.region_code), village_of(d.region_code), d.region_code,
         d.id_number, d.post_id, d.paid_on, d.paid_on, d.month, d.amount_fen,
         format('%s for %s paid on %s to account %s, which was not the person''s registered account that day: recover it and pay the registered account',
                yuan_text(d.amount_fen), to_char(d.month, 'YYYY-MM'), d.paid_on, mask_account(d.bank_account)),
         format('%s 的 %s 元于 %s 发放至非本人当日登记账户 %s：应追回并发放至本人账户',
                to_char(d.month, 'YYYY-MM'), yuan_text(d.amount_fen), d.paid_on, mask_account(d.bank_account)),
         (SELECT basis FROM audit_rule WHERE code = 'PAID_TO_OTHER_ACCOUNT')
  FROM (
    SELECT d.*, coalesce(po.region_code, d.village_code) AS region_code
    FROM (SELECT d.*, pe.village_code FROM disbursement d CROSS JOIN audit_range r
          JOIN person pe ON pe.id_number = d.id_number
          LEFT JOIN person_history h ON h.id_number = d.id_number AND h.valid @> d.paid_on
          WHERE d.month BETWEEN r.from_month AND r.to_month AND d.paid_on <= r.as_of AND d.county_code LIKE r.county || '%'
            AND d.bank_account IS DISTINCT FROM CASE WHEN h.id IS NULL THEN pe.bank_account ELSE h.bank_account END) d
    LEFT JOIN post po ON po.id = d.post_id
  ) d
$$;

GRANT SELECT ON audit_county_policy_period, audit_placement_fact TO wp_auditor;
