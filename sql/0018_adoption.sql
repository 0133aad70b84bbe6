-- Adoption (issue 16). Region import with missing ancestors (SPEC §3): a county's own region
-- file — its county, townships and villages, without the province and city rows — imports as it is. The
-- ancestors that neither the file nor the database holds are recorded by their code alone, with
-- no name, until a later file names them. So a region's name may be missing (NULL); an empty or
-- blank name stays refused by the column's check.
ALTER TABLE region ALTER COLUMN name DROP NOT NULL;

-- `person list --in-post` (SPEC §16) reads deaths: nobody is in post on or after a recorded
-- date of death (SPEC §5). Finance reads persons and placements already and must know who is
-- dead or ineligible before paying (SPEC §15, `payroll check`): it reads the status periods of
-- its region's persons too (row-level security as for everyone: those of persons it may see).
GRANT SELECT ON person_status TO wp_finance;
