#!/usr/bin/env bash
# Prints the path of a Temporal CLI dev-server binary, building it from Go when it is not cached.
# The binary lives outside the clone (default $HOME/.cache/kestrel/bin) so CI and later runs reuse it.
set -euo pipefail
TEMPORAL_CLI_VERSION="v1.5.1"   # newest tag without `replace` directives in its go.mod
cache_dir="${KESTREL_CACHE_DIR:-$HOME/.cache/kestrel}/bin"
binary="$cache_dir/temporal-$TEMPORAL_CLI_VERSION"

if [[ -n "${KESTREL_TEMPORAL_BIN:-}" ]]; then
  [[ -x "$KESTREL_TEMPORAL_BIN" ]] || { echo "KESTREL_TEMPORAL_BIN=$KESTREL_TEMPORAL_BIN is not an executable" >&2; exit 1; }
  echo "$KESTREL_TEMPORAL_BIN"; exit 0
fi
if [[ -x "$binary" ]] && "$binary" --version >/dev/null 2>&1; then
  echo "$binary"; exit 0
fi

command -v go >/dev/null || { echo "Go is required to build the Temporal dev server (github.com/temporalio/cli $TEMPORAL_CLI_VERSION)" >&2; exit 1; }
mkdir -p "$cache_dir"
build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
echo "Building Temporal CLI $TEMPORAL_CLI_VERSION from source (first run only, a few minutes)..." >&2
start=$(date +%s)
if ! CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$build_dir" GOFLAGS=-buildvcs=false \
    go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2; then
  # Fallback: the pinned tools module (lets us swap a dependency version the proxy lacks).
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  echo "go install failed; building from tools/temporal instead" >&2
  (cd "$here/tools/temporal" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -o "$build_dir/temporal" github.com/temporalio/cli/cmd/temporal) >&2
fi
mv "$build_dir/temporal" "$binary.tmp.$$"
mv "$binary.tmp.$$" "$binary"
echo "Built $binary in $(( $(date +%s) - start ))s ($(du -h "$binary" | cut -f1))" >&2
echo "$binary"
