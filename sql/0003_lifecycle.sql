-- The lifecycle (SPEC §5): posts set up by need, people hired per post, contracts of at most a
-- year, accident insurance, orderly exits. Invariants any client must keep are constraints
-- here, named after their rule codes so the tool can name the rule whoever broke it.

-- The anniversary of d in a later year: same month and day; 29 February → 1 March in a
-- non-leap year (SPEC §3).
CREATE FUNCTION anniversary(d date, in_year int) RETURNS date LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN extract(month FROM d) = 2 AND extract(day FROM d) = 29
                   AND NOT (in_year % 4 = 0 AND (in_year % 100 <> 0 OR in_year % 400 = 0))
              THEN make_date(in_year, 3, 1)
              ELSE make_date(in_year, extract(month FROM d)::int, extract(day FROM d)::int) END
$$;

-- Completed years on a day, counted by anniversary.
CREATE FUNCTION age_on(birth date, day date) RETURNS int LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT extract(year FROM day)::int - extract(year FROM birth)::int
         - CASE WHEN anniversary(birth, extract(year FROM day)::int) > day THEN 1 ELSE 0 END
$$;

-- Post IDs: the county code, a dash and a serial within the county (320321-00017): short,
-- stable, printable, and they say where the post is.
CREATE TABLE post_serial (
  county_code text COLLATE "C" PRIMARY KEY,
  last_serial int NOT NULL
);

CREATE TABLE post (
  id              text COLLATE "C" PRIMARY KEY,
  county_code     text COLLATE "C" NOT NULL,
  region_code     text COLLATE "C" NOT NULL REFERENCES region (code)
                  -- A post is a seat of work in a township or a village.
                  CONSTRAINT post_region CHECK (region_level(region_code) >= 4),
  post_type       text NOT NULL REFERENCES post_type (code),
  funding_channel text NOT NULL REFERENCES funding_channel (code),
  developer       text NOT NULL CHECK (btrim(developer) <> ''),
  need            text NOT NULL CHECK (btrim(need) <> ''),
  state           text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'approved', 'rejected', 'closed')),
  proposed_on     date NOT NULL,
  approved_on     date,
  rejected_on     date,
  reject_reason   text,
  -- The first day the post no longer exists.
  closed_on       date,
  close_reason    text,
  CONSTRAINT post_county CHECK (county_code = left(region_code, 6) AND id LIKE county_code || '-%'),
  CONSTRAINT post_state_dates CHECK (CASE state
    WHEN 'proposed' THEN approved_on IS NULL AND rejected_on IS NULL AND closed_on IS NULL
    WHEN 'approved' THEN approved_on IS NOT NULL AND rejected_on IS NULL AND closed_on IS NULL
    WHEN 'rejected' THEN approved_on IS NULL AND rejected_on IS NOT NULL AND reject_reason IS NOT NULL AND closed_on IS NULL
    WHEN 'closed'   THEN approved_on IS NOT NULL AND closed_on > approved_on AND close_reason IS NOT NULL END)
);
CREATE INDEX post_region_idx ON post (county_code, region_code);

-- Person P in post X from start_on; exit_on is the last day in post (NULL while open).
CREATE TABLE placement (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code text COLLATE "C" NOT NULL,
  post_id     text COLLATE "C" NOT NULL REFERENCES post (id),
  id_number   text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  start_on    date NOT NULL,
  exit_on     date,
  exit_reason text REFERENCES exit_reason (code),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT exit_after_start CHECK (exit_on IS NULL OR exit_on >= start_on),
  CONSTRAINT exit_has_reason CHECK ((exit_on IS NULL) = (exit_reason IS NULL)),
  CONSTRAINT one_post_per_person EXCLUDE USING gist
    (id_number WITH =, daterange(start_on, exit_on, '[]') WITH &&),
  CONSTRAINT one_holder_per_post EXCLUDE USING gist
    (post_id WITH =, daterange(start_on, exit_on, '[]') WITH &&)
);
CREATE INDEX placement_person ON placement (county_code, id_number);

-- The next anniversary of a contract's start: the contract must end before it.
CREATE FUNCTION next_anniversary(d date) RETURNS date LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT anniversary(d, extract(year FROM d)::int + 1)
$$;

CREATE TABLE contract (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code  text COLLATE "C" NOT NULL,
  placement_id bigint NOT NULL REFERENCES placement (id),
  kind         text NOT NULL DEFAULT 'service-agreement' REFERENCES contract_kind (code),
  start_on     date NOT NULL,
  end_on       date NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- 每次签订期限不超过1年: ends on or after its start and before the start's next anniversary.
  CONSTRAINT contract_term CHECK (end_on >= start_on AND end_on < next_anniversary(start_on)),
  CONSTRAINT contract_overlap EXCLUDE USING gist
    (placement_id WITH =, daterange(start_on, end_on, '[]') WITH &&)
);
CREATE INDEX contract_placement ON contract (placement_id, start_on);

-- Contracts start on or after their placement's start (a constraint across two tables).
CREATE FUNCTION contract_within_placement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM placement p WHERE p.id = NEW.placement_id AND NEW.start_on < p.start_on) THEN
    RAISE EXCEPTION 'a contract cannot start before its placement'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'contract_within_placement';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER contract_within_placement BEFORE INSERT OR UPDATE ON contract
  FOR EACH ROW EXECUTE FUNCTION contract_within_placement();

-- Accident-injury insurance bought for a person (意外伤害商业保险); policies may overlap.
CREATE TABLE insurance_policy (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code   text COLLATE "C" NOT NULL,
  id_number     text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  insurer       text NOT NULL CHECK (btrim(insurer) <> ''),
  policy_number text NOT NULL CHECK (btrim(policy_number) <> ''),
  valid_from    date NOT NULL,
  valid_to      date NOT NULL,
  premium_fen   bigint CHECK (premium_fen >= 0),
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT insurance_period CHECK (valid_to >= valid_from),
  CONSTRAINT insurance_policy_unique UNIQUE (id_number, insurer, policy_number)
);
CREATE INDEX insurance_person ON insurance_policy (county_code, id_number);

-- The days a person's policies together cover.
CREATE FUNCTION insurance_coverage(person text) RETURNS datemultirange LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(range_agg(daterange(valid_from, valid_to, '[]')), '{}'::datemultirange)
  FROM insurance_policy WHERE id_number = person
$$;
