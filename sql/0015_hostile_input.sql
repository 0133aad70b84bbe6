-- Hostile input (SPEC §10, issue 12): the bounds and the "recorded once" rule that the tool
-- checks line by line, kept by the database too, so a client other than the tool (psql) or two
-- imports at once cannot break them.

-- Amounts within SPEC §10's bounds: a file's amount 0 to 1,000,000 yuan, a monthly pay
-- standard 0 to 100,000 yuan. No sum the payroll or the audit makes of such amounts can leave
-- bigint. A database that already holds an amount outside them stops this migration at the
-- constraint that names it: such a row is a mistake to correct by hand, not to carry on.
ALTER TABLE pay_standard
  ADD CONSTRAINT pay_standard_bounds CHECK (monthly_fen <= 10000000 AND social_insurance_fen <= 10000000);
ALTER TABLE disbursement
  ADD CONSTRAINT disbursement_amount_bounds CHECK (amount_fen BETWEEN 0 AND 100000000);
ALTER TABLE insurance_policy
  ADD CONSTRAINT insurance_premium_bounds CHECK (premium_fen <= 100000000);

-- A payment is recorded once (SPEC §10): a disbursement row is the same payment as one recorded
-- before when its bank reference (交易流水号) is the same, or else when person, month, post,
-- account, amount and date are. `reference` is the bank's serial number, unique within a
-- county (two counties' banks may number alike).
ALTER TABLE disbursement
  ADD COLUMN reference text CONSTRAINT disbursement_reference_form CHECK (reference ~ '^[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}$'),
  -- Rows recorded before this migration that repeat an earlier row: kept (they were recorded,
  -- and the audit reports them as DUPLICATE_PAYMENT), but outside the unique indexes below.
  -- No operator may set it (column privileges below); only this migration does.
  ADD COLUMN legacy_duplicate boolean NOT NULL DEFAULT false;

UPDATE disbursement d SET legacy_duplicate = true
FROM (SELECT id, row_number() OVER (PARTITION BY id_number, month, post_id, bank_account, amount_fen, paid_on ORDER BY id) AS n
      FROM disbursement) x
WHERE x.id = d.id AND x.n > 1;

-- The same reference twice in a county.
CREATE UNIQUE INDEX disbursement_reference_once ON disbursement (county_code, reference)
  WHERE reference IS NOT NULL AND NOT legacy_duplicate;
-- The same six fields twice, both without a reference (NULLS NOT DISTINCT: two rows without a
-- reference or without a post are alike), or with the same reference. The index also finds,
-- by its first six columns, a row with a reference that a row without one repeats: the tool
-- checks that case under its import lock (an index cannot say "equal unless both references
-- are given and differ").
CREATE UNIQUE INDEX disbursement_payment_once
  ON disbursement (id_number, month, post_id, bank_account, amount_fen, paid_on, reference) NULLS NOT DISTINCT
  WHERE NOT legacy_duplicate;

-- The file a payment came in, by the name it was imported under, for "already recorded from
-- bank-2026-03.csv, line 7".
ALTER TABLE disbursement_file ADD COLUMN name text CONSTRAINT disbursement_file_name CHECK (length(name) <= 255);

-- Finance records payments but never marks one as a legacy duplicate.
REVOKE INSERT ON disbursement FROM wp_finance;
GRANT INSERT (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on, reference)
  ON disbursement TO wp_finance;
