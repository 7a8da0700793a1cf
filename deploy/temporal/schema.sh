#!/bin/sh
# One-shot run by the temporal-schema service in docker-compose.yml (temporalio/admin-tools image): creates
# Temporal's two PostgreSQL databases and brings both to the schema shipped in the image, the steps
# scripts/cluster/schema.ts runs for the cluster test. Safe to run any number of times: with plugin postgres12,
# create-database keeps a database that exists, setup-schema leaves a versioned schema alone and update-schema
# applies only the versions it lacks, so `docker compose up` after a restart or a server upgrade migrates what is
# new and exits 0.
# The connection comes from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD, which temporal-sql-tool reads.
set -eu

SCHEMA_ROOT="${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"

# migrate DATABASE VERSIONED_SCHEMA_DIR
migrate() {
  echo "[temporal-schema] database $1: create, set up, update from $2"
  temporal-sql-tool --database "$1" create-database
  temporal-sql-tool --database "$1" setup-schema --version 0.0
  temporal-sql-tool --database "$1" update-schema --schema-dir "$2"
  echo "[temporal-schema] database $1: at the newest version"
}

migrate temporal "$SCHEMA_ROOT/temporal/versioned"
migrate temporal_visibility "$SCHEMA_ROOT/visibility/versioned"
