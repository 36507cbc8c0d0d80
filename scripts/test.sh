#!/usr/bin/env bash
# `npm test`: self-sufficient on a fresh clone. Installs deps, builds the Temporal dev server if it is
# not cached, then lint + typecheck + all mocha tests (integration tests start their own Temporal
# server and create/migrate/drop a fresh Postgres database).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-chromium.sh
KESTREL_TEMPORAL_BIN="$(bash scripts/ensure-temporal.sh)"
export KESTREL_TEMPORAL_BIN
echo "== lint" && npx --no-install eslint .
echo "== typecheck" && npx --no-install tsc -p tsconfig.json --noEmit
echo "== tests" && npx --no-install mocha 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' "$@"
