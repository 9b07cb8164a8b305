#!/bin/sh
# Median time (ms, over 3 loads) for headless Chromium to reach `load` on a report.html.
#   bench/html_load.sh REPORT.html      → prints the milliseconds on stdout
# Exits non-zero when Chromium cannot start or the page does not load.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 REPORT.html" >&2; exit 2; }
exec node --experimental-websocket --no-warnings "$(dirname "$0")/html_load.mjs" "$1" 3
