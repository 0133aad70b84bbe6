-- Paying through the bank (SPEC §15, issue 14): bank profiles, the batches exported by them,
-- the recovery list (追缴), failed transfers and their resubmission.

-- The account in force for a person on a day, from the facts with history (sql/0017b): the
-- version of the person whose days hold it. Everything of this migration that needs "the
-- account in force" reads it here.
CREATE FUNCTION person_account_on(person_id text, on_day date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT v.bank_account FROM person_version v WHERE v.id_number = person_id AND v.valid @> on_day;
END;

-- A bank's or the 一卡通 platform's file: which columns in which order under which names, the
-- encoding, CSV/TXT with a separator or xlsx, and the most rows one file may hold. One set of
-- profiles per county (the county's finance office pays through its banks).
CREATE TABLE bank_profile (
  county_code    text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  name           text NOT NULL CONSTRAINT bank_profile_name CHECK (length(name) BETWEEN 1 AND 50),
  columns        text[] NOT NULL CONSTRAINT bank_profile_columns CHECK (cardinality(columns) BETWEEN 1 AND 40
                   AND columns <@ ARRAY['seq', 'batch', 'month', 'county_code', 'township', 'village', 'post_id', 'post_type',
                                        'funding_channel', 'name', 'id_number', 'bank_account', 'days_in_post', 'post_subsidy',
                                        'social_insurance_subsidy', 'adjustment', 'total']),
  headers        text[] NOT NULL CONSTRAINT bank_profile_headers CHECK (cardinality(headers) = cardinality(columns)),
  encoding       text NOT NULL CONSTRAINT bank_profile_encoding CHECK (encoding IN ('utf-8', 'gbk')),
  format         text NOT NULL CONSTRAINT bank_profile_format CHECK (format IN ('csv', 'txt', 'xlsx')),
  separator      text NOT NULL DEFAULT ',' CONSTRAINT bank_profile_separator CHECK (length(separator) = 1),
  max_rows       int CONSTRAINT bank_profile_max_rows CHECK (max_rows BETWEEN 1 AND 1000000),
  account_prefixes text[] NOT NULL DEFAULT '{}',
  added_at       timestamptz NOT NULL DEFAULT now(),
  added_by       text NOT NULL DEFAULT session_user,
  PRIMARY KEY (county_code, name)
);

-- Each file an export by profile wrote for an approved month (or a resubmission): its batch
-- number, rows and total. A second export of the same month by the same profile writes the
-- same batches under the same numbers: nothing approved is sent twice under two numbers.
CREATE TABLE bank_batch (
  county_code text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  batch_no    text NOT NULL,
  month       date NOT NULL CHECK (extract(day FROM month) = 1),
  profile     text,  -- NULL: a resubmission written in the export's own columns
  kind        text NOT NULL CHECK (kind IN ('payroll', 'resubmission')),
  position    int NOT NULL,
  rows        int NOT NULL CHECK (rows > 0),
  total_fen   bigint NOT NULL,
  file_name   text NOT NULL,
  written_at  timestamptz NOT NULL DEFAULT now(),
  written_by  text NOT NULL DEFAULT session_user,
  PRIMARY KEY (county_code, batch_no),
  FOREIGN KEY (county_code, profile) REFERENCES bank_profile (county_code, name)
);
CREATE UNIQUE INDEX bank_batch_position ON bank_batch (county_code, month, profile, position) WHERE kind = 'payroll';

-- 追缴: a person-post whose month nets below zero (a late exit's deduction larger than what is
-- due) is paid nothing and owes the difference. Written when the month is approved, open until
-- settled by a later deduction, a refund, or waived.
CREATE TABLE recovery (
  county_code text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  id          bigint GENERATED ALWAYS AS IDENTITY,
  month       date NOT NULL CHECK (extract(day FROM month) = 1),
  id_number   text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  post_id     text COLLATE "C" NOT NULL REFERENCES post (id),
  amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  settled_on  date,
  how         text CONSTRAINT recovery_how CHECK (how IN ('deduction', 'refund', 'waived')),
  note        text CONSTRAINT recovery_note CHECK (length(note) <= 200),
  settled_by  text,
  PRIMARY KEY (county_code, id),
  UNIQUE (id),
  CONSTRAINT recovery_once UNIQUE (county_code, month, id_number, post_id),
  CONSTRAINT recovery_settled CHECK ((settled_on IS NULL) = (how IS NULL) AND (settled_on IS NULL) = (settled_by IS NULL))
);

-- The negative nets of a county-month's approved lines, as recoveries (none twice).
CREATE FUNCTION recovery_from_approval() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NEW.state = 'approved' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'approved') THEN
    INSERT INTO recovery (county_code, month, id_number, post_id, amount_fen)
    SELECT l.county_code, l.month, l.id_number, l.post_id, -sum(l.total_fen)
    FROM payroll_line l WHERE l.county_code = NEW.county_code AND l.month = NEW.month
    GROUP BY l.county_code, l.month, l.id_number, l.post_id HAVING sum(l.total_fen) < 0
    ON CONFLICT ON CONSTRAINT recovery_once DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER recovery_from_approval AFTER INSERT OR UPDATE OF state ON payroll_run
  FOR EACH ROW EXECUTE FUNCTION recovery_from_approval();

-- Months approved before this migration.
INSERT INTO recovery (county_code, month, id_number, post_id, amount_fen)
SELECT l.county_code, l.month, l.id_number, l.post_id, -sum(l.total_fen)
FROM payroll_line l JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
GROUP BY l.county_code, l.month, l.id_number, l.post_id HAVING sum(l.total_fen) < 0;

-- A transfer the bank reports as failed (SPEC §10: status failed 失败): recorded as a failure,
-- never as a payment, so the audit still finds the month unpaid.
CREATE TABLE bank_failure (
  county_code    text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  id             bigint GENERATED ALWAYS AS IDENTITY,
  file_id        bigint NOT NULL REFERENCES disbursement_file (id),
  line           int NOT NULL,
  id_number      text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  month          date NOT NULL CHECK (extract(day FROM month) = 1),
  post_id        text COLLATE "C" REFERENCES post (id),
  bank_account   text NOT NULL,
  amount_fen     bigint NOT NULL CONSTRAINT bank_failure_amount_bounds CHECK (amount_fen BETWEEN 0 AND 100000000),
  failed_on      date NOT NULL,
  failure_reason text CONSTRAINT bank_failure_reason CHECK (length(failure_reason) <= 200),
  reference      text CONSTRAINT bank_failure_reference_form CHECK (reference ~ '^[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}$'),
  PRIMARY KEY (county_code, id),
  UNIQUE (id)
);
CREATE UNIQUE INDEX bank_failure_reference_once ON bank_failure (county_code, reference) WHERE reference IS NOT NULL;
CREATE INDEX bank_failure_month ON bank_failure (county_code, month);

-- Each failure is sent again once: the batch it went in and the account it went to.
CREATE TABLE bank_resubmission (
  county_code  text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  failure_id   bigint NOT NULL CONSTRAINT bank_resubmission_once UNIQUE REFERENCES bank_failure (id),
  batch_no     text NOT NULL,
  bank_account text NOT NULL,
  resubmitted_at timestamptz NOT NULL DEFAULT now(),
  resubmitted_by text NOT NULL DEFAULT session_user,
  PRIMARY KEY (county_code, failure_id),
  FOREIGN KEY (county_code, batch_no) REFERENCES bank_batch (county_code, batch_no)
);

-- Journaled like every domain table.
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('bank_profile', 'county_code, name'), ('bank_batch', 'county_code, batch_no'),
                                 ('recovery', 'id'), ('bank_failure', 'id'), ('bank_resubmission', 'failure_id')) AS v(name, keys)
  LOOP
    EXECUTE format('CREATE TRIGGER journal_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
    EXECUTE format('CREATE TRIGGER journal_truncate AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION journal_statement(%s)', t.name, t.keys);
  END LOOP;
END $$;

-- Row-level security as the neighbours have it: the operator's county range; rows about a
-- person also the person's visibility (as disbursement).
-- Policies in sql/0014's form: the county range for county-level groups; a township by the parent.
ALTER TABLE bank_profile ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_county ON bank_profile TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])) WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]));
CREATE POLICY in_township ON bank_profile TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])) WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[]));
ALTER TABLE bank_batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_county ON bank_batch TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])) WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]));
CREATE POLICY in_township ON bank_batch TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])) WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[]));
ALTER TABLE recovery ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_county ON recovery TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND post_id IN (SELECT id FROM post));
CREATE POLICY in_township ON recovery TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND post_id IN (SELECT id FROM post));
ALTER TABLE bank_failure ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_county ON bank_failure TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND id_number IN (SELECT id_number FROM person));
CREATE POLICY in_township ON bank_failure TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND id_number IN (SELECT id_number FROM person))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND id_number IN (SELECT id_number FROM person));
ALTER TABLE bank_resubmission ENABLE ROW LEVEL SECURITY;
CREATE POLICY in_county ON bank_resubmission TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]))
  WITH CHECK (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[])
    AND failure_id IN (SELECT id FROM bank_failure));
CREATE POLICY in_township ON bank_resubmission TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND failure_id IN (SELECT id FROM bank_failure))
  WITH CHECK (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[])
    AND failure_id IN (SELECT id FROM bank_failure));

-- Privileges (SPEC §11): finance keeps the profiles, exports, records results and resubmits;
-- the approving county admin's approval writes the recoveries; finance and the county settle
-- them; auditors read it all; township admins read their recoveries.
REVOKE ALL ON bank_profile, bank_batch, recovery, bank_failure, bank_resubmission FROM PUBLIC;
GRANT SELECT ON bank_profile, bank_batch, recovery, bank_failure, bank_resubmission TO wp_finance, wp_auditor, wp_county_admin;
GRANT SELECT ON recovery TO wp_township_admin;
GRANT INSERT, UPDATE ON bank_profile TO wp_finance;
GRANT INSERT ON bank_batch, bank_failure, bank_resubmission TO wp_finance;
GRANT INSERT ON recovery TO wp_county_admin;
GRANT UPDATE (settled_on, how, note, settled_by) ON recovery TO wp_finance, wp_county_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wp_township_admin, wp_county_admin, wp_finance;
REVOKE ALL ON FUNCTION person_account_on(text, date), recovery_from_approval() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION person_account_on(text, date) TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor;

-- The audit (SPEC §15): an open recovery is PAID_NOT_DUE until settled. The month whose
-- overpayment a later approved payroll deducted (a negative adjustment for it) is credited
-- with the deduction, so money deducted is not counted again and money that could not be
-- deducted is counted once, as the recovery. audit_payment_cases() itself is unchanged; this
-- view, which `audit violations` and the per-rule views read, is replaced.
CREATE OR REPLACE VIEW audit_payment_case WITH (security_invoker = true) AS
  WITH credit AS (
    SELECT l.county_code, l.for_month AS month, l.id_number, l.post_id, -sum(l.adjustment_fen)::bigint AS credited_fen
    FROM payroll_line l
    JOIN payroll_run pr ON pr.county_code = l.county_code AND pr.month = l.month AND pr.state = 'approved'
    CROSS JOIN audit_range q
    WHERE l.kind = 'adjustment' AND l.adjustment_fen < 0 AND l.for_month BETWEEN q.from_month AND q.to_month
      AND l.county_code ^@ q.county
    GROUP BY 1, 2, 3, 4
  )
  SELECT c.rule, c.county_code, c.township_code, c.village_code, c.region_code, c.id_number, c.post_id, c.from_on, c.to_on,
         c.month, c.amount_fen - coalesce(k.credited_fen, 0) AS amount_fen,
         CASE WHEN k.credited_fen IS NULL THEN c.explanation
              ELSE c.explanation || format(' (less %s deducted by a later payroll)', yuan_text(k.credited_fen)) END AS explanation,
         CASE WHEN k.credited_fen IS NULL THEN c.explanation_zh
              ELSE c.explanation_zh || format('（已在以后月份工资表中扣回 %s 元）', yuan_text(k.credited_fen)) END AS explanation_zh,
         c.basis
  FROM audit_payment_cases() c
  LEFT JOIN credit k ON c.rule = 'PAID_NOT_DUE' AND k.county_code = c.county_code AND k.month = c.month
                    AND k.id_number = c.id_number AND k.post_id = c.post_id
  WHERE c.rule <> 'PAID_NOT_DUE' OR c.amount_fen - coalesce(k.credited_fen, 0) > 0
  UNION ALL
  SELECT 'PAID_NOT_DUE'::text, r.county_code COLLATE "default", township_of(po.region_code) COLLATE "default", village_of(po.region_code) COLLATE "default",
         po.region_code COLLATE "default", r.id_number COLLATE "default", r.post_id COLLATE "default", r.month, (r.month + interval '1 month' - interval '1 day')::date, r.month, r.amount_fen,
         format('recovery %s: the %s payroll nets %s below zero (a deduction larger than what was due): recover it, then `recovery settle %s`',
                r.id, to_char(r.month, 'YYYY-MM'), yuan_text(r.amount_fen), r.id),
         format('追缴 %s：%s 工资表轧差为负 %s 元（扣减大于应发）：应追回，并用 `recovery settle %s` 登记',
                r.id, to_char(r.month, 'YYYY-MM'), yuan_text(r.amount_fen), r.id),
         (SELECT basis FROM audit_rule WHERE code = 'PAID_NOT_DUE')
  FROM recovery r
  JOIN post po ON po.id = r.post_id
  CROSS JOIN audit_range q
  WHERE r.month BETWEEN q.from_month AND q.to_month AND r.county_code ^@ q.county
    AND (r.settled_on IS NULL OR r.settled_on > q.as_of);

-- ACCOUNT_MISSING (SPEC §15): a month is not approved while a person-post it pays (a net above
-- zero) has no account in force: the bank would reject the row. Kept by a trigger, so psql
-- cannot approve it either; `payroll check` lists every such line beforehand.
CREATE FUNCTION payroll_accounts_present() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  missing int;
  example text;
BEGIN
  IF NEW.state = 'approved' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'approved') THEN
    SELECT count(*), min(mask_id(n.id_number)) INTO missing, example
    FROM (SELECT l.id_number FROM payroll_line l WHERE l.county_code = NEW.county_code AND l.month = NEW.month
          GROUP BY l.id_number, l.post_id HAVING sum(l.total_fen) > 0) n
    WHERE coalesce(person_account_on(n.id_number, current_date), '') = '';
    IF missing > 0 THEN
      RAISE EXCEPTION '% line(s) of the % payroll of county % have no bank account (the first: %): record the accounts (person import), see `payroll check %`, then approve',
        missing, to_char(NEW.month, 'YYYY-MM'), NEW.county_code, example, to_char(NEW.month, 'YYYY-MM')
        USING DETAIL = 'ACCOUNT_MISSING',
              HINT = format('县 %s %s 工资表中有 %s 人没有银行账号（首个：%s）：请先登记账号（person import），可用 `payroll check %s` 查看，然后再审核',
                            NEW.county_code, to_char(NEW.month, 'YYYY-MM'), missing, example, to_char(NEW.month, 'YYYY-MM'));
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payroll_accounts_present BEFORE INSERT OR UPDATE OF state ON payroll_run
  FOR EACH ROW EXECUTE FUNCTION payroll_accounts_present();
REVOKE ALL ON FUNCTION payroll_accounts_present() FROM PUBLIC;
