-- The finance export's view without a join to every person (issue 17). Since sql/0017d each
-- payroll line keeps the name and bank account it was paid to; only lines run before that
-- kept none, and only for them is the person's record read (a lookup by key, made for those
-- lines alone), instead of hashing the whole person table for every export. A million-line
-- month read that table whole (a parallel hash of every person) to print names the lines
-- already held.
--
-- Row-level security still applies to every table read (security_invoker). One difference:
-- a line whose person is not visible to the reader (registered since in a county outside the
-- reader's region) was left out of the export by the join; it is now exported with the name
-- and account it was paid to. The line belongs to the reader's county and must be paid.
CREATE OR REPLACE VIEW payroll_export_line WITH (security_invoker = true) AS
SELECT l.month, l.county_code, t.name AS township, CASE WHEN v.level = 5 THEN v.name END AS village,
       l.post_id, p.post_type, pt.label_zh AS post_type_zh, p.funding_channel, fc.label_zh AS funding_channel_zh,
       CASE WHEN l.name IS NULL THEN (SELECT pe.name FROM person pe WHERE pe.id_number = l.id_number) ELSE l.name END AS name,
       l.id_number,
       CASE WHEN l.name IS NULL THEN (SELECT pe.bank_account FROM person pe WHERE pe.id_number = l.id_number) ELSE l.bank_account END AS bank_account,
       l.days_in_post,
       l.post_subsidy_fen, l.social_insurance_fen, l.adjustment_fen, l.total_fen,
       p.region_code, l.kind, l.for_month,
       l.post_subsidy_standard_fen, l.social_insurance_standard_fen
FROM payroll_line l JOIN post p ON p.id = l.post_id
JOIN region v ON v.code = p.region_code JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0')
JOIN post_type pt ON pt.code = p.post_type JOIN funding_channel fc ON fc.code = p.funding_channel;
