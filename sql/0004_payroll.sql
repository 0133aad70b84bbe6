-- Payroll (SPEC §6, 在岗领补): what each person is due each month, paid once, locked when
-- approved, corrected by adjustment lines, and compared with what the bank paid.

-- At most one assessment per placement and month (month = its first day).
CREATE TABLE assessment (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code  text COLLATE "C" NOT NULL,
  placement_id bigint NOT NULL REFERENCES placement (id),
  month        date NOT NULL CONSTRAINT assessment_month CHECK (extract(day FROM month) = 1),
  result       text NOT NULL REFERENCES assessment_result (code),
  absent_days  int NOT NULL DEFAULT 0,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT assessment_absent_days CHECK (absent_days >= 0
    AND absent_days <= extract(day FROM month + interval '1 month' - interval '1 day')),
  CONSTRAINT assessment_once UNIQUE (placement_id, month)
);

-- The one definition of what is due (SPEC §6), for every person, post and month in
-- [from_month, to_month] in counties whose code starts with county_prefix ('' for all):
--   days in post  = days of M in an open placement, covered by a contract, before any death;
--   post subsidy  = 0 if failed, else round_half_up(standard × max(0, days − absent) / D);
--   social ins.   = round_half_up(si_standard × days / D);
-- with the standards in force for the post's type and county in M (they start on month 1st).
-- Payroll writes from it; the audit compares disbursements with it.
CREATE FUNCTION payroll_due(from_month date, to_month date, county_prefix text DEFAULT '')
RETURNS TABLE (county_code text, month date, id_number text, post_id text, days_in_post int,
               post_subsidy_fen bigint, social_insurance_fen bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH months AS (
    SELECT m::date AS first, (m + interval '1 month' - interval '1 day')::date AS last,
           extract(day FROM m + interval '1 month' - interval '1 day')::int AS days
    FROM generate_series(from_month, to_month, interval '1 month') m
  ), deaths AS (
    SELECT s.id_number, min(s.valid_from) AS died_on FROM person_status s
    WHERE s.status = 'deceased' AND s.county_code LIKE county_prefix || '%' GROUP BY s.id_number
  ), worked AS (
    -- Contracts of one placement never overlap, so their days add up.
    SELECT pl.id AS placement_id, pl.county_code, pl.post_id, pl.id_number, m.first, m.days,
           sum(greatest(0, least(c.end_on, coalesce(pl.exit_on, c.end_on), m.last, coalesce(d.died_on - 1, c.end_on))
                           - greatest(c.start_on, pl.start_on, m.first) + 1))::int AS days_in_post
    FROM placement pl
    JOIN contract c ON c.placement_id = pl.id
    JOIN months m ON c.start_on <= m.last AND c.end_on >= m.first
                 AND pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)
    LEFT JOIN deaths d ON d.id_number = pl.id_number
    WHERE pl.county_code LIKE county_prefix || '%'
    GROUP BY pl.id, m.first, m.days
  ), standards AS (
    -- Standards are set at county level or above: one lookup per county, type and month.
    SELECT k.county_code, k.post_type, m.first, s.monthly_fen, s.social_insurance_fen
    FROM (SELECT DISTINCT p.county_code, p.post_type FROM post p WHERE p.county_code LIKE county_prefix || '%') k
    CROSS JOIN months m
    CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, m.first) s
  )
  SELECT w.county_code, w.first, w.id_number, w.post_id, sum(w.days_in_post)::int,
         sum(CASE WHEN a.result = 'fail' THEN 0
                  ELSE round(coalesce(s.monthly_fen, 0) * greatest(0, w.days_in_post - coalesce(a.absent_days, 0))::numeric / w.days) END)::bigint,
         sum(round(coalesce(s.social_insurance_fen, 0) * w.days_in_post::numeric / w.days))::bigint
  FROM worked w
  JOIN post p ON p.id = w.post_id
  LEFT JOIN standards s ON s.county_code = w.county_code AND s.post_type = p.post_type AND s.first = w.first
  LEFT JOIN assessment a ON a.placement_id = w.placement_id AND a.month = w.first
  WHERE w.days_in_post > 0
  GROUP BY w.county_code, w.first, w.id_number, w.post_id
$$;

-- One payroll per county and month: a draft until approved, then locked for good.
CREATE TABLE payroll_run (
  county_code text COLLATE "C" NOT NULL CHECK (length(county_code) = 6),
  month       date NOT NULL CHECK (extract(day FROM month) = 1),
  state       text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'approved')),
  run_at      timestamptz NOT NULL DEFAULT now(),
  approved_at timestamptz,
  PRIMARY KEY (county_code, month)
);

-- A line pays `for_month` with the payroll of `month`: a regular line (for_month = month) pays
-- what is due; an adjustment line corrects an approved earlier month by the difference
-- between what is due now and what has been booked for it so far.
CREATE TABLE payroll_line (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code          text COLLATE "C" NOT NULL,
  month                date NOT NULL,
  for_month            date NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('regular', 'adjustment')),
  id_number            text COLLATE "C" NOT NULL,
  post_id              text COLLATE "C" NOT NULL,
  days_in_post         int NOT NULL,
  post_subsidy_fen     bigint NOT NULL,
  social_insurance_fen bigint NOT NULL,
  adjustment_fen       bigint NOT NULL DEFAULT 0,
  total_fen            bigint NOT NULL GENERATED ALWAYS AS (post_subsidy_fen + social_insurance_fen + adjustment_fen) STORED,
  CONSTRAINT payroll_line_kind CHECK ((kind = 'regular') = (for_month = month)),
  -- Nobody is paid twice for the same post and month by one payroll. In this column order it
  -- also finds what has been booked for a month (county, for_month), and a run's lines,
  -- inserted in this order, append to it instead of scattering.
  CONSTRAINT payroll_line_once UNIQUE (county_code, for_month, id_number, post_id, month, kind)
);

-- PAYROLL_LOCKED: lines of an approved county-month never change, whoever tries (a trigger
-- fires for superusers too). Statement-level, so a run of a million lines checks once.
CREATE FUNCTION payroll_lines_unlocked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE locked text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    SELECT r.county_code || ' ' || to_char(r.month, 'YYYY-MM') INTO locked FROM payroll_run r WHERE r.state = 'approved' LIMIT 1;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT r.county_code || ' ' || to_char(r.month, 'YYYY-MM') INTO locked
    FROM payroll_run r WHERE r.state = 'approved' AND EXISTS (
      SELECT 1 FROM old_rows o WHERE o.county_code = r.county_code AND o.month = r.month) LIMIT 1;
  END IF;
  IF locked IS NULL AND TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT r.county_code || ' ' || to_char(r.month, 'YYYY-MM') INTO locked
    FROM payroll_run r WHERE r.state = 'approved' AND EXISTS (
      SELECT 1 FROM new_rows n WHERE n.county_code = r.county_code AND n.month = r.month) LIMIT 1;
  END IF;
  IF locked IS NOT NULL THEN
    RAISE EXCEPTION 'the payroll of % is approved and can never change', locked
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_locked';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER payroll_line_insert AFTER INSERT ON payroll_line
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payroll_lines_unlocked();
CREATE TRIGGER payroll_line_update AFTER UPDATE ON payroll_line
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payroll_lines_unlocked();
CREATE TRIGGER payroll_line_delete AFTER DELETE ON payroll_line
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payroll_lines_unlocked();
CREATE TRIGGER payroll_line_truncate BEFORE TRUNCATE ON payroll_line
  FOR EACH STATEMENT EXECUTE FUNCTION payroll_lines_unlocked();

-- An approved run stays approved and stays.
CREATE FUNCTION payroll_run_unlocked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state = 'approved' THEN
    RAISE EXCEPTION 'the payroll of % % is approved and can never change', OLD.county_code, to_char(OLD.month, 'YYYY-MM')
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_locked';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER payroll_run_locked BEFORE UPDATE OR DELETE ON payroll_run
  FOR EACH ROW EXECUTE FUNCTION payroll_run_unlocked();

-- What the bank really paid: bank results of a month (`payroll reconcile`) or history
-- (`disbursement import`). Each file is recorded once, by its SHA-256.
CREATE TABLE disbursement_file (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sha256      text NOT NULL UNIQUE,
  source      text NOT NULL CHECK (source IN ('bank-result', 'history')),
  rows        int NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE disbursement (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code  text COLLATE "C" NOT NULL,
  file_id      bigint NOT NULL REFERENCES disbursement_file (id),
  line         int NOT NULL,
  id_number    text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  month        date NOT NULL CHECK (extract(day FROM month) = 1),
  post_id      text COLLATE "C" REFERENCES post (id),
  bank_account text NOT NULL,
  amount_fen   bigint NOT NULL,
  paid_on      date NOT NULL
);
CREATE INDEX disbursement_person_month ON disbursement (county_code, id_number, month);
