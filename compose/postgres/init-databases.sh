#!/usr/bin/env bash
# PostgreSQL init script (run once, on an empty data directory, by the postgres image's entrypoint):
# one login role and one database per service (database per service), each role owning its database and that
# database's schema public, as infra/up does natively. Passwords come from <SERVICE>_DB_PASSWORD (compose passes
# them from .env); there is no fallback: a missing one stops the script.
set -euo pipefail

SERVICES=(orders inventory payments email analytics audit)

for svc in "${SERVICES[@]}"; do
  var="${svc^^}_DB_PASSWORD"
  password="${!var:?$var is not set (run ./stack compose-env)}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v svc="$svc" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'svc', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'svc', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'svc', :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'svc') \gexec
SQL
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$svc" -c "ALTER SCHEMA public OWNER TO \"$svc\""
  echo "init-databases: role and database '$svc' ready"
done
