#!/usr/bin/env bash
# The "test" command: install everything, then run the quality gate and the whole suite on
# SQLite and PostgreSQL (127.0.0.1:5432, user postgres, trust; override KIKAN_TEST_POSTGRES_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
V=.venv/bin
echo "==> ruff";          "$V/ruff" check .
echo "==> mypy";          "$V/mypy" kikan
echo "==> import-linter"; "$V/lint-imports"
echo "==> pytest (SQLite and PostgreSQL)"
"$V/pytest" -n "${KIKAN_TEST_WORKERS:-2}" "$@"
