#!/usr/bin/env bash
# bench/api.sh — agynd's list endpoint against nginx serving the very same bytes as a static
# file: GET /api/v1/organizations/{org}/agents?page_size=50 (50 agents, owner token) with
# wrk -t2 -c64 -d10s --latency. Each round runs agynd on SQLite, nginx and agynd on
# PostgreSQL 15 (a throwaway cluster, as the tests start one), each run isolated by a `sync`
# before it. The table gives the medians of the rounds and, as the ratio, the median of each
# round's agynd/nginx ratio (paired runs follow the machine's load), beside the targets:
# throughput >= 0.7x nginx's, p99 <= 1.5x nginx's. Also agynd's idle private memory
# (Private_Dirty + Private_Clean of /proc/PID/smaps_rollup, before the load; <= 4 MiB) and its
# RSS after the load (<= 32 MiB), beside nginx's (master and workers summed). The load
# average is printed: compare ratios within one run, not figures across runs. The rows go to the
# `make bench` summary too (bench/summary.py): the targets judge agynd on SQLite (the embedded
# default, as the issue measured it); the PostgreSQL rows are INFO (each request also pays a
# round trip to a separate database server, which nginx does not).
#
# Builds nothing: run by `make bench` after `make build`. Environment:
#   AGYND_BIN        agynd to measure (default build/bin/agynd)
#   BENCH_THREADS    agynd --http-threads (default 2, one per core)
#   BENCH_DURATION   seconds per wrk run (default 10)
#   BENCH_ROUNDS     rounds of agynd/nginx/agynd-on-PostgreSQL (default 3; medians)
#   BENCH_POSTGRES   0 skips the PostgreSQL runs (default 1; needs Debian's postgresql-15)
#   AGYN_PG_BIN      PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   BENCH_KEEP       1 keeps the temporary directory
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
THREADS="${BENCH_THREADS:-2}"
DURATION="${BENCH_DURATION:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
POSTGRES="${BENCH_POSTGRES:-1}"
PG_BIN="${AGYN_PG_BIN:-/usr/lib/postgresql/15/bin}"
WRK_ARGS=(-t2 -c64 "-d${DURATION}s" --latency)

die() { echo "bench/api.sh: $*" >&2; exit 1; }

[ -x "$AGYND_BIN" ] || die "no agynd at $AGYND_BIN (run 'make build' or set AGYND_BIN)"
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  echo "bench/api.sh: installing nginx-light and wrk (scripts/install-deps.sh bench)" >&2
  "$ROOT/scripts/install-deps.sh" bench >&2
fi
command -v python3 >/dev/null || die "python3 is needed for the setup requests"
NGINX_BIN="$(command -v nginx)"
if [ "$POSTGRES" = 1 ] && [ ! -x "$PG_BIN/initdb" ]; then
  echo "bench/api.sh: no PostgreSQL at $PG_BIN: the PostgreSQL rows are skipped" >&2
  POSTGRES=0
fi

umask 077 # tokens and the database stay private; nginx gets its own readable directory
WORK="$(mktemp -d /tmp/agyn-bench.XXXXXX)"
NGINX_DIR="$(mktemp -d /tmp/agyn-bench-nginx.XXXXXX)"
PG_DIR=""
AGYND_PID=""
AGYND_PG_PID=""
NGINX_PID=""
WRK_PID=""
as_postgres() { # initdb and postgres refuse to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  local code=$?
  for pid in $WRK_PID $NGINX_PID $AGYND_PID $AGYND_PG_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench/api.sh: kept $WORK, $NGINX_DIR ${PG_DIR}" >&2
  else
    rm -rf "$WORK" "$NGINX_DIR" ${PG_DIR:+"$PG_DIR"}
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL PID NAME
  for _ in $(seq 400); do
    kill -0 "$2" 2>/dev/null || die "$3 exited during startup (see $WORK)"
    if python3 - "$1" 2>/dev/null <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
EOF
    then return 0; fi
    sleep 0.05
  done
  die "$3 did not answer $1"
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
private_mib() {
  awk '/^Private_(Clean|Dirty):/ { kb += $2 } END { printf "%.1f", kb / 1024 }' \
    "/proc/$1/smaps_rollup"
}
# nginx's figures: its master and its workers summed.
nginx_pids() { echo "$NGINX_PID"; ps -o pid= --ppid "$NGINX_PID" || true; }
nginx_private_mib() {
  local pid files=()
  for pid in $(nginx_pids); do files+=("/proc/$pid/smaps_rollup"); done
  awk '/^Private_(Clean|Dirty):/ { kb += $2 } END { printf "%.1f", kb / 1024 }' "${files[@]}"
}
nginx_rss_mib() {
  local pid files=()
  for pid in $(nginx_pids); do files+=("/proc/$pid/status"); done
  awk '/^VmRSS:/ { kb += $2 } END { printf "%.1f", kb / 1024 }' "${files[@]}"
}

# start_agynd NAME [--database URL]: a data dir, a server, an organization with 50 agents.
# Sets AGYND_STARTED_PID and AGYND_STARTED_PORT; writes $WORK/NAME/{path,owner-token,agents.json}.
start_agynd() {
  local name=$1
  shift
  local dir="$WORK/$name" port
  mkdir -p "$dir"
  port="$(free_port)"
  "$AGYND_BIN" init --data-dir "$dir/data" "$@" > "$dir/admin-token" 2> "$dir/init.log" ||
    die "agynd init ($name) failed: $(cat "$dir/init.log")"
  "$AGYND_BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" \
    --http-threads "$THREADS" "$@" > "$dir/agynd.log" 2>&1 &
  AGYND_STARTED_PID=$!
  AGYND_STARTED_PORT=$port
  wait_http "http://127.0.0.1:$port/healthz" "$AGYND_STARTED_PID" "agynd ($name)"
  python3 - "$port" "$dir" <<'EOF'
import json, sys, urllib.request
port, work = sys.argv[1], sys.argv[2]
admin = open(f"{work}/admin-token").read().strip()

def call(method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()

org = json.loads(call("POST", "/api/v1/organizations", admin, {"name": "bench"}))["id"]
owner = json.loads(call("POST", f"/api/v1/organizations/{org}/tokens", admin,
                        {"name": "bench", "role": "owner"}))["token"]
for i in range(50):
    call("POST", f"/api/v1/organizations/{org}/agents", owner,
         {"name": f"agent-{i:02d}", "image": f"ghcr.io/acme/agent-{i:02d}:v1.{i}",
          "description": f"benchmark agent number {i}"})
path = f"/api/v1/organizations/{org}/agents?page_size=50"
body = call("GET", path, owner)
assert len(json.loads(body)["items"]) == 50
open(f"{work}/agents.json", "wb").write(body)
open(f"{work}/path", "w").write(path)
open(f"{work}/owner-token", "w").write(owner)
EOF
}

# --- agynd on SQLite (the embedded default) -----------------------------------------------
start_agynd sqlite
AGYND_PID=$AGYND_STARTED_PID
AGYN_PORT=$AGYND_STARTED_PORT
LIST_PATH="$(cat "$WORK/sqlite/path")"
OWNER_TOKEN="$(cat "$WORK/sqlite/owner-token")"

# --- agynd on PostgreSQL 15: a throwaway cluster on a free port ---------------------------
if [ "$POSTGRES" = 1 ]; then
  PG_DIR="$(mktemp -d /tmp/agyn-bench-pg.XXXXXX)"
  PG_PORT="$(free_port)"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -E UTF8 --auth=trust -U postgres --no-sync \
    > "$PG_DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/postgres.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start > /dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$PG_DIR/postgres.log")"
  start_agynd postgres --database "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  AGYND_PG_PID=$AGYND_STARTED_PID
  AGYN_PG_PORT=$AGYND_STARTED_PORT
  PG_LIST_PATH="$(cat "$WORK/postgres/path")"
  PG_OWNER_TOKEN="$(cat "$WORK/postgres/owner-token")"
fi

sleep 1
IDLE_PRIVATE="$(private_mib "$AGYND_PID")"
IDLE_RSS="$(rss_mib "$AGYND_PID")"

# --- nginx: the same bytes as a static file ----------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/tmp"
cp "$WORK/sqlite/agents.json" "$NGINX_DIR/www/agents.json"
chmod 755 "$NGINX_DIR" "$NGINX_DIR/www" # workers run as nobody when started by root
chmod 644 "$NGINX_DIR/www/agents.json"
cat > "$NGINX_DIR/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /agents.json {
            root $NGINX_DIR/www;
            default_type application/json;
        }
    }
}
EOF
"$NGINX_BIN" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" > "$NGINX_DIR/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/agents.json" "$NGINX_PID" nginx
sleep 1
NGINX_IDLE_PRIVATE="$(nginx_private_mib)"

# agynd on SQLite and nginx serve the identical body; agynd on PostgreSQL one of the same
# length (its ids and times differ).
python3 - "$AGYN_PORT" "$NGINX_PORT" "$LIST_PATH" "$OWNER_TOKEN" "$WORK/sqlite/agents.json" \
  "$WORK/postgres/agents.json" <<'EOF'
import os, sys, urllib.request
agyn_port, nginx_port, path, token, saved, saved_pg = sys.argv[1:]
expected = open(saved, "rb").read()
req = urllib.request.Request(f"http://127.0.0.1:{agyn_port}{path}",
                             headers={"Authorization": f"Bearer {token}"})
got_agynd = urllib.request.urlopen(req, timeout=10).read()
got_nginx = urllib.request.urlopen(f"http://127.0.0.1:{nginx_port}/agents.json", timeout=10).read()
if got_agynd != expected or got_nginx != expected:
    sys.exit("bench/api.sh: agynd and nginx do not serve the same bytes")
note = ""
if os.path.exists(saved_pg):
    note = f"; {os.path.getsize(saved_pg)} bytes from agynd on PostgreSQL"
print(f"body: {len(expected)} bytes, identical from agynd and nginx{note}", file=sys.stderr)
EOF

# --- the runs ----------------------------------------------------------------------------
run_wrk() { # NAME URL OUTPUT [header]
  local name=$1 url=$2 out=$3
  shift 3
  sync # no run pays for the previous one's dirty pages
  echo "bench/api.sh: wrk ${WRK_ARGS[*]} $name" >&2
  # In the background so that a signal's trap runs at once, not after the run.
  wrk "${WRK_ARGS[@]}" "$@" "$url" > "$out" &
  WRK_PID=$!
  wait "$WRK_PID"
  WRK_PID=""
  if grep -q "Non-2xx" "$out"; then
    cat "$out" >&2
    die "$name answered non-2xx responses under load"
  fi
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  run_wrk agynd "http://127.0.0.1:$AGYN_PORT$LIST_PATH" "$WORK/wrk-agynd-$round.txt" \
    -H "Authorization: Bearer $OWNER_TOKEN"
  run_wrk nginx "http://127.0.0.1:$NGINX_PORT/agents.json" "$WORK/wrk-nginx-$round.txt" \
    -H "Authorization: Bearer $OWNER_TOKEN"
  if [ "$POSTGRES" = 1 ]; then
    run_wrk agynd-postgres "http://127.0.0.1:$AGYN_PG_PORT$PG_LIST_PATH" \
      "$WORK/wrk-agynd-postgres-$round.txt" -H "Authorization: Bearer $PG_OWNER_TOKEN"
  fi
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
sleep 1
kill -0 "$AGYND_PID" 2>/dev/null || die "agynd died under load"
RSS_END="$(rss_mib "$AGYND_PID")"
NGINX_RSS_END="$(nginx_rss_mib)"
PG_RSS_END=""
[ "$POSTGRES" = 1 ] && PG_RSS_END="$(rss_mib "$AGYND_PG_PID")"

# --- the table ---------------------------------------------------------------------------
python3 - "$WORK" "$ROUNDS" "$THREADS" "$IDLE_PRIVATE" "$IDLE_RSS" "$RSS_END" "$PG_RSS_END" \
  "$(wc -c < "$WORK/sqlite/agents.json")" "$LOAD_BEFORE" "$LOAD_AFTER" "$NGINX_IDLE_PRIVATE" \
  "$NGINX_RSS_END" "$ROOT/bench" <<'EOF'
import os, re, statistics, sys
(work, rounds, threads, idle_private, idle_rss, rss_end, pg_rss_end, size, load_before,
 load_after, nginx_private, nginx_rss_end, bench_dir) = sys.argv[1:]
sys.path.insert(0, bench_dir)
from summary import bench_row
rounds = int(rounds)
TARGET_RPS, TARGET_P99, TARGET_PRIVATE, TARGET_RSS = 0.7, 1.5, 4.0, 32.0

def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99

names = ["agynd", "nginx"]
if os.path.exists(f"{work}/wrk-agynd-postgres-1.txt"):
    names.append("agynd-postgres")
runs = {name: [parse(f"{work}/wrk-{name}-{r}.txt") for r in range(1, rounds + 1)]
        for name in names}
median = {name: (statistics.median(r[0] for r in runs[name]),
                 statistics.median(r[1] for r in runs[name])) for name in names}

print(f"\nGET .../agents?page_size=50 ({size} bytes), wrk -t2 -c64, agynd --http-threads "
      f"{threads}; load average {load_before} before, {load_after} after\n")
print(f"{'run':<16}" + "".join(f"{'#' + str(r) + ' req/s':>12}{'p99 ms':>9}"
                                for r in range(1, rounds + 1)))
for name in names:
    print(f"{name:<16}" + "".join(f"{rps:>12.0f}{p99:>9.2f}" for rps, p99 in runs[name]))
print()
verdict = lambda good: "PASS" if good else "MISS"
nginx_rps, nginx_p99 = median["nginx"]
for name, label in (("agynd", "SQLite"), ("agynd-postgres", "PostgreSQL")):
    if name not in median:
        print(f"API list agynd ({label}): skipped")
        continue
    rps, p99 = median[name]
    # Each round's agynd run is paired with the nginx run next to it: the median of those
    # ratios follows the machine's load better than a ratio of medians.
    ratio = statistics.median(a[0] / n[0] for a, n in zip(runs[name], runs["nginx"]))
    p99_ratio = statistics.median(a[1] / n[1] for a, n in zip(runs[name], runs["nginx"]))
    print(f"API list agynd ({label}) vs nginx: {rps:.0f} req/s vs {nginx_rps:.0f} req/s = "
          f"{ratio:.2f}x (target >= {TARGET_RPS}x) {verdict(ratio >= TARGET_RPS)}")
    print(f"API list agynd ({label}) vs nginx p99: {p99:.2f} ms vs {nginx_p99:.2f} ms = "
          f"{p99_ratio:.2f}x (target <= {TARGET_P99}x) {verdict(p99_ratio <= TARGET_P99)}")
    judged = name == "agynd"  # SQLite, the embedded default; PostgreSQL is reported as INFO
    figure = f"API GET agents?page_size=50, wrk -c64, {label}"
    target = lambda text: text if judged else f"info (SQLite's: {text})"  # noqa: E731
    bench_row(f"{figure}: throughput", f"{rps:.0f} req/s = {ratio:.2f}x",
              f"{nginx_rps:.0f} req/s nginx", target(f">= {TARGET_RPS}x nginx"),
              verdict(ratio >= TARGET_RPS) if judged else "INFO")
    bench_row(f"{figure}: p99", f"{p99:.2f} ms = {p99_ratio:.2f}x", f"{nginx_p99:.2f} ms nginx",
              target(f"<= {TARGET_P99}x nginx"),
              verdict(p99_ratio <= TARGET_P99) if judged else "INFO")
print(f"agynd idle private memory (SQLite): {float(idle_private):.1f} MiB, RSS "
      f"{float(idle_rss):.1f} MiB (target <= {TARGET_PRIVATE:.0f} MiB private) "
      f"{verdict(float(idle_private) <= TARGET_PRIVATE)}")
print(f"agynd RSS after load (SQLite): {float(rss_end):.1f} MiB (target <= {TARGET_RSS:.0f} MiB) "
      f"{verdict(float(rss_end) <= TARGET_RSS)}")
print(f"nginx (master + workers): idle private memory {float(nginx_private):.1f} MiB, RSS after "
      f"load {float(nginx_rss_end):.1f} MiB")
bench_row("agynd idle private memory (SQLite)", f"{float(idle_private):.1f} MiB",
          f"{float(nginx_private):.1f} MiB nginx", f"<= {TARGET_PRIVATE:.0f} MiB",
          verdict(float(idle_private) <= TARGET_PRIVATE))
bench_row("agynd RSS after the wrk load (SQLite)", f"{float(rss_end):.1f} MiB",
          f"{float(nginx_rss_end):.1f} MiB nginx", f"<= {TARGET_RSS:.0f} MiB",
          verdict(float(rss_end) <= TARGET_RSS))
if pg_rss_end:
    print(f"agynd RSS after load (PostgreSQL): {float(pg_rss_end):.1f} MiB "
          f"(target <= {TARGET_RSS:.0f} MiB) {verdict(float(pg_rss_end) <= TARGET_RSS)}")
    bench_row("agynd RSS after the wrk load (PostgreSQL)", f"{float(pg_rss_end):.1f} MiB",
              f"{float(nginx_rss_end):.1f} MiB nginx",
              f"info (SQLite's: <= {TARGET_RSS:.0f} MiB)", "INFO")
EOF
