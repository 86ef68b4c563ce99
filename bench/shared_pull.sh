#!/usr/bin/env bash
# bench/shared_pull.sh — concurrent pulls share fetches: 4 workloads of one cold image started
# at once against 1, from one local htpasswd registry (Debian docker-registry via
# tests/fixtures/registry_fixture.py, with its access log on), an image of 4 random 64 MiB
# uncompressed layers. Each run uses a fresh agynd data directory (empty content store) with
# 4 agents, each with its own image pull secret (its own registry user); the 4-workload run
# POSTs all 4 workloads at once. Per run: wall time from the first POST /workloads to the last
# workload "running", and the blob bytes the registry sent (its access log). `sync` runs before
# each timed run so that no run pays for the previous one's dirty pages.
# Prints a table and the row
#   4 concurrent pulls of one image: N MiB fetched (target 256), wall X s vs single Y s = R×
# (medians), with the load average before and after (other work on the machine skews walls),
# and appends both figures to the `make bench` summary (bench/summary.py), each beside the
# single pull of the same run: MiB fetched (target: the image's size, each blob once) and
# wall (target <= 1.2x the single pull's).
#
# Builds nothing: run after `make build` (a Release build). Environment:
#   AGYND_BIN          agynd to measure (default build/bin/agynd)
#   BENCH_ROUNDS       rounds (default 3)
#   BENCH_LAYER_MIB    layer size (default 64)
#   BENCH_KEEP         1 keeps the temporary directory
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
ROUNDS="${BENCH_ROUNDS:-3}"
LAYER_MIB="${BENCH_LAYER_MIB:-64}"
LAYERS=4
WORKLOADS=4
FIXTURE="$ROOT/tests/fixtures/registry_fixture.py"
TARGET_RATIO=1.2

die() { echo "bench/shared_pull.sh: $*" >&2; exit 1; }
note() { echo "bench/shared_pull.sh: $*" >&2; }

[ -x "$AGYND_BIN" ] || die "no agynd at $AGYND_BIN (run 'make build' or set AGYND_BIN)"
for tool in python3 docker-registry htpasswd skopeo; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh bench)"
done

WORK="$(mktemp -d /tmp/agyn-sharedpull.XXXXXX)"
REGISTRY_PID=""
AGYND_PID=""
stop_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  local code=$?
  for pid in $AGYND_PID $REGISTRY_PID; do stop_pid "$pid"; done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    note "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
random_text() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

# --- the registry (one user per workload) and the image ---------------------------------------
: > "$WORK/users"
user_args=()
for i in $(seq 0 $((WORKLOADS - 1))); do
  password="bench-$(random_text)"
  echo "bench$i $password" >> "$WORK/users"
  user_args+=(--user "bench$i:$password")
done
python3 "$FIXTURE" serve --auth htpasswd "${user_args[@]}" --access-log \
  > "$WORK/registry.out" 2> "$WORK/registry.err" &
REGISTRY_PID=$!
for _ in $(seq 600); do
  grep -q '^READY ' "$WORK/registry.out" 2>/dev/null && break
  grep -q '^ERROR ' "$WORK/registry.out" 2>/dev/null && die "registry: $(cat "$WORK/registry.out")"
  kill -0 "$REGISTRY_PID" 2>/dev/null || die "registry fixture exited: $(cat "$WORK/registry.err")"
  sleep 0.05
done
HOST="$(awk '$1 == "HOST" { print $2 }' "$WORK/registry.out")"
ACCESS_LOG="$(awk '$1 == "ACCESS_LOG" { print $2 }' "$WORK/registry.out")"
[ -n "$HOST" ] && [ -n "$ACCESS_LOG" ] || die "the registry fixture printed no HOST/ACCESS_LOG"

size=$((LAYER_MIB * 1024 * 1024))
sizes=""
for _ in $(seq $LAYERS); do sizes="${sizes:+$sizes,}$size"; done
note "pushing $HOST/bench/shared:v1 ($LAYERS x $LAYER_MIB MiB random, uncompressed)"
read -r first_user first_password < "$WORK/users"
python3 "$FIXTURE" push --registry "$HOST" --creds "$first_user:$first_password" \
  --repo bench/shared --tag v1 --layers "$sizes" --uncompressed > "$WORK/image.json" ||
  die "pushing the image failed"

# --- one run: a fresh agynd, N workloads at once -------------------------------------------------
# Appends "LABEL ROUND WALL_S BYTES_SENT".
agynd_run() { # LABEL ROUND COUNT
  local label=$1 round=$2 count=$3 name="$1-$2" data="$WORK/agynd-$1-$2" port
  rm -rf "$data"
  port="$(free_port)"
  "$AGYND_BIN" init --data-dir "$data" > "$WORK/$name.admin-token" 2> "$WORK/$name.init.log" ||
    die "agynd init failed: $(cat "$WORK/$name.init.log")"
  "$AGYND_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" --runner-threads 4 \
    --runner-org-concurrency 4 --egress-allow "$HOST" > "$WORK/$name.log" 2>&1 &
  AGYND_PID=$!
  if ! python3 - "$port" "$WORK/$name.admin-token" "$HOST" "$WORK/users" "$count" \
    "$WORK/image.json" "$ACCESS_LOG" "$FIXTURE" > "$WORK/$name.result" <<'EOF'
import json, os, subprocess, sys, threading, time, urllib.request
port, token_file, host, users_file, count, image_file, access_log, fixture = sys.argv[1:]
count = int(count)
base = f"http://127.0.0.1:{port}"
image = json.load(open(image_file))
blobs = [image["config_digest"]] + image["layer_digests"]

def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")

def sent_bytes():
    gets = json.loads(subprocess.run([sys.executable, fixture, "blob-gets", "--log", access_log],
                                     check=True, capture_output=True, text=True).stdout)
    return sum(gets.get(d, {"bytes": 0})["bytes"] for d in blobs)

deadline = time.time() + 30
while True:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1).read()
        break
    except OSError:
        if time.time() > deadline:
            raise SystemExit("agynd did not become healthy")
        time.sleep(0.05)
admin = open(token_file).read().strip()
org = call("POST", "/api/v1/organizations", admin, {"name": "sharedbench"})["id"]
owner = call("POST", f"/api/v1/organizations/{org}/tokens", admin,
             {"name": "bench", "role": "owner"})["token"]
o = f"/api/v1/organizations/{org}"
agents = []
for i, line in enumerate(open(users_file).read().split("\n")[:count]):
    user, password = line.split()
    agent = call("POST", o + "/agents", owner,
                 {"name": f"bench{i}", "image": f"{host}/bench/shared:v1"})
    secret = call("POST", o + "/image-pull-secrets", owner,
                  {"name": f"bench{i}", "registry": host, "username": user, "password": password})
    call("POST", o + "/image-pull-secret-attachments", owner,
         {"image_pull_secret_id": secret["id"], "agent_id": agent["id"]})
    agents.append(agent)
before = sent_bytes()
os.sync()
ids = [None] * count
start = threading.Barrier(count)

def post(i):
    start.wait()
    ids[i] = call("POST", o + "/workloads", owner, {"agent_id": agents[i]["id"]})["id"]

started = time.monotonic()
threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
waiting = set(ids)
while waiting:
    for workload_id in list(waiting):
        workload = call("GET", f"{o}/workloads/{workload_id}", owner)
        if workload["status"] == "running":
            waiting.discard(workload_id)
        elif workload["status"] != "starting":
            raise SystemExit(f"workload {workload['status']}: {workload['failure_message']}")
    if waiting:
        time.sleep(0.01)
wall = time.monotonic() - started
time.sleep(0.3)  # the access log line of the last response
print(f"{wall:.3f} {sent_bytes() - before}")
EOF
  then
    cat "$WORK/$name.log" >&2
    die "agynd run $name failed"
  fi
  stop_pid "$AGYND_PID"
  wait "$AGYND_PID" 2>/dev/null || true
  AGYND_PID=""
  rm -rf "$data"
  echo "$label $round $(cat "$WORK/$name.result")" >> "$WORK/results"
}

# --- the runs, alternating -----------------------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$WORK/results"
for round in $(seq "$ROUNDS"); do
  note "round $round/$ROUNDS: 1 workload"
  agynd_run single "$round" 1
  note "round $round/$ROUNDS: $WORKLOADS workloads at once"
  agynd_run concurrent "$round" "$WORKLOADS"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table -----------------------------------------------------------------------------------
python3 - "$WORK/results" "$LAYERS" "$LAYER_MIB" "$WORKLOADS" "$TARGET_RATIO" "$LOAD_BEFORE" \
  "$LOAD_AFTER" "$(nproc)" "$ROOT/bench" <<'EOF'
import statistics, sys
path, layers, mib, workloads, target, load_before, load_after, cpus, bench_dir = sys.argv[1:]
sys.path.insert(0, bench_dir)
from summary import bench_row, verdict
layers, mib, workloads, target = int(layers), int(mib), int(workloads), float(target)
rows = [line.split() for line in open(path)]
rows = [(name, int(rnd), float(wall), int(sent)) for name, rnd, wall, sent in rows]
image_mib = layers * mib
print(f"\n{workloads} workloads of one cold image ({layers} x {mib} MiB) started at once vs "
      f"one; registry bytes from its access log\n")
print(f"{'run':<24}{'wall s':>9}{'MiB fetched':>14}")
for name, rnd, wall, sent in rows:
    label = "1 workload" if name == "single" else f"{workloads} workloads"
    print(f"{label + ' #' + str(rnd):<24}{wall:>9.2f}{sent / 2**20:>14.1f}")
med = lambda name, i: statistics.median(r[i] for r in rows if r[0] == name)
single, concurrent = med("single", 2), med("concurrent", 2)
fetched = med("concurrent", 3) / 2**20
single_fetched = med("single", 3) / 2**20
ratio = concurrent / single
ok = lambda good: "ok" if good else "MISSED"
print(f"\nload average {load_before} before, {load_after} after ({cpus} CPUs)\n")
print(f"{workloads} concurrent pulls of one image: {fetched:.0f} MiB fetched (target "
      f"{image_mib}), wall {concurrent:.2f} s vs single {single:.2f} s = {ratio:.2f}× "
      f"(target ≤ {target}×)   bytes {ok(round(fetched) <= image_mib + 1)}, "
      f"wall {ok(ratio <= target)}")
size = f"{layers}x{mib} MiB"
bench_row(f"{workloads} concurrent cold pulls of one {size} image: MiB the registry sent",
          f"{fetched:.0f} MiB", f"{single_fetched:.0f} MiB for 1 pull",
          f"{image_mib} MiB (each blob once)", verdict(round(fetched) <= image_mib + 1))
bench_row(f"{workloads} concurrent cold pulls of one {size} image: wall",
          f"{concurrent:.2f} s = {ratio:.2f}x", f"{single:.2f} s for 1 pull",
          f"<= {target}x the single pull", verdict(ratio <= target))
EOF
