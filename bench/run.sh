#!/usr/bin/env bash
# kenshin beside nmap on the namespace lab, in one run, written to docs/benchmarks.md.
#
# As root on Debian: builds kenshin and the lab (198.18.0.0/15 only, scanner in its own
# namespace), then for RUNS rounds scans the same scope with the same explicit port list
# with kenshin (default safety settings, with and without service identification; and
# gated on discovery, as nmap is by default) and nmap (-sS -sU -T4 --max-rate 1000, with
# and without -Pn), measuring wall time, probes sent, peak RSS and recall against the
# lab's truth. Then, once, service identification on the two services hosts (real
# daemons; hostile servers) by kenshin and by nmap -sV. Then measures kenshin's peak
# RSS on a /16 scope. Finally the TLS audit beside testssl.sh on the lab's TLS servers
# (TLS_RUNS rounds, default RUNS). Nothing leaves the lab.
#
# SECTIONS="scan tls ledger fuzz" (the default) runs every part; SECTIONS=tls re-measures
# only the TLS comparison and replaces its section of docs/benchmarks.md, keeping the rest.
# `ledger` times reading asset ledgers of 10,000 to 160,000 rows; `fuzz` runs every wire
# decoder's fuzz target under AddressSanitizer for FUZZ_RUNS executions (10 million);
# `config` times `kenshin check-config` on a configuration of 4,000 scopes; `frames` runs
# the wire-capture lab tests (tcpdump in the lab) and writes the frames they measured; `fleet`
# fills a PostgreSQL (Unix socket only) with 100 sites × 30 scans × 500 hosts made from the lab
# scan's report and times ingest and the rollup (bench/fleet/run.sh).
#
# Issue 17's sections run on the bench lab (`kenshin-lab bench-up`, 198.19.0.0/16, namespaces
# kb-*; see tests/lab/bench.rs), not the test lab: `speed` (target 1: for RUNS rounds, kenshin
# --no-identify and nmap -sS side by side at the same cap on the speed scope, with the 29-port
# list LIST29; SPEED_PN_RUNS rounds of nmap -sS -Pn on that list, which like kenshin scans every
# address; then SPEED_FULL_RUNS rounds with the default TCP list), `fullscan` (targets 2
# and 3: kenshin with defaults on the speed scope, its time breakdown and report folder) and
# `scale` (targets 4 and 5: defaults and --no-identify on scopes of SCALES addresses, peak
# RSS, folder, `kenshin verify`, report.html load time via bench/html_load.sh). The whole run
# holds /tmp/kenshin-lab.lock once built (set KENSHIN_BENCH_LOCKED=1 if the caller holds it).
set -euo pipefail
SELF="$(realpath "$0")"
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
RATE="${RATE:-1000}"
TLS_RUNS="${TLS_RUNS:-$RUNS}"
SECTIONS="${SECTIONS:-scan tls ledger config fuzz frames fleet speed fullscan scale}"
SPEED_FULL_RUNS="${SPEED_FULL_RUNS:-1}"
SPEED_PN_RUNS="${SPEED_PN_RUNS:-1}"
SCALES="${SCALES:-1024 4096 16384}"
BENCH_SEED="${BENCH_SEED:-17}"
# Issue 17's 29-port TCP list: the most common hospital ports of kenshin's default list
# (remote access, Windows, web, printing, DICOM and HL7, databases, directory, mail, DNS).
LIST29="${LIST29:-21,22,23,25,53,80,104,135,139,389,443,445,515,631,1433,2575,2761,2762,3306,3389,4242,5432,5900,5985,8000,8080,8443,9100,11112}"
FUZZ_RUNS="${FUZZ_RUNS:-10000000}"
has() { [[ " $SECTIONS " == *" $1 "* ]]; }
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root (the lab needs it)" >&2; exit 2; }

need=()
for p in nmap time ieee-data iproute2 nftables openssh-server nginx-light vsftpd snmpd util-linux \
         samba dcmtk tigervnc-standalone-server inetutils-telnetd systemd openssl testssl.sh postfix; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cargo build --release --locked -p kenshin -p kenshin-lab
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
KENSHIN="$TARGET/release/kenshin"
LAB="$TARGET/release/kenshin-lab"
# The lab tests build namespaces too: one lab user at a time. flock -o keeps the lock's
# descriptor in flock alone, so no lab daemon inherits it (and holds the lock after us).
if [ -z "${KENSHIN_BENCH_LOCKED:-}" ]; then
  echo "bench: waiting for /tmp/kenshin-lab.lock"
  exec flock -o /tmp/kenshin-lab.lock env KENSHIN_BENCH_LOCKED=1 "$SELF" "$@"
fi
WORK="$(mktemp -d /tmp/kenshin-bench.XXXXXX)"
trap '"$LAB" down; "$LAB" bench-down; rm -rf "$WORK"' EXIT

if has scan || has tls; then "$LAB" up "$WORK/truth.json"; fi
SCOPE=(198.18.1.0/24 198.18.2.0/24)
EXCLUDE=198.18.1.200   # the lab's flaky host: its answers depend on what was sent before
PORTS="$("$KENSHIN" ports --spec)"
NMAP_VERSION="$(nmap --version | head -n1)"
in_lab() { ip netns exec ksl-scan "$@"; }
timed() { # timed NAME CMD... → $WORK/NAME.time (GNU time -v), stdout/stderr to NAME.out
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  in_lab /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2>&1 || true
  end=$(date +%s.%N)
  echo "$start $end" > "$WORK/$name.wall"
}

cp docs/benchmarks.md "$WORK/previous.md" 2>/dev/null || true

if has scan; then
for i in $(seq 1 "$RUNS"); do
  echo "bench: round $i/$RUNS: kenshin"
  timed "kenshin-$i" "$KENSHIN" scan "${SCOPE[@]}" --exclude "$EXCLUDE" -p "$PORTS" -q -o "$WORK/kenshin-$i"
  echo "bench: round $i/$RUNS: kenshin --no-identify"
  timed "kenshinnoid-$i" "$KENSHIN" scan "${SCOPE[@]}" --exclude "$EXCLUDE" -p "$PORTS" --no-identify -q \
    -o "$WORK/kenshinnoid-$i"
  echo "bench: round $i/$RUNS: kenshin --discovery gate --no-identify"
  timed "kenshingate-$i" "$KENSHIN" scan "${SCOPE[@]}" --exclude "$EXCLUDE" -p "$PORTS" --discovery gate --no-identify -q \
    -o "$WORK/kenshingate-$i"
  echo "bench: round $i/$RUNS: nmap"
  timed "nmap-$i" nmap -sS -sU -T4 --max-rate "$RATE" -n -v -p "$PORTS" --exclude "$EXCLUDE" \
    -oX "$WORK/nmap-$i.xml" "${SCOPE[@]}"
  echo "bench: round $i/$RUNS: nmap -Pn"
  timed "nmappn-$i" nmap -sS -sU -T4 --max-rate "$RATE" -n -v -Pn -p "$PORTS" --exclude "$EXCLUDE" \
    -oX "$WORK/nmappn-$i.xml" "${SCOPE[@]}"
done

# Service identification, once: the services hosts, TCP ports of the default list.
TCP_PORTS="$(echo "$PORTS" | tr ',' '\n' | grep -v '^U:' | sed 's/^T://' | paste -sd,)"
echo "bench: identification: kenshin"
timed "id-kenshin" "$KENSHIN" scan 198.18.2.10 198.18.2.11 -p "$TCP_PORTS" -q -o "$WORK/id-kenshin"
echo "bench: identification: nmap -sV on 198.18.2.10"
timed "id-nmap10" nmap -sS -sV -Pn -T4 -n --max-rate "$RATE" -p "$TCP_PORTS" -oX "$WORK/id-nmap10.xml" 198.18.2.10
# nmap 7.93 -sV crashes, or grows without bound, on the endless banner (tcp/25 of
# 198.18.2.11): scan that port alone, stopped after 120 s, and the host's other ports together.
echo "bench: identification: nmap -sV on 198.18.2.11"
timed "id-nmap11" nmap -sS -sV -Pn -T4 -n --max-rate "$RATE" -p "$(echo "$TCP_PORTS" | sed 's/\(^\|,\)25,/\1/')" \
  -oX "$WORK/id-nmap11.xml" 198.18.2.11
timed "id-nmap11-25" timeout 120 nmap -sS -sV -Pn -T4 -n -p 25 -oX "$WORK/id-nmap11-25.xml" 198.18.2.11

echo "bench: kenshin on a /16 scope (memory)"
timed "kenshin-16" "$KENSHIN" scan 198.18.0.0/16 --allow-large-scope -p 80 --rate 20000 --host-rate 100 \
  -q -o "$WORK/kenshin-16"

python3 bench/analyze.py "$WORK" "$RUNS" "$RATE" "$NMAP_VERSION" "$PORTS" "$(uname -r)" "$(nproc)" \
  > docs/benchmarks.md
fi

# The TLS audit beside testssl.sh on the TLS segment (198.18.3.10): per server, the whole
# `kenshin scan` of its one port, and testssl.sh -p -E (protocols and the ciphers of each
# protocol: its narrowest run that gives the same verdicts); then one default testssl.sh
# run per server for scale. Connections are the SYNs counted in the TLS host's namespace.
if has tls; then
read -r -a TLS_PORTS <<< "${TLS_PORTS:-4431 4432 4433 4434 4435 4436 21 25}"
TESTSSL_VERSION="$(testssl --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 -o 'testssl *[0-9][0-9.]*' | tr -s ' ' || echo testssl)"
conns() { ip netns exec ksl-tls nft list counter inet count tls_connections | grep -o 'packets [0-9]*' | cut -d' ' -f2; }
tls_timed() { # tls_timed NAME CMD...: timed, with the connections it opened in NAME.conns
  local name="$1"; shift
  ip netns exec ksl-tls nft reset counter inet count tls_connections > /dev/null
  timed "$name" "$@"
  conns > "$WORK/$name.conns"
}
testssl_args=(--quiet --color 0 --warnings off --nodns none)
for i in $(seq 1 "$TLS_RUNS"); do
  for p in "${TLS_PORTS[@]}"; do
    starttls=(); case "$p" in 21) starttls=(--starttls ftp);; 25) starttls=(--starttls smtp);; esac
    echo "bench: TLS round $i/$TLS_RUNS: port $p: kenshin"
    tls_timed "tls-kenshin-$p-$i" "$KENSHIN" scan 198.18.3.10 -p "$p" -q -o "$WORK/tls-kenshin-$p-$i"
    echo "bench: TLS round $i/$TLS_RUNS: port $p: testssl.sh -p -E"
    tls_timed "tls-testssl-$p-$i" testssl "${testssl_args[@]}" -p -E "${starttls[@]}" \
      --jsonfile "$WORK/tls-testssl-$p-$i.json" "198.18.3.10:$p"
  done
done
for p in "${TLS_PORTS[@]}"; do
  starttls=(); case "$p" in 21) starttls=(--starttls ftp);; 25) starttls=(--starttls smtp);; esac
  echo "bench: TLS: port $p: testssl.sh (default run)"
  tls_timed "tls-testsslfull-$p" testssl "${testssl_args[@]}" "${starttls[@]}" \
    --jsonfile "$WORK/tls-testsslfull-$p.json" "198.18.3.10:$p"
done
python3 bench/analyze_tls.py "$WORK" "$TLS_RUNS" "$TESTSSL_VERSION" "${TLS_PORTS[@]}" > "$WORK/tls.md"
else
python3 bench/analyze_tls.py --carry "$WORK/previous.md" > "$WORK/tls.md"
fi
python3 bench/analyze_tls.py --splice docs/benchmarks.md "$WORK/tls.md"

# Sections that need no lab: each measured when asked, else carried from the last run.
if has ledger; then
  echo "bench: ledger parsing"
  cargo bench --locked -p kenshin-assess --bench ledger 2>/dev/null > "$WORK/ledger-body.md"
  { echo "Reading an asset ledger (\`--inventory\`), CRLF as Excel writes it, medians of five"
    echo "parses on this machine (\`cargo bench -p kenshin-assess --bench ledger\`). Target: 160,000"
    echo "rows in under 2 s."; echo; cat "$WORK/ledger-body.md"; } > "$WORK/ledger-text.md"
  python3 bench/section.py wrap ledger "Asset ledger parsing" "$WORK/ledger-text.md" > "$WORK/ledger.md"
else
  python3 bench/section.py carry ledger "$WORK/previous.md" > "$WORK/ledger.md"
fi
python3 bench/section.py splice ledger docs/benchmarks.md "$WORK/ledger.md"
if has config; then
  echo "bench: check-config with 4000 scopes"
  python3 - "$WORK/k4000.toml" "$WORK/cc-state" <<'PY'
import sys
lines = ["[daemon]", f'state_dir = "{sys.argv[2]}"', ""]
for i in range(4000):
    lines += ["[[scope]]", f'name = "s{i}"', f'targets = ["198.{18 + i // 65536}.{(i // 256) % 256}.{i % 256}"]',
              'schedule = "@daily"', ""]
open(sys.argv[1], "w").write("\n".join(lines))
PY
  # No packet is sent: outside the lab's namespaces.
  for i in 1 2 3; do
    /usr/bin/time -v -o "$WORK/config-$i.time" "$KENSHIN" -q check-config "$WORK/k4000.toml"
  done
  python3 - "$WORK" > "$WORK/config-text.md" <<'PY'
import re, statistics, sys
from pathlib import Path
work = Path(sys.argv[1])
def field(text, name):
    m = re.search(rf"{re.escape(name)}: (.+)", text)
    return m.group(1).strip() if m else ""
def secs(t):
    parts = [float(p) for p in t.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
runs = [(work / f"config-{i}.time").read_text() for i in (1, 2, 3)]
wall = statistics.median(secs(field(r, "Elapsed (wall clock) time (h:mm:ss or m:ss)")) for r in runs)
rss = statistics.median(int(field(r, "Maximum resident set size (kbytes)")) for r in runs)
print("`kenshin -q check-config` on a configuration of 4,000 scopes (one address each, `@daily`):")
print("the rules and the system CA bundle are loaded once for the file, not once per scope")
print("(issue 20 measured 84 s before).")
print()
print("| scopes | median wall time (3 runs) | peak RSS |")
print("|---:|---:|---:|")
print(f"| 4000 | {wall:.2f} s | {rss / 1024:.0f} MiB |")
PY
  python3 bench/section.py wrap config "Configuration check at scale" "$WORK/config-text.md" > "$WORK/config.md"
else
  python3 bench/section.py carry config "$WORK/previous.md" > "$WORK/config.md"
fi
python3 bench/section.py splice config docs/benchmarks.md "$WORK/config.md"
if has fuzz; then
  echo "bench: fuzzing every wire decoder under AddressSanitizer ($FUZZ_RUNS executions each)"
  fuzz/run.sh --runs "$FUZZ_RUNS" > "$WORK/fuzz-body.md"
  { echo "\`fuzz/run.sh --runs $FUZZ_RUNS\`: every kenshin-wire decoder under AddressSanitizer"
    echo "(cargo-fuzz, libFuzzer), inputs up to 8,192 bytes, from the committed corpus; no crash,"
    echo "leak or sanitizer report. $(nproc) cores, $(uname -r)."; echo; cat "$WORK/fuzz-body.md"; } \
    > "$WORK/fuzz-text.md"
  python3 bench/section.py wrap fuzz "Fuzzing" "$WORK/fuzz-text.md" > "$WORK/fuzz.md"
else
  python3 bench/section.py carry fuzz "$WORK/previous.md" > "$WORK/fuzz.md"
fi
python3 bench/section.py splice fuzz docs/benchmarks.md "$WORK/fuzz.md"
if has frames; then
  echo "bench: frames on the wire (tests/e2e/wire_caps.rs)"
  KENSHIN_BIN="$KENSHIN" cargo test --locked --release -p kenshin-lab --test e2e -- wire_caps \
    --test-threads=1 > "$WORK/frames-test.log" 2>&1 || { cat "$WORK/frames-test.log"; exit 1; }
  python3 bench/frames.py target/tmp/e2e-artifacts > "$WORK/frames-text.md"
  python3 bench/section.py wrap frames "Frames on the wire" "$WORK/frames-text.md" > "$WORK/frames.md"
else
  python3 bench/section.py carry frames "$WORK/previous.md" > "$WORK/frames.md"
fi
python3 bench/section.py splice frames docs/benchmarks.md "$WORK/frames.md"
if has fleet; then
  echo "bench: fleet (PostgreSQL, 100 sites x 30 scans x 500 hosts)"
  dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed" || {
    [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
    apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }
  cargo build --release --locked -p kenshin-fleet --example synth_bundles
  if [ -f "$WORK/kenshin-1/report.json" ]; then
    FLEET_REPORT="$WORK/kenshin-1/report.json"; NOTE="this run's first lab scan"
  else
    FLEET_REPORT="${FLEET_REPORT:?give FLEET_REPORT=a lab report.json when the scan section is not run}"; NOTE="a lab scan"
  fi
  REPORT_NOTE="$NOTE" bench/fleet/run.sh "$KENSHIN" "$FLEET_REPORT" "$WORK/fleet-text.md"
  python3 bench/section.py wrap fleet "Fleet: ingest and rollup on PostgreSQL" "$WORK/fleet-text.md" > "$WORK/fleet.md"
else
  python3 bench/section.py carry fleet "$WORK/previous.md" > "$WORK/fleet.md"
fi
python3 bench/section.py splice fleet docs/benchmarks.md "$WORK/fleet.md"

# Issue 17: the bench lab (speed scope), kenshin beside nmap at the same cap.
in_bench() { ip netns exec kb-scan "$@"; }
btimed() { # btimed NAME CMD... in the bench lab's scanner namespace → NAME.time, .out, .wall
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  in_bench /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2>&1 || true
  end=$(date +%s.%N)
  echo "$start $end" > "$WORK/$name.wall"
}
DEFAULT_TCP="$("$KENSHIN" ports --spec | tr ',' '\n' | grep -v '^U:' | sed 's/^T://' | paste -sd,)"
SPEED_SCOPE=(198.19.1.0/24 198.19.2.0/24 198.19.4.0/22)
if has speed || has fullscan; then
  "$LAB" bench-up --seed "$BENCH_SEED" "$WORK/truth-speed.json"
fi
if has speed; then
  NMAP_VERSION="$(nmap --version | head -n1)"
  for i in $(seq 1 "$RUNS"); do
    echo "bench: speed round $i/$RUNS: kenshin --no-identify, 29 ports"
    btimed "speed-k29-$i" "$KENSHIN" scan "${SPEED_SCOPE[@]}" --no-identify --rate "$RATE" -p "$LIST29" -q \
      -o "$WORK/speed-k29-$i"
    echo "bench: speed round $i/$RUNS: nmap -sS, 29 ports"
    btimed "speed-n29-$i" nmap -sS -T4 --max-rate "$RATE" -n -v -p "$LIST29" -oX "$WORK/speed-n29-$i.xml" \
      "${SPEED_SCOPE[@]}"
  done
  # At equal reach: nmap without host discovery port-scans every address, as kenshin does.
  for i in $(seq 1 "$SPEED_PN_RUNS"); do
    echo "bench: speed round $i/$SPEED_PN_RUNS: nmap -sS -Pn, 29 ports"
    btimed "speed-p29-$i" nmap -sS -Pn -T4 --max-rate "$RATE" -n -v -p "$LIST29" -oX "$WORK/speed-p29-$i.xml" \
      "${SPEED_SCOPE[@]}"
  done
  for i in $(seq 1 "$SPEED_FULL_RUNS"); do
    echo "bench: speed round $i/$SPEED_FULL_RUNS: kenshin --no-identify, default TCP list"
    btimed "speed-kfull-$i" "$KENSHIN" scan "${SPEED_SCOPE[@]}" --no-identify --rate "$RATE" -p "$DEFAULT_TCP" -q \
      -o "$WORK/speed-kfull-$i"
    echo "bench: speed round $i/$SPEED_FULL_RUNS: nmap -sS, default TCP list"
    btimed "speed-nfull-$i" nmap -sS -T4 --max-rate "$RATE" -n -v -p "$DEFAULT_TCP" -oX "$WORK/speed-nfull-$i.xml" \
      "${SPEED_SCOPE[@]}"
  done
  python3 bench/analyze_speed.py speed "$WORK" "$RUNS" "$SPEED_FULL_RUNS" "$RATE" "$LIST29" "$DEFAULT_TCP" \
    "$NMAP_VERSION" > "$WORK/speed-text.md"
  python3 bench/section.py wrap speed "Port scan at the same cap (issue 17, target 1)" "$WORK/speed-text.md" \
    > "$WORK/speed.md"
else
  python3 bench/section.py carry speed "$WORK/previous.md" > "$WORK/speed.md"
fi
python3 bench/section.py splice speed docs/benchmarks.md "$WORK/speed.md"
if has fullscan; then
  echo "bench: full default scan of the speed scope"
  btimed fullscan "$KENSHIN" scan "${SPEED_SCOPE[@]}" -q -o "$WORK/fullscan"
  python3 bench/analyze_speed.py fullscan "$WORK" "$RATE" "$DEFAULT_TCP" > "$WORK/fullscan-text.md"
  python3 bench/section.py wrap fullscan "Full default scan and report folder (issue 17, targets 2 and 3)" \
    "$WORK/fullscan-text.md" > "$WORK/fullscan.md"
else
  python3 bench/section.py carry fullscan "$WORK/previous.md" > "$WORK/fullscan.md"
fi
python3 bench/section.py splice fullscan docs/benchmarks.md "$WORK/fullscan.md"
if has scale; then
  for n in $SCALES; do
    "$LAB" bench-up --scale "$n" --seed "$BENCH_SEED" "$WORK/truth-scale-$n.json"
    scope="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["segments"][0]["cidr"])' \
      "$WORK/truth-scale-$n.json")"
    for mode in noid id; do
      extra=(); [ "$mode" = noid ] && extra=(--no-identify)
      echo "bench: scale $n ($scope), ${extra[*]:-defaults}"
      btimed "scale-$n-$mode" "$KENSHIN" scan "$scope" "${extra[@]}" -q -o "$WORK/scale-$n-$mode"
      start=$(date +%s.%N)
      rc=0; "$KENSHIN" -q verify "$WORK/scale-$n-$mode" > "$WORK/verify-$n-$mode.out" 2>&1 || rc=$?
      echo "$rc" > "$WORK/verify-$n-$mode.rc"
      echo "$start $(date +%s.%N)" > "$WORK/verify-$n-$mode.wall"
      if [ -x bench/html_load.sh ] && [ -f "$WORK/scale-$n-$mode/report.html" ]; then
        bench/html_load.sh "$WORK/scale-$n-$mode/report.html" > "$WORK/html-$n-$mode.ms" 2> "$WORK/html-$n-$mode.err" \
          || echo "bench/html_load.sh failed: $(tail -n1 "$WORK/html-$n-$mode.err")" > "$WORK/html-$n-$mode.ms"
      else
        echo "bench/html_load.sh missing or no report.html: load time not measured" > "$WORK/html-$n-$mode.ms"
      fi
    done
  done
  "$LAB" bench-down
  # shellcheck disable=SC2086 # SCALES is a list of numbers
  python3 bench/analyze_scale.py "$WORK" "$RATE" "$DEFAULT_TCP" $SCALES > "$WORK/scale-text.md"
  python3 bench/section.py wrap scale "Scale: 1,024 to 16,384 addresses (issue 17, targets 4 and 5)" \
    "$WORK/scale-text.md" > "$WORK/scale.md"
else
  python3 bench/section.py carry scale "$WORK/previous.md" > "$WORK/scale.md"
fi
python3 bench/section.py splice scale docs/benchmarks.md "$WORK/scale.md"
echo "bench: wrote docs/benchmarks.md"
