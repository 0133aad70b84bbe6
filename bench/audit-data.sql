-- A province for bench/audit.sh: run with psql -v n=PERSONS on a migrated database with the
-- regions of bench/generate.py. Triggers are off while it is made (session_replication_role).
SET session_replication_role = replica;
SET work_mem = '256MB';
INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen, social_insurance_fen)
SELECT '320000000000', code, '2026-01-01', 80000 + position * 5000, 30000 FROM post_type;
CREATE TEMP TABLE v AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, code FROM region WHERE level = 5;
-- g numbers the persons; three in ten (g mod 10 < 3) hold a post. Planted at known rates:
-- households of two (1 in 100), vacant posts (1 in 500), exits (1 in 40), contracts not
-- renewed (1 in 200), insurance ending early (1 in 300), deaths recorded after the payroll
-- (1 in 1000), steady jobs (1 in 1000), two failed months (1 in 500), payments to another
-- account (1 in 700), paid twice (1 in 900), paid short (1 in 800), not paid (1 in 1100).
CREATE TEMP TABLE people AS
SELECT g, left(v.code, 6) AS county_code, v.code AS village_code,
       -- Unique IDs: g mod 84 gives month and day (12 and 28 meet every 84), g / 84 the year and order code.
       left(v.code, 6) || (1960 + g / 84 / 1000)::text || lpad((1 + g % 12)::text, 2, '0')
       || lpad((1 + g % 28)::text, 2, '0') || lpad((g / 84 % 1000)::text, 3, '0') || '0' AS id_number
FROM generate_series(0, :n - 1) g JOIN v ON v.i = g % (SELECT count(*) FROM v);
INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
SELECT county_code, id_number, '某某', 'H' || CASE WHEN g % 100 = 1 THEN g - 1 ELSE g END, village_code,
       'poverty-alleviated', 'weak', '6228' || lpad(g::text, 12, '0')
FROM people;
CREATE TEMP TABLE holders AS SELECT p.*, p.county_code || '-' || lpad(row_number() OVER (PARTITION BY p.county_code ORDER BY p.g)::text, 6, '0') AS post_id
FROM people p WHERE g % 10 < 3;
INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, state, proposed_on, approved_on)
SELECT post_id, county_code, village_code, (ARRAY['cleaner','road-keeper','forest-ranger','water-keeper','security-patrol','elder-care'])[1 + g % 6],
       (ARRAY['rural-revitalization','employment-fund','local-fiscal','east-west'])[1 + g / 7 % 4], '镇人民政府', '保洁', 'approved', '2025-12-01', '2025-12-15'
FROM holders;
DELETE FROM holders WHERE g % 1500 = 0;
INSERT INTO placement (county_code, post_id, id_number, start_on, exit_on, exit_reason)
SELECT county_code, post_id, id_number, '2026-01-01', CASE WHEN g % 40 = 12 THEN date '2026-06-30' END, CASE WHEN g % 40 = 12 THEN 'resigned' END
FROM holders;
INSERT INTO contract (county_code, placement_id, start_on, end_on)
SELECT pl.county_code, pl.id, '2026-01-01', CASE WHEN h.g % 200 = 21 THEN date '2026-06-30' ELSE date '2026-12-31' END
FROM placement pl JOIN holders h ON h.id_number = pl.id_number;
INSERT INTO insurance_policy (county_code, id_number, insurer, policy_number, valid_from, valid_to, premium_fen)
SELECT county_code, id_number, '人保财险', 'P' || g, '2026-01-01', CASE WHEN g % 300 = 11 THEN date '2026-09-30' ELSE date '2026-12-31' END, 6000
FROM holders;
INSERT INTO assessment (county_code, placement_id, month, result, absent_days)
SELECT pl.county_code, pl.id, m::date, CASE WHEN h.g % 500 = 20 AND m IN ('2026-03-01', '2026-04-01') THEN 'fail' ELSE 'pass' END, h.g % 3
FROM placement pl JOIN holders h ON h.id_number = pl.id_number
CROSS JOIN generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') m
WHERE h.g % 5 = 0 OR h.g % 500 = 20;
INSERT INTO person_status (county_code, id_number, status, valid_from)
SELECT county_code, id_number, 'employed', '2026-05-01' FROM holders WHERE g % 1000 = 102;
-- Twelve approved payrolls, one statement.
INSERT INTO payroll_run (county_code, month, state, approved_at)
SELECT left(r.code, 6), m::date, 'approved', now() FROM region r CROSS JOIN generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') m
WHERE r.level = 3;
INSERT INTO payroll_line (county_code, month, for_month, kind, id_number, post_id, days_in_post, post_subsidy_fen, social_insurance_fen, total_fen)
SELECT d.county_code, d.month, d.month, 'regular', d.id_number, d.post_id, d.days_in_post, d.post_subsidy_fen, d.social_insurance_fen,
       d.post_subsidy_fen + d.social_insurance_fen
FROM payroll_due('2026-01-01', '2026-12-01', '') d ORDER BY 1, 2, 3, 4;
-- Deaths recorded after the payroll paid the months after them.
INSERT INTO person_status (county_code, id_number, status, valid_from)
SELECT county_code, id_number, 'deceased', '2026-08-15' FROM holders WHERE g % 1000 = 200;
INSERT INTO disbursement_file (sha256, source, rows) VALUES ('bench', 'bank-result', 0);
INSERT INTO disbursement (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on)
SELECT l.county_code, 1, row_number() OVER (), l.id_number, l.month, l.post_id,
       CASE WHEN h.g % 700 = 120 AND l.month = '2026-02-01' THEN '6217000000000001' ELSE '6228' || lpad(h.g::text, 12, '0') END,
       l.total_fen - CASE WHEN h.g % 800 = 31 AND l.month = '2026-07-01' THEN 10000 ELSE 0 END,
       -- A second payment a day after the first (the same six fields twice are refused, sql/0015).
       (l.month + interval '1 month' + interval '9 days')::date + copies - 1
FROM payroll_line l JOIN holders h ON h.id_number = l.id_number
CROSS JOIN LATERAL generate_series(1, CASE WHEN h.g % 900 = 201 AND l.month = '2026-05-01' THEN 2 ELSE 1 END) copies
WHERE NOT (h.g % 1100 = 302 AND l.month = '2026-09-01');
RESET session_replication_role;
VACUUM ANALYZE;
