#!/usr/bin/env bash
# scripts/browser.sh — makes sure a browser for the browser tier is here: Debian's `chromium`, installed with apt when
# missing (playwright-core drives it and never downloads one). Prints the browser's path; the tests read it from
# CHROMIUM_PATH (or find `chromium` on the PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run
if ! command -v chromium >/dev/null; then
  printf '\n== installing chromium from Debian'"'"'s packages (once, about 100 MB)\n' >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >.run/apt-chromium.log 2>&1 || {
    # The package lists may be missing on a fresh machine: fetch them once, then try again.
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>.run/apt-chromium.log 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >>.run/apt-chromium.log 2>&1
  } || { echo "apt-get install chromium failed; see .run/apt-chromium.log" >&2; tail -n 20 .run/apt-chromium.log >&2; exit 1; }
fi
command -v chromium
