#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing npm dependencies..." >&2
  # The lockfile carries every platform's optional packages (test/unit/lockfile.test.ts), so a
  # clean `npm ci` works on any machine, as in the Dockerfile.
  npm ci --no-audit --no-fund >&2
fi
