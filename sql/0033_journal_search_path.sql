-- journal_statement() (sql/0023, replaced by sql/0029) runs as the journal's owner (SECURITY
-- DEFINER) with `search_path = public, pg_temp`: pg_catalog was searched first only because
-- PostgreSQL puts it first when it is not named. Every other function of the project names it,
-- so this one does too, and the order no longer rests on that rule.
ALTER FUNCTION journal_statement() SET search_path = pg_catalog, public, pg_temp;
