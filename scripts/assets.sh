#!/usr/bin/env bash
# Installs front-end packages from the npm registry and copies the built files into static/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=src/dangol/web/static/vendor
if [[ -f "$target/htmx.min.js" && "$target/htmx.min.js" -nt frontend/package.json ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm이 없어 htmx를 건너뜁니다(페이지는 그대로 동작) / npm not found: skipping htmx (pages still work)." >&2
  exit 0
fi
npm install --prefix frontend --no-audit --no-fund --silent
mkdir -p "$target"
cp frontend/node_modules/htmx.org/dist/htmx.min.js "$target/htmx.min.js"
