#!/usr/bin/env bash
# `npm start`: install what is missing, build Temporal if missing, then `kestrel up`
# (migrate, dev server with UI on 8233, workers, main job; Ctrl-C stops everything in order).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
temporal_bin="$(bash scripts/ensure-temporal.sh)"
exec node_modules/.bin/tsx cli/run.ts up --temporal-bin "$temporal_bin" "$@"
