#!/usr/bin/env bash
# The "run" command: install everything, migrate the embedded SQLite database, seed the demo
# municipality and serve Kikan on http://127.0.0.1:8000 (override with KIKAN_HOST / KIKAN_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
KIKAN=.venv/bin/kikan
HOST="${KIKAN_HOST:-127.0.0.1}"
PORT="${KIKAN_PORT:-8000}"
"$KIKAN" db upgrade
"$KIKAN" keys init --if-missing
"$KIKAN" demo
echo
echo "==> Kikan: http://${HOST}:${PORT}/   API: http://${HOST}:${PORT}/api/v1/docs"
echo "    デモ団体 992011 日和市 / 職員 madoguchi, shinsa, kanri, kansa / パスワード Kikan-Demo-2026"
echo "    (ホスト運用者 operator / Kikan-Demo-2026)  停止は Ctrl+C"
exec "$KIKAN" serve --host "$HOST" --port "$PORT"
