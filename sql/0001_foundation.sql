-- Foundation: vocabulary, regions, persons and their status periods (SPEC §2, §3).
-- Every domain table carries county_code (the unit of administration, SPEC §3) and its keys
-- and indexes lead with it: row-level security filters on it (issue 6).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Vocabulary. Post types and funding channels may grow per region; the other sets are fixed.
CREATE TABLE person_category     (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE labour_capacity     (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE person_status_kind  (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE post_type           (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE funding_channel     (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE contract_kind       (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE exit_reason         (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);
CREATE TABLE assessment_result   (code text PRIMARY KEY, label_zh text NOT NULL UNIQUE, position int NOT NULL);

INSERT INTO person_category VALUES
  ('poverty-alleviated', '脱贫人口', 1), ('monitored', '监测对象', 2),
  ('low-income', '农村低收入人口', 3), ('other', '其他', 4);
INSERT INTO labour_capacity VALUES
  ('full', '普通劳动力', 1), ('weak', '弱劳力', 2), ('half', '半劳力', 3), ('none', '无劳动能力', 4);
INSERT INTO person_status_kind VALUES
  ('deceased', '死亡', 1), ('village-cadre', '村干部', 2), ('public-employee', '财政供养人员', 3),
  ('employed', '已稳定就业', 4), ('pensioner', '领取职工养老金', 5);
INSERT INTO post_type VALUES
  ('cleaner', '保洁员', 1), ('road-keeper', '护路员', 2), ('forest-ranger', '护林员', 3),
  ('water-keeper', '护水员', 4), ('security-patrol', '治安巡防员', 5), ('elder-care', '养老服务员', 6),
  ('facility-keeper', '设施管护员', 7), ('other', '其他', 8);
INSERT INTO funding_channel VALUES
  ('rural-revitalization', '衔接推进乡村振兴补助资金', 1), ('employment-fund', '就业补助资金', 2),
  ('local-fiscal', '地方财政资金', 3), ('east-west', '东西部协作资金', 4), ('other', '其他资金', 5);
INSERT INTO contract_kind VALUES ('service-agreement', '劳务协议', 1), ('labor-contract', '劳动合同', 2);
INSERT INTO exit_reason VALUES
  ('contract-ended', '协议期满', 1), ('employed-elsewhere', '实现其他就业', 2),
  ('no-longer-eligible', '不再符合条件', 3), ('failed-assessment', '考核不合格', 4),
  ('resigned', '本人申请', 5), ('over-age', '超龄', 6), ('deceased', '死亡', 7),
  ('incapacitated', '丧失劳动能力', 8), ('dismissed', '违规解聘', 9), ('post-closed', '岗位撤销', 10);
INSERT INTO assessment_result VALUES ('pass', '合格', 1), ('fail', '不合格', 2);

-- Regions: 12-digit statistical division codes. Level, parent and county follow from the code.
-- 1 province PP0000000000, 2 city PPCC00000000, 3 county PPCCDD000000, 4 township PPCCDDTTT000,
-- 5 village: the full code.
CREATE FUNCTION region_level(code text) RETURNS int LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN substr(code, 10, 3) <> '000' THEN 5
              WHEN substr(code, 7, 3) <> '000' THEN 4
              WHEN substr(code, 5, 2) <> '00' THEN 3
              WHEN substr(code, 3, 2) <> '00' THEN 2
              ELSE 1 END
$$;

-- A code is well formed when no zero segment is followed by a non-zero one.
CREATE FUNCTION region_code_is_valid(code text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT code ~ '^[0-9]{12}$' AND left(code, 2) <> '00'
     AND rpad(left(code, CASE region_level(code) WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 6 WHEN 4 THEN 9 ELSE 12 END), 12, '0') = code
     AND NOT (substr(code, 3, 2) = '00' AND substr(code, 5) <> '00000000')
     AND NOT (substr(code, 5, 2) = '00' AND substr(code, 7) <> '000000')
     AND NOT (substr(code, 7, 3) = '000' AND substr(code, 10) <> '000')
$$;

-- The region itself and every ancestor, with its level: what a policy lookup walks.
CREATE FUNCTION region_lineage(code text) RETURNS TABLE (ancestor text, level int)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT v.ancestor, v.level
  FROM (VALUES (rpad(left(code, 2), 12, '0'), 1), (rpad(left(code, 4), 12, '0'), 2),
               (rpad(left(code, 6), 12, '0'), 3), (rpad(left(code, 9), 12, '0'), 4), (code, 5)) AS v(ancestor, level)
  WHERE v.level <= region_level(code)
$$;

CREATE TABLE region (
  code        text COLLATE "C" PRIMARY KEY CONSTRAINT region_code CHECK (region_code_is_valid(code)),
  name        text NOT NULL CHECK (btrim(name) <> ''),
  level       int  NOT NULL GENERATED ALWAYS AS (region_level(code)) STORED,
  parent_code text COLLATE "C" GENERATED ALWAYS AS (CASE region_level(code)
                     WHEN 1 THEN NULL WHEN 2 THEN rpad(left(code, 2), 12, '0')
                     WHEN 3 THEN rpad(left(code, 4), 12, '0') WHEN 4 THEN rpad(left(code, 6), 12, '0')
                     ELSE rpad(left(code, 9), 12, '0') END) STORED
              CONSTRAINT region_parent REFERENCES region (code),
  -- NULL above county level: provinces and cities belong to no single county.
  county_code text COLLATE "C" GENERATED ALWAYS AS (CASE WHEN region_level(code) >= 3 THEN left(code, 6) END) STORED
);
CREATE INDEX region_county ON region (county_code, code);
CREATE INDEX region_parent_idx ON region (parent_code);

-- GB 11643-1999: 17 digits and a check character, birth date in digits 7-14. The tables keep the
-- format; imports and commands check the check character and the birth date (with a precise
-- message) before writing. This function lets psql users and the audit check the rest; it is not
-- a table constraint because at ~5 µs a row it would double the time of a million-row import.
CREATE FUNCTION resident_id_is_valid(id text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN id !~ '^[0-9]{17}[0-9X]$' THEN false ELSE
    substr('10X98765432', 1 + (
        substr(id, 1, 1)::int * 7 + substr(id, 2, 1)::int * 9 + substr(id, 3, 1)::int * 10
      + substr(id, 4, 1)::int * 5 + substr(id, 5, 1)::int * 8 + substr(id, 6, 1)::int * 4
      + substr(id, 7, 1)::int * 2 + substr(id, 8, 1)::int * 1 + substr(id, 9, 1)::int * 6
      + substr(id, 10, 1)::int * 3 + substr(id, 11, 1)::int * 7 + substr(id, 12, 1)::int * 9
      + substr(id, 13, 1)::int * 10 + substr(id, 14, 1)::int * 5 + substr(id, 15, 1)::int * 8
      + substr(id, 16, 1)::int * 4 + substr(id, 17, 1)::int * 2) % 11, 1) = substr(id, 18, 1)
  END
$$;

-- The birth date held in a resident ID.
CREATE FUNCTION resident_birth_date(id text) RETURNS date LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT make_date(substr(id, 7, 4)::int, substr(id, 11, 2)::int, substr(id, 13, 2)::int)
$$;

-- A person is known by their resident ID: it is the key. Category and labour capacity are fixed
-- sets (SPEC §2), so CHECK lists keep them; the vocabulary tables give their labels.
-- Codes and keys compare byte-wise (COLLATE "C"): they are ASCII, and a locale's comparison
-- makes every index insert of an import slower for nothing.
CREATE TABLE person (
  id_number       text COLLATE "C" PRIMARY KEY
                  -- 17 digits and a digit or X; ltrim is one pass in C where a regex costs 0.5 µs.
                  CONSTRAINT resident_id CHECK (length(id_number) = 18 AND ltrim(id_number, '0123456789') IN ('', 'X')),
  county_code     text COLLATE "C" NOT NULL,
  name            text NOT NULL CHECK (btrim(name) <> ''),
  household_id    text COLLATE "C" NOT NULL CHECK (btrim(household_id) <> ''),
  village_code    text COLLATE "C" NOT NULL CONSTRAINT person_village CHECK (right(village_code, 3) <> '000'),
  category        text NOT NULL CONSTRAINT person_category
                  CHECK (category IN ('poverty-alleviated', 'monitored', 'low-income', 'other')),
  labour_capacity text NOT NULL CONSTRAINT person_labour_capacity CHECK (labour_capacity IN ('full', 'weak', 'half', 'none')),
  bank_account    text CONSTRAINT bank_account
                  CHECK (length(bank_account) BETWEEN 10 AND 30 AND ltrim(bank_account, '0123456789') = ''),
  phone           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT person_county CHECK (county_code = left(village_code, 6))
);
-- Households are counted per county (household cap); listings by village filter within a county.
CREATE INDEX person_household ON person (county_code, household_id);

-- The village of every person is a known region. A foreign key would check a million imported
-- rows one by one (4.5 s); this checks each statement's rows in one join.
CREATE FUNCTION person_village_known() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing text;
BEGIN
  SELECT n.village_code INTO missing FROM new_rows n
  WHERE NOT EXISTS (SELECT 1 FROM region r WHERE r.code = n.village_code) LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'village % is not a known region', missing
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'person_village';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER person_village_known_insert AFTER INSERT ON person
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_village_known();
CREATE TRIGGER person_village_known_update AFTER UPDATE ON person
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_village_known();

-- Regions are never deleted while anyone lives in them (the other half of that reference).
CREATE FUNCTION region_not_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM person p WHERE p.county_code = left(OLD.code, 6) AND p.village_code = OLD.code) THEN
    RAISE EXCEPTION 'region % still has persons', OLD.code
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'person_village';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER region_not_in_use BEFORE DELETE OR UPDATE OF code ON region
  FOR EACH ROW EXECUTE FUNCTION region_not_in_use();

-- Cross-checked facts about a person, each in force from a date to an optional date (inclusive).
CREATE TABLE person_status (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code text COLLATE "C" NOT NULL,
  id_number   text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  status      text NOT NULL REFERENCES person_status_kind (code),
  valid_from  date NOT NULL,
  valid_to    date,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT status_period CHECK (valid_to IS NULL OR valid_to >= valid_from),
  CONSTRAINT status_no_overlap EXCLUDE USING gist
    (id_number WITH =, status WITH =, daterange(valid_from, valid_to, '[]') WITH &&)
);
CREATE INDEX person_status_person ON person_status (county_code, id_number);
