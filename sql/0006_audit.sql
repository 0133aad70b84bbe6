-- The audit (SPEC §7, 查处): one view per rule code, so an auditor with psql can query each
-- one, and their union `audit_violation`, which `audit violations` reads with filters.
--
-- Views take their parameters from settings of the session or transaction, with defaults:
--   welfare_posts.as_of       the date of the report (default: today in China)
--   welfare_posts.from_month  first month of the payment rules (default: the earliest month
--                             with a payment or an approved payroll)
--   welfare_posts.to_month    last month of the payment rules (default: the as-of month)
--   welfare_posts.county      county-code prefix the payment rules compute for (default: all)
-- e.g. `SET welfare_posts.as_of = '2026-06-30'; SELECT * FROM audit_uninsured;`
-- Views run with the privileges and row-level security of whoever queries them.
--
-- Every view returns the same columns: rule, county_code, township_code, village_code,
-- region_code (the post's region, else the person's village), id_number, post_id, from_on and
-- to_on (the days concerned), month (payment rules), amount_fen (money at stake), explanation
-- and explanation_zh, basis.

CREATE TABLE audit_rule (
  code     text PRIMARY KEY,
  position int NOT NULL UNIQUE,
  title_zh text NOT NULL,
  basis    text NOT NULL
);
INSERT INTO audit_rule VALUES
  ('DECEASED_IN_POST', 1, '死亡人员仍在岗', '人社部发〔2021〕26号（十二）优先安置符合条件的脱贫人口特别是其中的弱劳力、半劳力，动态调整安置对象条件……及时纠正查处安置不符合条件人员'),
  ('INELIGIBLE_IN_POST', 2, '不符合条件人员在岗', '人社部发〔2021〕26号（十二）优先安置符合条件的脱贫人口特别是其中的弱劳力、半劳力，动态调整安置对象条件……及时纠正查处安置不符合条件人员'),
  ('OVER_AGE_IN_POST', 3, '超龄在岗', '人社部发〔2021〕26号（十二）优先安置符合条件的脱贫人口特别是其中的弱劳力、半劳力，动态调整安置对象条件……及时纠正查处安置不符合条件人员'),
  ('HOUSEHOLD_OVER_CAP', 4, '一户在岗人数超限', '人社部发〔2021〕26号（十二）优先安置符合条件的脱贫人口特别是其中的弱劳力、半劳力，动态调整安置对象条件……及时纠正查处安置不符合条件人员'),
  ('NO_CONTRACT', 5, '在岗无有效合同', '人社部发〔2021〕26号（十二）依法签订劳动合同或劳务协议，每次签订期限不超过1年；黑人社发〔2021〕16号（二十八）'),
  ('UNINSURED', 6, '在岗未参加意外伤害保险', '人社部发〔2021〕26号（十二）购买意外伤害商业保险；苏人社发〔2021〕82号（九）对无法参加工伤保险的应当为其购买意外伤害保险'),
  ('PAID_NOT_DUE', 7, '违规发放补贴', '人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为'),
  ('UNDERPAID', 8, '未足额发放', '人社部发〔2021〕26号（五）按时足额发放劳动报酬；（十二）对乡村公益性岗位安置人员按规定给予岗位补贴'),
  ('DUPLICATE_PAYMENT', 9, '重复发放', '人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为'),
  ('PAID_TO_OTHER_ACCOUNT', 10, '发放至非本人账户', '人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为'),
  ('UNPAID_LATE', 11, '逾期未发放', '人社部发〔2021〕26号（五）按时足额发放劳动报酬；（十二）对乡村公益性岗位安置人员按规定给予岗位补贴'),
  ('REPEATED_FAILURE', 12, '考核多次不合格未退岗', '人社部发〔2021〕26号（十二）有序退岗; thresholds from county assessment practice (月度考核，连续或累计不合格予以解聘)'),
  ('VACANT_TOO_LONG', 13, '岗位长期空缺', '人社部发〔2021〕26号（十二）保持乡村公益性岗位规模总体稳定；黑人社发〔2021〕16号（二十七）岗位数量……清、底数明');

CREATE FUNCTION audit_as_of() RETURNS date LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('welfare_posts.as_of', true), '')::date, (now() AT TIME ZONE 'Asia/Shanghai')::date)
$$;

CREATE FUNCTION audit_to_month() RETURNS date LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('welfare_posts.to_month', true), '')::date, date_trunc('month', audit_as_of())::date)
$$;

CREATE FUNCTION audit_county() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('welfare_posts.county', true), '')
$$;

-- The earliest month paid, found at the start of an index instead of by reading every payment.
CREATE INDEX disbursement_month ON disbursement (month);

CREATE FUNCTION audit_from_month() RETURNS date LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('welfare_posts.from_month', true), '')::date,
                  least((SELECT month FROM disbursement WHERE county_code LIKE audit_county() || '%' ORDER BY month LIMIT 1),
                        (SELECT min(month) FROM payroll_run WHERE state = 'approved' AND county_code LIKE audit_county() || '%')),
                  audit_to_month())
$$;

-- The report's parameters as one row, computed once where a view joins it (OFFSET 0 keeps the
-- planner from folding them into every row's filter: audit_from_month reads two tables).
CREATE VIEW audit_range WITH (security_invoker = true) AS
  SELECT audit_from_month() AS from_month, audit_to_month() AS to_month, audit_as_of() AS as_of, audit_county() AS county OFFSET 0;

-- Money as the explanations print it: yuan with two decimals.
CREATE FUNCTION yuan_text(fen numeric) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT to_char(fen / 100.0, 'FM999999999990.00')
$$;

-- `6228************1234`, as BankAccount.masked prints it: enough to recognise, not to use.
CREATE FUNCTION mask_account(account text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN length(account) <= 8 THEN repeat('*', length(account))
              ELSE left(account, 4) || repeat('*', length(account) - 8) || right(account, 4) END
$$;

-- `320321********0128`, as ResidentID.masked prints it.
CREATE FUNCTION mask_id(id text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT left(id, 6) || '********' || right(id, 4)
$$;

-- A value of a journaled row as listings show it: resident IDs and bank accounts masked
-- unless revealed, NULL as `null`.
CREATE FUNCTION shown_value(key text, value text, reveal boolean) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN value IS NULL THEN 'null'
              WHEN reveal THEN value
              WHEN key = 'id_number' THEN mask_id(value)
              WHEN key = 'bank_account' THEN mask_account(value)
              ELSE value END
$$;

CREATE FUNCTION township_of(code text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN region_level(code) >= 4 THEN rpad(left(code, 9), 12, '0') END
$$;

CREATE FUNCTION village_of(code text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN region_level(code) = 5 THEN code END
$$;

-- Placements as the state rules see them: the days they were open up to the as-of date (and
-- before any death), the post's region and the person's household.
CREATE VIEW audit_placement WITH (security_invoker = true) AS
  SELECT pl.id, pl.county_code, pl.post_id, pl.id_number, pl.start_on, pl.exit_on, pl.exit_reason,
         least(coalesce(pl.exit_on, a.day), a.day) AS last_on, a.day AS as_of,
         po.region_code, pe.household_id, pe.category, pe.name,
         d.died_on
  FROM placement pl
  CROSS JOIN (SELECT audit_as_of() AS day) a
  JOIN post po ON po.id = pl.post_id
  JOIN person pe ON pe.id_number = pl.id_number
  LEFT JOIN (SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s WHERE s.status = 'deceased' GROUP BY s.id_number) d
    ON d.id_number = pl.id_number AND d.died_on <= a.day
  WHERE pl.start_on <= a.day;

-- The eligibility policy in force on the as-of date in every county that has posts (policy is
-- set at county level or above, so one lookup per county).
CREATE VIEW audit_county_policy WITH (security_invoker = true) AS
  SELECT k.county_code, e.min_age, e.max_age, e.household_cap, e.categories
  FROM (SELECT DISTINCT county_code FROM post) k
  CROSS JOIN LATERAL eligibility_on(k.county_code || '000000', audit_as_of()) e;

CREATE VIEW audit_deceased_in_post WITH (security_invoker = true) AS
  SELECT 'DECEASED_IN_POST'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         greatest(p.start_on, p.died_on) AS from_on, p.last_on AS to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         CASE WHEN p.exit_on IS NULL OR p.exit_on >= p.as_of
              THEN format('died on %s and is still in post: record the exit dated %s (the day before death) and recover any pay after it',
                          p.died_on, p.died_on - 1)
              ELSE format('died on %s but the exit was recorded as %s: the last day in post is %s', p.died_on, p.exit_on, p.died_on - 1) END AS explanation,
         CASE WHEN p.exit_on IS NULL OR p.exit_on >= p.as_of
              THEN format('已于 %s 死亡仍在岗：请办理退岗（退岗日期为死亡前一日 %s），并追回此后发放的补贴', p.died_on, p.died_on - 1)
              ELSE format('已于 %s 死亡，退岗日期却记为 %s：最后在岗日应为 %s', p.died_on, p.exit_on, p.died_on - 1) END AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'DECEASED_IN_POST') AS basis
  FROM audit_placement p
  WHERE p.died_on IS NOT NULL AND p.last_on >= p.died_on
    -- The exit recorded on the day of death with reason `deceased` is how administrators
    -- record a death; payroll already pays nothing for that day.
    AND (p.exit_reason = 'deceased' AND p.exit_on = p.died_on) IS NOT TRUE;

CREATE VIEW audit_ineligible_in_post WITH (security_invoker = true) AS
  WITH own AS (
    SELECT p.*, s.status, greatest(p.start_on, s.valid_from) AS from_on, least(p.last_on, coalesce(s.valid_to, p.last_on)) AS to_on,
           NULL::text AS member
    FROM audit_placement p JOIN person_status s ON s.id_number = p.id_number AND s.status <> 'deceased'
    WHERE s.valid_from <= p.last_on AND coalesce(s.valid_to, p.last_on) >= p.start_on
  ), cadre AS (
    SELECT p.*, s.status, greatest(p.start_on, s.valid_from) AS from_on, least(p.last_on, coalesce(s.valid_to, p.last_on)) AS to_on,
           m.name AS member
    FROM audit_placement p
    JOIN person m ON m.county_code = p.county_code AND m.household_id = p.household_id AND m.id_number <> p.id_number
    JOIN person_status s ON s.id_number = m.id_number AND s.status = 'village-cadre'
    WHERE s.valid_from <= p.last_on AND coalesce(s.valid_to, p.last_on) >= p.start_on
  ), category AS (
    SELECT p.*, c.categories
    FROM audit_placement p JOIN audit_county_policy c ON c.county_code = p.county_code
    WHERE p.last_on = p.as_of AND NOT p.category = ANY (c.categories)
  )
  SELECT 'INELIGIBLE_IN_POST'::text AS rule, x.county_code, township_of(x.region_code) AS township_code,
         village_of(x.region_code) AS village_code, x.region_code, x.id_number, x.post_id, x.from_on, x.to_on,
         NULL::date AS month, NULL::bigint AS amount_fen, x.explanation, x.explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'INELIGIBLE_IN_POST') AS basis
  FROM (
    SELECT o.county_code, o.region_code, o.id_number, o.post_id, o.from_on, o.to_on,
           format('in post while status ''%s'' is in force (from %s): record the exit (reason no-longer-eligible)', o.status, o.from_on),
           format('在岗期间存在“%s”情形（%s 起）：请办理退岗（不再符合条件）', k.label_zh, o.from_on)
    FROM own o JOIN person_status_kind k ON k.code = o.status
    UNION ALL
    SELECT c.county_code, c.region_code, c.id_number, c.post_id, c.from_on, c.to_on,
           format('in post while household member %s is a village cadre (from %s): village cadres'' families are not placed', c.member, c.from_on),
           format('在岗期间家庭成员%s任村干部（%s 起）：村干部及其家庭成员不列入安置对象', c.member, c.from_on)
    FROM cadre c
    UNION ALL
    SELECT g.county_code, g.region_code, g.id_number, g.post_id, g.as_of, g.as_of,
           format('category ''%s'' is not eligible under the policy in force on %s (eligible: %s): record the exit (reason no-longer-eligible)',
                  g.category, g.as_of, array_to_string(g.categories, ', ')),
           format('人员类别“%s”不符合 %s 执行的政策（可安置：%s）：请办理退岗（不再符合条件）',
                  (SELECT label_zh FROM person_category WHERE code = g.category), g.as_of, array_to_string(g.categories, '、'))
    FROM category g
  ) x (county_code, region_code, id_number, post_id, from_on, to_on, explanation, explanation_zh);

CREATE VIEW audit_over_age_in_post WITH (security_invoker = true) AS
  SELECT 'OVER_AGE_IN_POST'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         greatest(p.start_on, o.over_on) AS from_on, p.last_on AS to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         format('older than the maximum age %s from %s: record the exit (reason over-age)', c.max_age, o.over_on) AS explanation,
         format('%s 起超过最高年龄 %s 岁：请办理退岗（超龄）', o.over_on, c.max_age) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'OVER_AGE_IN_POST') AS basis
  FROM audit_placement p
  JOIN audit_county_policy c ON c.county_code = p.county_code
  -- The day they become older than the maximum: the anniversary of max_age + 1.
  CROSS JOIN LATERAL (SELECT anniversary(resident_birth_date(p.id_number),
                                         extract(year FROM resident_birth_date(p.id_number))::int + c.max_age + 1) AS over_on) o
  WHERE o.over_on <= p.last_on AND (p.died_on IS NULL OR o.over_on < p.died_on);

-- Each placement that put its household over the cap on its first day (the count of a
-- household's open placements only rises when one starts), until enough of them end. The
-- placements are read once and joined to themselves by household.
CREATE VIEW audit_household_over_cap WITH (security_invoker = true) AS
  WITH p AS (
    SELECT id, county_code, household_id, id_number, post_id, region_code, start_on, last_on FROM audit_placement
  ), others AS (
    SELECT p.id, count(*)::int AS others, array_agg(q.last_on ORDER BY q.last_on) AS ends
    FROM p JOIN p q ON q.county_code = p.county_code AND q.household_id = p.household_id AND q.id_number <> p.id_number
     AND (q.start_on < p.start_on OR (q.start_on = p.start_on AND q.id < p.id)) AND q.last_on >= p.start_on
    GROUP BY p.id
  )
  SELECT 'HOUSEHOLD_OVER_CAP'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         p.start_on AS from_on, least(p.last_on, (o.ends)[o.others + 1 - c.household_cap]) AS to_on,
         NULL::date AS month, NULL::bigint AS amount_fen,
         format('%s members of household %s in post from %s, above the cap of %s: one of them must exit',
                o.others + 1, p.household_id, p.start_on, c.household_cap) AS explanation,
         format('户 %s 自 %s 起 %s 人在岗，超过每户 %s 人的上限：须有人退岗', p.household_id, p.start_on, o.others + 1, c.household_cap) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'HOUSEHOLD_OVER_CAP') AS basis
  FROM p JOIN others o ON o.id = p.id
  JOIN audit_county_policy c ON c.county_code = p.county_code
  WHERE o.others + 1 > c.household_cap;

-- The days each placement's contracts cover.
CREATE VIEW audit_contract_days WITH (security_invoker = true) AS
  SELECT placement_id, range_agg(daterange(start_on, end_on, '[]')) AS days FROM contract GROUP BY placement_id;

-- Days of open placements (up to the as-of date, before any death) that no contract covers.
CREATE VIEW audit_no_contract WITH (security_invoker = true) AS
  SELECT 'NO_CONTRACT'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         lower(g) AS from_on, upper(g) - 1 AS to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         format('in post %s to %s without a contract: renew the contract (at most one year) or record the exit', lower(g), upper(g) - 1) AS explanation,
         format('%s 至 %s 在岗但无有效合同：请续签合同（每次不超过1年）或办理退岗', lower(g), upper(g) - 1) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'NO_CONTRACT') AS basis
  FROM audit_placement p
  LEFT JOIN audit_contract_days c
    ON c.placement_id = p.id
  CROSS JOIN LATERAL unnest(datemultirange(daterange(p.start_on, least(p.last_on, p.died_on - 1), '[]'))
                            - coalesce(c.days, '{}'::datemultirange)) g
  WHERE least(p.last_on, p.died_on - 1) >= p.start_on;

-- Days in post (open, under contract, before any death, up to the as-of date) that no
-- accident insurance covers.
CREATE VIEW audit_uninsured WITH (security_invoker = true) AS
  SELECT 'UNINSURED'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         lower(g) AS from_on, upper(g) - 1 AS to_on, NULL::date AS month, NULL::bigint AS amount_fen,
         format('in post %s to %s without accident insurance: buy cover for these days (意外伤害保险) and record it', lower(g), upper(g) - 1) AS explanation,
         format('%s 至 %s 在岗但未参加意外伤害保险：请补办保险并登记', lower(g), upper(g) - 1) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'UNINSURED') AS basis
  FROM audit_placement p
  JOIN audit_contract_days c
    ON c.placement_id = p.id
  LEFT JOIN (SELECT id_number, range_agg(daterange(valid_from, valid_to, '[]')) AS days FROM insurance_policy GROUP BY id_number) i
    ON i.id_number = p.id_number
  CROSS JOIN LATERAL unnest(c.days * datemultirange(daterange(p.start_on, least(p.last_on, p.died_on - 1), '[]'))
                            - coalesce(i.days, '{}'::datemultirange)) g
  WHERE least(p.last_on, p.died_on - 1) >= p.start_on;

-- Still in post after two failed assessments in consecutive months, or three within twelve
-- months: the exit is due (有序退岗).
CREATE VIEW audit_repeated_failure WITH (security_invoker = true) AS
  WITH fails AS (
    SELECT a.placement_id, a.month,
           lag(a.month) OVER (PARTITION BY a.placement_id ORDER BY a.month) AS previous,
           count(*) OVER (PARTITION BY a.placement_id ORDER BY a.month RANGE BETWEEN interval '11 months' PRECEDING AND CURRENT ROW) AS in_year,
           string_agg(to_char(a.month, 'YYYY-MM'), ', ') OVER (PARTITION BY a.placement_id ORDER BY a.month) AS months
    FROM assessment a WHERE a.result = 'fail' AND a.month <= audit_as_of()
  ), due AS (
    SELECT DISTINCT ON (f.placement_id) f.placement_id, f.month, f.months, f.previous = (f.month - interval '1 month')::date AS consecutive
    FROM fails f
    WHERE f.previous = (f.month - interval '1 month')::date OR f.in_year >= 3
    ORDER BY f.placement_id, f.month
  )
  SELECT 'REPEATED_FAILURE'::text AS rule, p.county_code, township_of(p.region_code) AS township_code,
         village_of(p.region_code) AS village_code, p.region_code, p.id_number, p.post_id,
         (d.month + interval '1 month')::date AS from_on, p.as_of AS to_on, d.month, NULL::bigint AS amount_fen,
         format('failed the assessments of %s (%s) and is still in post: record the exit (reason failed-assessment)',
                d.months, CASE WHEN d.consecutive THEN 'two months running' ELSE 'three in twelve months' END) AS explanation,
         format('%s 考核不合格（%s）仍在岗：请办理退岗（考核不合格）', d.months, CASE WHEN d.consecutive THEN '连续两个月' ELSE '十二个月内三次' END) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'REPEATED_FAILURE') AS basis
  FROM due d JOIN audit_placement p ON p.id = d.placement_id
  WHERE p.last_on = p.as_of AND p.as_of >= (d.month + interval '1 month')::date;

-- Approved posts vacant on the as-of date, and for more than 90 days.
CREATE VIEW audit_vacant_too_long WITH (security_invoker = true) AS
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
  WHERE po.approved_on <= a.day AND (po.closed_on IS NULL OR po.closed_on > a.day)
    AND h.held IS NOT TRUE AND a.day - v.since + 1 > 90;

-- The three rules that compare money with entitlement (SPEC §6), per person, post and month
-- of the range, in one pass:
--   due    what payroll_due gives now;
--   booked due, plus the adjustment lines carried by the month's approved payroll;
--   paid   what the bank paid for the month (paid on or before the as-of date).
-- A payment without a post counts for the person's one post that month, if they had one.
--
-- A PL/pgSQL function, so that the query is planned with the report's parameters as values
-- (in a plain view they are known only when it runs), and with hash joins and hash
-- aggregates only: the planner cannot tell how many person-months each part returns, and a
-- nested loop chosen on a guess of one row goes quadratic over a province, while sorts of
-- millions of rows spill to disk. Only the cases found meet the person and post tables.
CREATE FUNCTION audit_payment_cases()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE plpgsql STABLE SET enable_nestloop = off SET enable_mergejoin = off SET enable_sort = off SET work_mem = '512MB'
SET jit = off AS $$
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
    WHERE l.kind = 'adjustment' AND l.month BETWEEN from_month AND to_month AND l.county_code LIKE county || '%'
    GROUP BY 1, 2, 3, 4
  ), booked AS (
    SELECT coalesce(d.county_code, a.county_code) AS county_code, coalesce(d.id_number, a.id_number) AS id_number,
           coalesce(d.month, a.month) AS month, coalesce(d.post_id, a.post_id) AS post_id,
           coalesce(d.due_fen, 0) + coalesce(a.adjustment_fen, 0) AS booked_fen
    FROM due d FULL JOIN adjusted a
      ON a.county_code = d.county_code AND a.month = d.month AND a.id_number = d.id_number AND a.post_id = d.post_id
  ), payments AS (
    SELECT d.county_code, d.id_number, d.month, d.post_id, d.amount_fen FROM disbursement d
    WHERE d.month BETWEEN from_month AND to_month AND d.paid_on <= as_of AND d.county_code LIKE county || '%'
  ), one_post AS (
    -- For the payments without a post only: the person's one post that month.
    SELECT b.id_number, b.month, min(b.post_id) AS post_id FROM booked b
    WHERE (b.id_number, b.month) IN (SELECT id_number, month FROM payments WHERE post_id IS NULL)
    GROUP BY b.id_number, b.month HAVING count(*) = 1
  ), paid AS (
    SELECT min(p.county_code) AS county_code, p.id_number, p.month, coalesce(p.post_id, o.post_id) AS post_id,
           sum(p.amount_fen)::bigint AS paid_fen
    FROM payments p LEFT JOIN one_post o ON p.post_id IS NULL AND o.id_number = p.id_number AND o.month = p.month
    GROUP BY p.id_number, p.month, coalesce(p.post_id, o.post_id)
  ), compared AS (
    SELECT coalesce(b.county_code, p.county_code) AS county_code, coalesce(b.id_number, p.id_number) AS id_number,
           coalesce(b.month, p.month) AS month, coalesce(b.post_id, p.post_id) AS post_id,
           coalesce(b.booked_fen, 0) AS booked_fen, p.paid_fen
    FROM booked b FULL JOIN paid p ON p.id_number = b.id_number AND p.month = b.month AND p.post_id IS NOT DISTINCT FROM b.post_id
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
CREATE VIEW audit_payment_case WITH (security_invoker = true) AS SELECT * FROM audit_payment_cases();

CREATE VIEW audit_paid_not_due WITH (security_invoker = true) AS SELECT * FROM audit_payment_case WHERE rule = 'PAID_NOT_DUE';
CREATE VIEW audit_underpaid WITH (security_invoker = true) AS SELECT * FROM audit_payment_case WHERE rule = 'UNDERPAID';
CREATE VIEW audit_unpaid_late WITH (security_invoker = true) AS SELECT * FROM audit_payment_case WHERE rule = 'UNPAID_LATE';

-- Payments grouped first, on their own; only the duplicates are joined to their regions.
CREATE VIEW audit_duplicate_payment WITH (security_invoker = true) AS
  SELECT 'DUPLICATE_PAYMENT'::text AS rule, d.county_code, township_of(r.region_code) AS township_code,
         village_of(r.region_code) AS village_code, r.region_code, d.id_number, d.post_id,
         d.month AS from_on, (d.month + interval '1 month' - interval '1 day')::date AS to_on, d.month, d.amount_fen,
         format('paid %s times for %s (%s): recover the payments after the first', d.payments, to_char(d.month, 'YYYY-MM'), d.list) AS explanation,
         format('%s 重复发放 %s 次（%s）：应追回首笔之外的款项', to_char(d.month, 'YYYY-MM'), d.payments, d.list_zh) AS explanation_zh,
         (SELECT basis FROM audit_rule WHERE code = 'DUPLICATE_PAYMENT') AS basis
  FROM (
    SELECT min(d.county_code) AS county_code, d.id_number, d.post_id, d.month, count(*) AS payments,
           sum(d.amount_fen) - (array_agg(d.amount_fen ORDER BY d.paid_on, d.file_id, d.line))[1] AS amount_fen,
           string_agg(yuan_text(d.amount_fen) || ' on ' || d.paid_on, ', ' ORDER BY d.paid_on, d.file_id, d.line) AS list,
           string_agg(d.paid_on || ' ' || yuan_text(d.amount_fen) || ' 元', '，' ORDER BY d.paid_on, d.file_id, d.line) AS list_zh
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
  ) d
  CROSS JOIN LATERAL (SELECT coalesce((SELECT region_code FROM post WHERE id = d.post_id),
                                      (SELECT village_code FROM person WHERE id_number = d.id_number)) AS region_code) r;

-- Payments to an account other than the person's registered one (none registered included).
-- A function for the same reason as audit_payment_rows: every payment meets its person by hash.
CREATE FUNCTION audit_paid_to_other_account_rows()
RETURNS TABLE (rule text, county_code text, township_code text, village_code text, region_code text, id_number text,
               post_id text, from_on date, to_on date, month date, amount_fen bigint, explanation text,
               explanation_zh text, basis text)
LANGUAGE sql STABLE SET enable_nestloop = off SET jit = off AS $$
  SELECT 'PAID_TO_OTHER_ACCOUNT'::text, d.county_code, township_of(d.region_code), village_of(d.region_code), d.region_code,
         d.id_number, d.post_id, d.paid_on, d.paid_on, d.month, d.amount_fen,
         format('%s for %s paid on %s to account %s, which is not the person''s registered account: recover it and pay the registered account',
                yuan_text(d.amount_fen), to_char(d.month, 'YYYY-MM'), d.paid_on, mask_account(d.bank_account)),
         format('%s 的 %s 元于 %s 发放至非本人登记账户 %s：应追回并发放至本人账户',
                to_char(d.month, 'YYYY-MM'), yuan_text(d.amount_fen), d.paid_on, mask_account(d.bank_account)),
         (SELECT basis FROM audit_rule WHERE code = 'PAID_TO_OTHER_ACCOUNT')
  FROM (
    SELECT d.*, coalesce(po.region_code, d.village_code) AS region_code
    FROM (SELECT d.*, pe.village_code FROM disbursement d CROSS JOIN audit_range r
          JOIN person pe ON pe.id_number = d.id_number
          WHERE d.month BETWEEN r.from_month AND r.to_month AND d.paid_on <= r.as_of AND d.county_code LIKE r.county || '%'
            AND d.bank_account IS DISTINCT FROM pe.bank_account) d
    LEFT JOIN post po ON po.id = d.post_id
  ) d
$$;
CREATE VIEW audit_paid_to_other_account WITH (security_invoker = true) AS SELECT * FROM audit_paid_to_other_account_rows();

-- Every rule but the three of audit_payment_case, in the order of SPEC §7: `audit violations`
-- reads this and audit_payment_case on two connections at once (one snapshot), so that a
-- province's report uses both of the server's cores.
CREATE VIEW audit_state_violation WITH (security_invoker = true) AS
  SELECT * FROM audit_deceased_in_post
  UNION ALL SELECT * FROM audit_ineligible_in_post
  UNION ALL SELECT * FROM audit_over_age_in_post
  UNION ALL SELECT * FROM audit_household_over_cap
  UNION ALL SELECT * FROM audit_no_contract
  UNION ALL SELECT * FROM audit_uninsured
  UNION ALL SELECT * FROM audit_duplicate_payment
  UNION ALL SELECT * FROM audit_paid_to_other_account
  UNION ALL SELECT * FROM audit_repeated_failure
  UNION ALL SELECT * FROM audit_vacant_too_long;

-- Every case of every rule: what an auditor with psql reads.
CREATE VIEW audit_violation WITH (security_invoker = true) AS
  SELECT * FROM audit_state_violation UNION ALL SELECT * FROM audit_payment_case;
