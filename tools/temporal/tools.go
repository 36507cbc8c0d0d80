//go:build tools

// Package tools pins the Temporal CLI (dev server + Web UI) that Kestrel's tests and `npm start` run.
// scripts/ensure-temporal.sh builds from here only if a plain `go install ...@v1.5.1` fails, e.g.
// when the module proxy lacks one dependency version and a replacement must be pinned below.
package tools

import _ "github.com/temporalio/cli/cmd/temporal"
