-- Login names an operator may be given: what needs no quoting anywhere (lower-case letters,
-- digits, '_', '.', '-', starting with a letter, at most 63 characters) and not a system or
-- group role's prefix. Kept here rather than by the command line alone, so that `operator_add`
-- called from psql obeys it too. NOT VALID: an operator added by psql before this migration
-- keeps working; every new or changed one is checked.
ALTER TABLE operator ADD CONSTRAINT operator_login_form CHECK (
  login ~ '^[a-z][a-z0-9_.-]{0,62}$' AND login NOT LIKE 'pg\_%' AND login NOT LIKE 'wp\_%') NOT VALID;
