#!/usr/bin/env bash
# Fuzzes every kenshin-wire decoder (or the TARGETs named) for SECONDS each (default 120)
# and prints, per
# target, the time and the executions libFuzzer reports. Works on stable Rust through
# RUSTC_BOOTSTRAP=1 (cargo-fuzz needs nightly-only sanitizer flags). New inputs that
# reach new code land in fuzz/corpus/<target>/; crashes in fuzz/artifacts/<target>/.
#   cargo install cargo-fuzz; fuzz/run.sh 300 [TARGET…]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-120}"
shift || true
export RUSTC_BOOTSTRAP=1
targets="${*:-$(cargo fuzz list)}"
cargo fuzz build >/dev/null
for t in $targets; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 >"$log" 2>&1 || {
    echo "$t: FAILED (see $log)"; tail -30 "$log"; exit 1; }
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "$t: ${seconds} s, ${execs} executions, corpus $(ls "corpus/$t" | wc -l) files"
  rm -f "$log"
done
