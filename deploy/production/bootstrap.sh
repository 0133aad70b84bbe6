#!/usr/bin/env bash
# First setup of a production database, run once on the database server as the postgres
# superuser (`sudo -u postgres bash bootstrap.sh ...`):
#   1. creates the migration owner role (LOGIN CREATEROLE, asks for its password) and the
#      database it owns, with time limits for operators' statements (see below);
#   2. applies the migrations as that owner (this creates the group roles wp_*);
#   3. imports the regions and adds the first system administrator (asks for their password).
# Usage: bootstrap.sh ADMIN_LOGIN ADMIN_REGION REGIONS.csv
# Environment: WP_DATABASE (default welfare_posts), WP_OWNER (default wp_owner),
#              WELFARE_POSTS (the binary, default welfare-posts on PATH),
#              WP_ASK_PASSWORDS=no to set no passwords (certificate logins, or set them later).
set -euo pipefail
admin=${1:?usage: bootstrap.sh ADMIN_LOGIN ADMIN_REGION REGIONS.csv}
region=${2:?usage: bootstrap.sh ADMIN_LOGIN ADMIN_REGION REGIONS.csv}
regions=${3:?usage: bootstrap.sh ADMIN_LOGIN ADMIN_REGION REGIONS.csv}
db=${WP_DATABASE:-welfare_posts}
owner=${WP_OWNER:-wp_owner}
bin=${WELFARE_POSTS:-welfare-posts}

psql -X -v ON_ERROR_STOP=1 -q -d postgres -v owner="$owner" -v db="$db" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEROLE', :'owner') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
-- Only the roles pg_hba.conf lets in may connect; nobody creates objects in public.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
-- Server messages in English whatever the server's locale: the tool words refusals for the
-- user itself, and tells a row outside the operator's region from a missing privilege by the
-- server's message (both are SQLSTATE 42501).
SELECT format('ALTER DATABASE %I SET lc_messages TO %L', :'db', 'C') \gexec
-- A statement whose command was killed (kill -9, a lost SSH session) runs on and keeps its
-- locks; Ctrl-C and SIGTERM cancel it (the tool does), these bound the rest. Set on the
-- database because role settings are not inherited through the wp_* group roles: an
-- operator's login gets them whatever its role. A statement stops after 10 minutes, a
-- transaction left idle (a suspended client) is ended after 5, and the server checks every
-- 10 seconds during a long statement that its client is still connected.
SELECT format('ALTER DATABASE %I SET statement_timeout TO %L', :'db', '10min') \gexec
SELECT format('ALTER DATABASE %I SET idle_in_transaction_session_timeout TO %L', :'db', '5min') \gexec
SELECT format('ALTER DATABASE %I SET client_connection_check_interval TO %L', :'db', '10s') \gexec
-- The owner's migrations may take longer (a role-in-database setting wins over the database's).
SELECT format('ALTER ROLE %I IN DATABASE %I SET statement_timeout TO 0', :'owner', :'db') \gexec
SQL
if [[ ${WP_ASK_PASSWORDS:-yes} == yes ]]; then
  echo "password of the migration owner $owner:"
  psql -X -q -d postgres -c "\\password $owner"
fi

# As the owner, over the local socket (peer/scram as pg_hba.conf says).
export DATABASE_URL="dbname=$db user=$owner"
"$bin" db migrate
psql -X -v ON_ERROR_STOP=1 -q -d "$db" -v db="$db" <<'SQL'
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %s', :'db', g)
FROM unnest(ARRAY['wp_township_admin', 'wp_county_admin', 'wp_finance', 'wp_auditor', 'wp_system_admin']) g \gexec
SQL
"$bin" region import "$regions"
"$bin" operator add "$admin" --role system-admin --region "$region"
if [[ ${WP_ASK_PASSWORDS:-yes} == yes ]]; then
  echo "password of the first system administrator $admin:"
  psql -X -q -d postgres -c "\\password $admin"
fi
echo "done: $admin can now add operators with \`welfare-posts operator add LOGIN --role ROLE --region CODE\`;"
echo "set each new operator's password with ALTER ROLE ... PASSWORD (or \\password in psql)."
