#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing npm dependencies..." >&2
  # `npm ci` is preferred; npm 11 sometimes writes lockfiles without other platforms' optional
  # packages (e.g. @swc/core-darwin-*), which `npm ci` rejects, so fall back to an install that
  # keeps the locked versions and leaves the lockfile untouched.
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund --no-save >&2
fi
