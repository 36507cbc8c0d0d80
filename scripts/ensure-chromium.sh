#!/usr/bin/env bash
# The dashboard test drives Debian's Chromium headless (playwright-core cannot download a browser
# here). Install it when missing and we may; otherwise say so (the test then reports itself skipped).
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the dashboard test..." >&2
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; }) \
    || echo "WARNING: could not install chromium; the dashboard browser test will be skipped" >&2
else
  echo "WARNING: chromium not found and cannot be installed here; the dashboard browser test will be skipped" >&2
fi
exit 0
