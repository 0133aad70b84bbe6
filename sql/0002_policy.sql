-- Policy (SPEC §4): effective-dated values set at county level or above. The value in force for
-- a region on a day is the one set by the nearest ancestor (or the region itself) that has a
-- value in force, and among that ancestor's values the latest effective on or before the day.

-- A policy region is a province, city or county: never a township or village, so every post of
-- one type in one county has the same pay (uniform pay holds by construction).
CREATE FUNCTION is_policy_region(code text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT region_level(code) <= 3
$$;

CREATE TABLE pay_standard (
  region_code          text NOT NULL REFERENCES region (code)
                       CONSTRAINT pay_standard_region CHECK (is_policy_region(region_code)),
  county_code          text GENERATED ALWAYS AS (CASE WHEN region_level(region_code) = 3 THEN left(region_code, 6) END) STORED,
  post_type            text NOT NULL REFERENCES post_type (code),
  effective_from       date NOT NULL CONSTRAINT pay_standard_month_start CHECK (extract(day FROM effective_from) = 1),
  monthly_fen          bigint NOT NULL CHECK (monthly_fen >= 0),
  social_insurance_fen bigint NOT NULL DEFAULT 0 CHECK (social_insurance_fen >= 0),
  recorded_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (region_code, post_type, effective_from)
);

-- Each value may be left NULL: it is then inherited from an ancestor, or the default applies.
CREATE TABLE eligibility_policy (
  region_code    text NOT NULL REFERENCES region (code)
                 CONSTRAINT eligibility_region CHECK (is_policy_region(region_code)),
  county_code    text GENERATED ALWAYS AS (CASE WHEN region_level(region_code) = 3 THEN left(region_code, 6) END) STORED,
  effective_from date NOT NULL,
  min_age        int CHECK (min_age BETWEEN 0 AND 150),
  max_age        int CHECK (max_age BETWEEN 0 AND 150),
  household_cap  int CHECK (household_cap >= 1),
  categories     text[] CHECK (cardinality(categories) >= 1),
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (region_code, effective_from)
);

CREATE TABLE post_quota (
  county_code text NOT NULL REFERENCES region (code)
              CONSTRAINT quota_region CHECK (region_level(county_code) = 3),
  year        int NOT NULL CHECK (year BETWEEN 2000 AND 2200),
  posts       int NOT NULL CHECK (posts >= 0),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (county_code, year)
);

-- The pay standard in force for a post type in a region on a day (no row: none in force).
CREATE FUNCTION pay_standard_on(region text, type text, day date)
RETURNS TABLE (monthly_fen bigint, social_insurance_fen bigint, set_by text, effective_from date)
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  SELECT p.monthly_fen, p.social_insurance_fen, p.region_code, p.effective_from
  FROM pay_standard p JOIN region_lineage(region) l ON l.ancestor = p.region_code
  WHERE p.post_type = type AND p.effective_from <= day
  ORDER BY l.level DESC, p.effective_from DESC
  LIMIT 1
$$;

-- The eligibility policy in force in a region on a day, value by value, defaults filled in:
-- ages 16 to 65, one member of a household in post, the three low-income categories.
CREATE FUNCTION eligibility_on(region text, day date)
RETURNS TABLE (min_age int, max_age int, household_cap int, categories text[])
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  WITH candidates AS (
    SELECT e.*, l.level FROM eligibility_policy e JOIN region_lineage(region) l ON l.ancestor = e.region_code
    WHERE e.effective_from <= day
  )
  SELECT
    coalesce((SELECT c.min_age FROM candidates c WHERE c.min_age IS NOT NULL ORDER BY c.level DESC, c.effective_from DESC LIMIT 1), 16),
    coalesce((SELECT c.max_age FROM candidates c WHERE c.max_age IS NOT NULL ORDER BY c.level DESC, c.effective_from DESC LIMIT 1), 65),
    coalesce((SELECT c.household_cap FROM candidates c WHERE c.household_cap IS NOT NULL ORDER BY c.level DESC, c.effective_from DESC LIMIT 1), 1),
    coalesce((SELECT c.categories FROM candidates c WHERE c.categories IS NOT NULL ORDER BY c.level DESC, c.effective_from DESC LIMIT 1),
             ARRAY['poverty-alleviated', 'monitored', 'low-income'])
$$;
