#!/usr/bin/env bash
# Fuzzes every kenshin-wire decoder (or the TARGETs named) under AddressSanitizer and
# prints a Markdown table: target, executions, seconds, executions per second, corpus.
#
#   fuzz/run.sh                   # 10,000,000 executions per target (issue 20's bar)
#   fuzz/run.sh --runs 1000000 smb snmp
#   fuzz/run.sh --seconds 300     # by time instead
#
# cargo-fuzz needs nightly-only flags (-Zsanitizer=address); on a stable toolchain this
# script sets RUSTC_BOOTSTRAP=1, which is enough for ASan on Linux x86-64. cargo-fuzz is
# installed when missing. New inputs that reach new code land in fuzz/corpus/<target>/
# (replayed by `cargo test`, agent/wire/tests/corpus.rs); crashes in
# fuzz/artifacts/<target>/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")"
runs=10000000
seconds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; runs=""; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    --*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz >&2
fi
targets="${*:-$(cargo fuzz list)}"
cargo fuzz build --sanitizer address >/dev/null
if [ -n "$runs" ]; then limit="-runs=$runs"; else limit="-max_total_time=$seconds"; fi
echo "| target | executions | seconds | executions/s | corpus files |"
echo "|---|---:|---:|---:|---:|"
for t in $targets; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  start=$(date +%s.%N)
  cargo fuzz run --sanitizer address "$t" "corpus/$t" -- "$limit" -max_len=8192 \
      -print_final_stats=1 >"$log" 2>&1 || {
    echo "$t: FAILED (see $log)" >&2; tail -30 "$log" >&2; exit 1; }
  end=$(date +%s.%N)
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  awk -v t="$t" -v e="$execs" -v s="$start" -v f="$end" -v c="$(ls "corpus/$t" | wc -l)" \
    'BEGIN { d = f - s; printf "| %s | %d | %.0f | %.0f | %d |\n", t, e, d, e / d, c }'
  rm -f "$log"
done
