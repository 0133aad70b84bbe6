-- History, part 3 (issue 13, SPEC §5 "Corrections"): a placement typed in by mistake is
-- cancelled (`hire --void`), never hidden: its rows are removed (each removal journaled with
-- the row as it was), and what was cancelled, by whom and why is kept here. Payroll takes back
-- what approved months paid for it, as adjustment lines of its next run.

CREATE TABLE placement_void (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  county_code  text COLLATE "C" NOT NULL,
  -- The placement as it was (its row is gone; the journal has it whole).
  placement_id bigint NOT NULL,
  post_id      text COLLATE "C" NOT NULL REFERENCES post (id),
  id_number    text COLLATE "C" NOT NULL REFERENCES person (id_number) ON UPDATE CASCADE,
  start_on     date NOT NULL,
  exit_on      date,
  exit_reason  text,
  reason       text NOT NULL CHECK (btrim(reason) <> ''),
  voided_at    timestamptz NOT NULL DEFAULT now(),
  voided_by    text NOT NULL DEFAULT session_user
);
CREATE INDEX placement_void_person ON placement_void (county_code, id_number);

CREATE TRIGGER journal_insert AFTER INSERT ON placement_void REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_update AFTER UPDATE ON placement_void REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_delete AFTER DELETE ON placement_void REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');
CREATE TRIGGER journal_truncate AFTER TRUNCATE ON placement_void
  FOR EACH STATEMENT EXECUTE FUNCTION journal_statement('id');

-- Read like placements (sql/0007): by the post's region or the person's. Written only by
-- placement_void(), which runs as the owner.
GRANT SELECT ON placement_void TO wp_township_admin, wp_county_admin, wp_finance, wp_auditor;
ALTER TABLE placement_void ENABLE ROW LEVEL SECURITY;
-- As sql/0014's placement: the county range for county-level groups; a township by the post or the person.
CREATE POLICY in_county ON placement_void TO wp_county_admin, wp_finance, wp_auditor
  USING (county_code >= ANY ((SELECT operator_code_range())::text[]) AND county_code < ANY ((SELECT operator_code_range())::text[]));
CREATE POLICY in_township ON placement_void TO wp_township_admin
  USING (county_code >= ANY ((SELECT operator_county_range())::text[]) AND county_code < ANY ((SELECT operator_county_range())::text[]) AND (post_id IN (SELECT id FROM post WHERE county_code >= ((SELECT operator_county_range()))[1] AND county_code < ((SELECT operator_county_range()))[2]) OR id_number IN (SELECT id_number FROM person WHERE county_code >= ((SELECT operator_county_range()))[1] AND county_code < ((SELECT operator_county_range()))[2])));

-- Cancels a placement: its assessments and contracts go with it. For the administrators whose
-- work hiring is (township admins of the post's township, county admins of its county) and the
-- owner; nobody else, and nothing outside the caller's region. Administrators have no DELETE on
-- placements: this is the only way one is removed, and it always leaves its record.
CREATE FUNCTION placement_void(cancelled bigint, why text) RETURNS placement_void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  scope text := caller_scope();
  role text := (SELECT o.role FROM operator o WHERE o.login = session_user);
  p record;
  voided placement_void;
BEGIN
  SELECT pl.*, po.region_code INTO p FROM placement pl JOIN post po ON po.id = pl.post_id WHERE pl.id = cancelled FOR UPDATE OF pl;
  IF p.id IS NULL OR scope IS NULL OR p.region_code NOT LIKE scope || '%'
     OR (scope <> '' AND role NOT IN ('township-admin', 'county-admin')) THEN
    RAISE EXCEPTION 'no placement % that you may cancel', cancelled USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF why IS NULL OR btrim(why) = '' THEN
    RAISE EXCEPTION 'a cancelled placement needs a reason' USING ERRCODE = 'check_violation';
  END IF;
  DELETE FROM assessment a WHERE a.placement_id = cancelled;
  DELETE FROM contract c WHERE c.placement_id = cancelled;
  DELETE FROM placement pl WHERE pl.id = cancelled;
  INSERT INTO placement_void (county_code, placement_id, post_id, id_number, start_on, exit_on, exit_reason, reason)
  VALUES (p.county_code, p.id, p.post_id, p.id_number, p.start_on, p.exit_on, p.exit_reason, btrim(why))
  RETURNING * INTO voided;
  RETURN voided;
END $$;
REVOKE ALL ON FUNCTION placement_void(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION placement_void(bigint, text) TO wp_township_admin, wp_county_admin;
