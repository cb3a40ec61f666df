#!/bin/sh
# Runs once, when PostgreSQL's data volume is new (docs/security.md, "Setting up a shared PostgreSQL"): the
# schema owner, the database, the pgvector extension, and the services' login. The roles the migration
# would create (orchestra_app, orchestra_system) are made here first, so that the login can be a member of
# orchestra_app before the first migration; the owner administers them. Passwords come from secret files.
set -eu
secrets=${ORCHESTRA_SECRETS_DIR:-/run/secrets}
owner_password=$(cat "$secrets/orchestra_owner_password")
svc_password=$(cat "$secrets/orchestra_svc_password")
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_password="$owner_password" -v svc_password="$svc_password" <<'SQL'
CREATE ROLE orchestra_owner LOGIN PASSWORD :'owner_password' CREATEROLE;
CREATE ROLE orchestra_app NOLOGIN;
CREATE ROLE orchestra_system NOLOGIN;
GRANT orchestra_app, orchestra_system TO orchestra_owner WITH ADMIN OPTION;
CREATE ROLE orchestra_svc LOGIN PASSWORD :'svc_password' IN ROLE orchestra_app;
CREATE DATABASE orchestra OWNER orchestra_owner;
\connect orchestra
CREATE EXTENSION IF NOT EXISTS vector;
SQL
