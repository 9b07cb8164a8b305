#!/usr/bin/env bash
# kenshin beside nmap on the namespace lab, in one run, written to docs/benchmarks.md.
#
# As root on Debian: builds kenshin and the lab (198.18.0.0/15 only, scanner in its own
# namespace), then for RUNS rounds scans the same scope with the same explicit port list
# with kenshin (default safety settings, with and without service identification; and
# gated on discovery, as nmap is by default) and nmap (-sS -sU -T4 --max-rate 1000, with
# and without -Pn), measuring wall time, probes sent, peak RSS and recall against the
# lab's truth. Then, once, service identification on the two services hosts (real
# daemons; hostile servers) by kenshin and by nmap -sV. Finally measures kenshin's peak
# RSS on a /16 scope. Nothing leaves the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
RATE="${RATE:-1000}"
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root (the lab needs it)" >&2; exit 2; }

need=()
for p in nmap time ieee-data iproute2 nftables openssh-server nginx-light vsftpd snmpd util-linux \
         samba dcmtk tigervnc-standalone-server inetutils-telnetd systemd openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cargo build --release --locked -p kenshin -p kenshin-lab
KENSHIN="$PWD/target/release/kenshin"
LAB="$PWD/target/release/kenshin-lab"
WORK="$(mktemp -d /tmp/kenshin-bench.XXXXXX)"
trap '"$LAB" down; rm -rf "$WORK"' EXIT

"$LAB" up "$WORK/truth.json"
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
echo "bench: wrote docs/benchmarks.md"
