#!/usr/bin/env bash
# Starts the built Switchboard for the browser tests on a fresh database.
# Uses $E2E_DATABASE_SERVER (default: the machine's Postgres) and the debug build that
# `cargo leptos build` made (target/debug/switchboard + target/site).
set -euo pipefail
cd "$(dirname "$0")/.."
server="${E2E_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
db="switchboard_e2e_${E2E_PORT:-3210}"
psql "$server/postgres" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$server/$db"
export SWITCHBOARD_ADDR="127.0.0.1:${E2E_PORT:-3210}"
export SWITCHBOARD_ADMIN_EMAIL="admin@example.com"
export SWITCHBOARD_ADMIN_PASSWORD="admin-password-1"
export SWITCHBOARD_SITE_ROOT="target/site"
exec ./target/debug/switchboard
