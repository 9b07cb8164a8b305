#!/usr/bin/env bash
# The fleet bench: insert throughput and rollup time on a real PostgreSQL, written as
# the "fleet" section of docs/benchmarks.md (spliced by bench/section.py).
#
#   bench/fleet/run.sh KENSHIN REPORT.json OUT.md
#
# As root on Debian with postgresql installed. The cluster listens on a Unix socket
# in a temporary folder only (listen_addresses = ''): nothing goes on any network.
# 1. SAMPLE_SITES × SAMPLE_DAYS synthetic bundles of HOSTS hosts each, made from
#    REPORT.json and sealed (examples/synth_bundles.rs), go the real way: `kenshin
#    fleet push` of every folder, then `kenshin fleet ingest --once`, which verifies
#    each signature and hash and files it. Timed.
# 2. The rest of SITES × DAYS is filled by SQL (generate.sql) copying a filed run's
#    rows, timed as rows per second.
# 3. `kenshin fleet report --json` and `-o DIR` at that size, median of three.
set -euo pipefail
KENSHIN="$1"; REPORT="$2"; OUT="$3"
SITES="${SITES:-100}"; DAYS="${DAYS:-30}"; HOSTS="${HOSTS:-500}"
SAMPLE_SITES="${SAMPLE_SITES:-10}"; SAMPLE_DAYS="${SAMPLE_DAYS:-3}"
SYNTH="${SYNTH:-target/release/examples/synth_bundles}"
REPORT_NOTE="${REPORT_NOTE:-a report of the lab}"
KENSHIN_BUILD="${KENSHIN_BUILD:-release}"
HERE="$(cd "$(dirname "$0")" && pwd)"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
WORK="$(mktemp -d /tmp/kenshin-fleet-bench.XXXXXX)"
chmod 711 "$WORK"
mkdir -p "$WORK/pg/sock"; chown -R postgres:postgres "$WORK/pg"; chmod 700 "$WORK/pg/sock"
pg() { runuser -u postgres -- "$PGBIN/$1" "${@:2}"; }
stop() { pg pg_ctl -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap stop EXIT

pg initdb -D "$WORK/pg/data" -U postgres -A trust --no-sync -E UTF8 --locale C.UTF-8 >/dev/null
cat >> "$WORK/pg/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK/pg/sock'
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
CONF
pg pg_ctl -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w start >/dev/null
pg createdb -h "$WORK/pg/sock" fleet
DB="postgresql://postgres@${WORK//\//%2F}%2Fpg%2Fsock/fleet"
psql_() { psql -X -q -A -t -h "$WORK/pg/sock" -U postgres -d fleet "$@"; }
now() { date +%s.%N; }

"$KENSHIN" -q fleet init --db "$DB" >/dev/null
"$SYNTH" "$REPORT" "$WORK/key.pem" "$WORK/bundles" "$SAMPLE_SITES" "$SAMPLE_DAYS" "$HOSTS"
FP="$("$KENSHIN" key --signing-key "$WORK/key.pem" | awk '/fingerprint/{print $2}')"
for s in $(seq 0 $((SITES - 1))); do
  "$KENSHIN" -q fleet sensor add --db "$DB" --site "$(printf 's%03d' "$s")" --key "$FP" >/dev/null
done
BUNDLE_MB=$(du -sm "$WORK/bundles" | cut -f1)
N=$((SAMPLE_SITES * SAMPLE_DAYS))

t0=$(now)
for d in "$WORK"/bundles/*; do
  site="$(basename "$d" | cut -d- -f1)"
  "$KENSHIN" -q fleet push --db "$DB" --site "$site" "$d" >/dev/null
done
t1=$(now)
"$KENSHIN" -q fleet ingest --db "$DB" --once >/dev/null
t2=$(now)
FILED=$(psql_ -c "SELECT count(*) FROM fleet.runs")
[ "$FILED" = "$N" ] || { echo "bench/fleet: filed $FILED of $N bundles" >&2; exit 1; }
TEMPLATE=$(psql_ -c "SELECT min(id) FROM fleet.runs")

t3=$(now)
psql_ -v template="$TEMPLATE" -v sites="$SITES" -v days="$DAYS" -f "$HERE/generate.sql" >/dev/null
t4=$(now)
read -r RUNS HOSTROWS SERVICEROWS FINDINGROWS <<<"$(psql_ -F ' ' -c "SELECT (SELECT count(*) FROM fleet.runs), (SELECT count(*) FROM fleet.hosts), (SELECT count(*) FROM fleet.services), (SELECT count(*) FROM fleet.findings)")"
DBSIZE=$(psql_ -c "SELECT pg_size_pretty(pg_database_size('fleet'))")

times=()
for i in 1 2 3; do
  a=$(now); "$KENSHIN" -q fleet report --db "$DB" --json > "$WORK/rollup.json"; b=$(now)
  times+=("$(python3 -c "print($b - $a)")")
done
a=$(now); "$KENSHIN" -q fleet report --db "$DB" -o "$WORK/page" --signing-key "$WORK/key.pem"; b=$(now)
PAGE=$(python3 -c "print($b - $a)")
PAGE_KB=$(( $(stat -c %s "$WORK/page/fleet.html") / 1024 ))

export REPORT REPORT_NOTE KENSHIN_BUILD PGBIN
python3 - "$OUT" <<PY
import os, statistics, sys
t = sorted([$(IFS=,; echo "${times[*]}")])
n, hosts = $N, $HOSTS
push, ingest, gen = $t1 - $t0, $t2 - $t1, $t4 - $t3
synth_rows = $HOSTROWS + $SERVICEROWS + $FINDINGROWS
out = open(sys.argv[1], "w")
w = lambda s="": out.write(s + "\n")
w(f"A real PostgreSQL ({os.environ['PGBIN'].split('/')[-2]}, Debian's package, on a Unix socket) holding {$SITES} sites × {$DAYS} daily scans × {hosts} hosts,")
w(f"made from \`{os.environ['REPORT'].split('/')[-1]}\` ({os.environ['REPORT_NOTE']}): \`bench/fleet/run.sh\`, $(nproc) cores shared with other work, a {os.environ['KENSHIN_BUILD']} build of")
w(f"kenshin. The synthetic reports repeat the real report's hosts with fresh")
w(f"addresses, and its findings with them.")
w()
w("| step | amount | time | rate |")
w("|---|---:|---:|---:|")
w(f"| \`fleet push\` (one process per folder, TLS-less socket) | {n} bundles of {hosts} hosts, $BUNDLE_MB MiB | {push:.1f} s | {n / push:.1f} bundles/s |")
w(f"| \`fleet ingest --once\` (verify signature + every hash, file in one transaction each) | {n} bundles, {n * hosts:,} hosts | {ingest:.1f} s | {n * hosts / ingest:,.0f} hosts/s |")
w(f"| SQL generator (\`bench/fleet/generate.sql\`, copies a filed run) | up to {$RUNS:,} runs: {$HOSTROWS:,} hosts, {$SERVICEROWS:,} services, {$FINDINGROWS:,} findings | {gen:.1f} s | {synth_rows / gen:,.0f} rows/s |")
w(f"| \`fleet report --json\` (the whole rollup) | {$SITES} sites, {$RUNS:,} runs, database $DBSIZE | median {statistics.median(t):.2f} s (of {', '.join(f'{x:.2f}' for x in t)}) | |")
w(f"| \`fleet report -o DIR\` (JSON, HTML with {$SITES} SVG charts, sealed) | fleet.html {$PAGE_KB} KiB | {$PAGE:.2f} s | |")
w()
w("What keeps the rollup fast: every per-site question starts from \`fleet.sites\` and takes that site's")
w("newest run (or last 30 runs for the trend) with one walk of \`runs_site_finished (site, finished_at DESC)")
w("INCLUDE (complete)\`; hosts, services, findings, checklist rows and the per-severity counts are then read by")
w("their primary keys, which all begin with \`run_id\`, for those few runs only. The trend reads")
w("\`run_counts\` (five rows a run, written at filing) rather than counting findings. So the rollup's cost")
w("grows with the number of sites, not with the history kept. No table is partitioned at this size.")
w()
w("Growing to thousands of sites needs no new code: partition \`hosts\`, \`services\` and \`findings\` by")
w("range of \`run_id\` (or the runs by month of \`finished_at\`) and detach old partitions for retention;")
w("run \`fleet report\` against a read replica (it only reads); run several \`fleet ingest\` workers, which")
w("share the inbox through \`FOR UPDATE SKIP LOCKED\`.")
out.close()
PY
