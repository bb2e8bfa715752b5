#!/usr/bin/env bash
# The whole suite: lint, then every test on SQLite, then the database tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/test-deps.sh

echo "== lint =="
"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports"

work=$(mktemp -d)
chmod 755 "$work"
cleanup() { bash scripts/pg.sh stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT

export DANGOL_HUEY_IMMEDIATE=1
echo "== tests on SQLite =="
DANGOL_DATA_DIR="$work/sqlite" "$VENV/bin/pytest" -p no:cacheprovider tests

echo "== tests on PostgreSQL =="
url=$(bash scripts/pg.sh start "$work/pg")
DATABASE_URL="$url" DANGOL_DATA_DIR="$work/postgres" "$VENV/bin/pytest" -p no:cacheprovider tests/app tests/browser
