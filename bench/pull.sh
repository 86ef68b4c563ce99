#!/usr/bin/env bash
# bench/pull.sh — a cold image pull by agynd's runner against skopeo and plain curl, from one
# local htpasswd registry (Debian docker-registry via tests/fixtures/registry_fixture.py):
# an image of 4 random 64 MiB uncompressed layers, pulled alternating in each round by
#   agynd   a fresh data directory (empty content store), an agent + attached image pull
#           secret; wall time from POST /workloads to status "running", and agynd's peak
#           RSS (VmHWM) — before the pull and after it;
#   skopeo  skopeo copy --src-creds ... docker://HOST/repo:tag oci:DIR:tag under
#           /usr/bin/time -v (wall and max RSS), a fresh OCI directory each time;
#   curl    the 4 layer blobs with Basic auth, 4 curls in parallel (the ceiling).
# agynd also pulls an image of 4 x 16 MiB layers each round: its peak must not grow with the
# layer size. Prints a table, the agynd/skopeo ratio and the targets (agynd <= 0.8x skopeo
# wall time; peak RSS independent of layer size).
#
# Builds nothing: run by `make bench` after `make build`. Environment:
#   AGYND_BIN          agynd to measure (default build/bin/agynd)
#   BENCH_ROUNDS       rounds (default 3)
#   BENCH_LAYER_MIB    layer size of the big image (default 64)
#   BENCH_SMALL_MIB    layer size of the small image (default 16)
#   BENCH_KEEP         1 keeps the temporary directory
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
ROUNDS="${BENCH_ROUNDS:-3}"
LAYER_MIB="${BENCH_LAYER_MIB:-64}"
SMALL_MIB="${BENCH_SMALL_MIB:-16}"
LAYERS=4
FIXTURE="$ROOT/tests/fixtures/registry_fixture.py"
TARGET_RATIO=0.8
# "Does not grow with layer size": 4x larger layers may add at most this much to the peak.
TARGET_GROWTH_MIB=16
USER_NAME=bench
PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

die() { echo "bench/pull.sh: $*" >&2; exit 1; }
note() { echo "bench/pull.sh: $*" >&2; }

[ -x "$AGYND_BIN" ] || die "no agynd at $AGYND_BIN (run 'make build' or set AGYND_BIN)"
for tool in python3 skopeo curl docker-registry htpasswd; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh bench)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

WORK="$(mktemp -d /tmp/agyn-pullbench.XXXXXX)"
REGISTRY_PID=""
AGYND_PID=""
CURL_PIDS=""
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
  for pid in $CURL_PIDS $AGYND_PID $REGISTRY_PID; do stop_pid "$pid"; done
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

# --- the registry and the two images --------------------------------------------------------
python3 "$FIXTURE" serve --auth htpasswd --user "$USER_NAME:$PASSWORD" \
  > "$WORK/registry.out" 2> "$WORK/registry.err" &
REGISTRY_PID=$!
for _ in $(seq 600); do
  grep -q '^READY ' "$WORK/registry.out" 2>/dev/null && break
  grep -q '^ERROR ' "$WORK/registry.out" 2>/dev/null && die "registry: $(cat "$WORK/registry.out")"
  kill -0 "$REGISTRY_PID" 2>/dev/null || die "registry fixture exited: $(cat "$WORK/registry.err")"
  sleep 0.05
done
HOST="$(awk '$1 == "HOST" { print $2 }' "$WORK/registry.out")"
[ -n "$HOST" ] || die "the registry fixture printed no HOST"

push() { # REPO LAYER_MIB
  local size=$(($2 * 1024 * 1024)) sizes=""
  for _ in $(seq $LAYERS); do sizes="${sizes:+$sizes,}$size"; done
  note "pushing $HOST/$1:v1 ($LAYERS x $2 MiB random, uncompressed)"
  python3 "$FIXTURE" push --registry "$HOST" --creds "$USER_NAME:$PASSWORD" --repo "$1" \
    --tag v1 --layers "$sizes" --uncompressed > "$WORK/$1.json" ||
    die "pushing $1 failed"
}
mkdir -p "$WORK/bench"
push bench/big "$LAYER_MIB"
push bench/small "$SMALL_MIB"
mapfile -t BIG_LAYERS < <(python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["layer_digests"]: print(d)' "$WORK/bench/big.json")

# --- agynd: one cold pull ---------------------------------------------------------------------
# Appends "LABEL ROUND WALL_S PEAK_BEFORE_KIB PEAK_AFTER_KIB" for a pull of HOST/REPO:v1.
# (Functions run in this shell, not in $(...), so die and the cleanup trap see everything.)
agynd_pull() { # LABEL ROUND REPO
  local label=$1 round=$2 repo=$3 name="$1-$2" data="$WORK/agynd-$1-$2" port
  rm -rf "$data"
  port="$(free_port)"
  "$AGYND_BIN" init --data-dir "$data" > "$WORK/$name.admin-token" 2> "$WORK/$name.init.log" ||
    die "agynd init failed: $(cat "$WORK/$name.init.log")"
  "$AGYND_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" \
    > "$WORK/$name.log" 2>&1 &
  AGYND_PID=$!
  if ! python3 - "$port" "$AGYND_PID" "$WORK/$name.admin-token" "$HOST" "$repo" "$USER_NAME" \
    "$PASSWORD" > "$WORK/$name.result" <<'EOF'
import json, sys, time, urllib.request
port, pid, token_file, host, repo, user, password = sys.argv[1:]
base = f"http://127.0.0.1:{port}"

def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")

def hwm_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM")

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
org = call("POST", "/api/v1/organizations", admin, {"name": "pullbench"})["id"]
owner = call("POST", f"/api/v1/organizations/{org}/tokens", admin,
             {"name": "bench", "role": "owner"})["token"]
o = f"/api/v1/organizations/{org}"
agent = call("POST", o + "/agents", owner, {"name": "bench", "image": f"{host}/{repo}:v1"})
secret = call("POST", o + "/image-pull-secrets", owner,
              {"name": "bench", "registry": host, "username": user, "password": password})
call("POST", o + "/image-pull-secret-attachments", owner,
     {"image_pull_secret_id": secret["id"], "agent_id": agent["id"]})
before = hwm_kib()
started = time.monotonic()
workload = call("POST", o + "/workloads", owner, {"agent_id": agent["id"]})
while workload["status"] == "starting":
    time.sleep(0.01)
    workload = call("GET", f"{o}/workloads/{workload['id']}", owner)
wall = time.monotonic() - started
if workload["status"] != "running":
    raise SystemExit(f"workload {workload['status']}: {workload['failure_message']}")
print(f"{wall:.3f} {before} {hwm_kib()}")
EOF
  then
    cat "$WORK/$name.log" >&2
    die "agynd pull $name failed"
  fi
  stop_pid "$AGYND_PID"
  wait "$AGYND_PID" 2>/dev/null || true
  AGYND_PID=""
  rm -rf "$data"
  echo "$label $round $(cat "$WORK/$name.result")" >> "$WORK/results"
}

# /usr/bin/time -v output -> "WALL_S MAXRSS_KIB"
time_figures() { # FILE
  awk -F': ' '
    /Elapsed \(wall clock\) time/ {
      n = split($2, p, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + p[i]
      wall = s
    }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.3f %d\n", wall, rss }' "$1"
}

skopeo_pull() { # ROUND
  local name="skopeo-$1" dir="$WORK/skopeo-$1.oci"
  rm -rf "$dir"
  REGISTRY_AUTH_FILE="$WORK/no-auth.json" /usr/bin/time -v -o "$WORK/$name.time" \
    skopeo --insecure-policy copy --quiet --src-creds "$USER_NAME:$PASSWORD" \
    --src-tls-verify=false "docker://$HOST/bench/big:v1" "oci:$dir:v1" \
    > "$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; die "skopeo copy failed"; }
  rm -rf "$dir"
  echo "skopeo $1 $(time_figures "$WORK/$name.time")" >> "$WORK/results"
}

curl_pull() { # ROUND
  local name="curl-$1" dir="$WORK/curl-$1.blobs"
  rm -rf "$dir"
  mkdir -p "$dir"
  # One shell runs the 4 curls in parallel; time -v reports its largest process.
  /usr/bin/time -v -o "$WORK/$name.time" bash -c '
    dir=$1 host=$2 creds=$3; shift 3
    pids=""
    for digest in "$@"; do
      curl -sf -u "$creds" -o "$dir/${digest#sha256:}" "http://$host/v2/bench/big/blobs/$digest" &
      pids="$pids $!"
    done
    status=0
    for pid in $pids; do wait "$pid" || status=1; done
    exit $status' _ "$dir" "$HOST" "$USER_NAME:$PASSWORD" "${BIG_LAYERS[@]}" ||
    die "curl of the blobs failed"
  for digest in "${BIG_LAYERS[@]}"; do
    [ "$(sha256sum < "$dir/${digest#sha256:}" | cut -d' ' -f1)" = "${digest#sha256:}" ] ||
      die "curl fetched a wrong blob"
  done
  rm -rf "$dir"
  echo "curl $1 $(time_figures "$WORK/$name.time")" >> "$WORK/results"
}

# --- the runs, alternating ---------------------------------------------------------------------
: > "$WORK/results"
for round in $(seq "$ROUNDS"); do
  note "round $round/$ROUNDS: agynd"
  agynd_pull agynd "$round" bench/big
  note "round $round/$ROUNDS: skopeo"
  skopeo_pull "$round"
  note "round $round/$ROUNDS: curl"
  curl_pull "$round"
  note "round $round/$ROUNDS: agynd, ${SMALL_MIB} MiB layers"
  agynd_pull agynd-small "$round" bench/small
done

# --- the table -----------------------------------------------------------------------------------
python3 - "$WORK/results" "$LAYERS" "$LAYER_MIB" "$SMALL_MIB" "$TARGET_RATIO" \
  "$TARGET_GROWTH_MIB" <<'EOF'
import statistics, sys
path, layers, big, small, target_ratio, target_growth = sys.argv[1:]
target_ratio, target_growth = float(target_ratio), float(target_growth)
rows = []
for line in open(path):
    parts = line.split()
    name, rnd, wall = parts[0], int(parts[1]), float(parts[2])
    if name.startswith("agynd"):
        rows.append((name, rnd, wall, int(parts[4]) / 1024, int(parts[3]) / 1024))
    else:
        rows.append((name, rnd, wall, int(parts[3]) / 1024, None))
labels = {"agynd": f"agynd ({layers}x{big} MiB)", "skopeo": "skopeo copy",
          "curl": f"curl x{layers} (ceiling)", "agynd-small": f"agynd ({layers}x{small} MiB)"}
print(f"\ncold pull of {layers} x {big} MiB layers from a local htpasswd registry "
      f"(peak = VmHWM for agynd, max RSS from time -v otherwise)\n")
print(f"{'run':<26}{'wall s':>9}{'peak MiB':>11}{'MiB/s':>9}   note")
for name, rnd, wall, peak, before in rows:
    mib = int(layers) * int(small if name == "agynd-small" else big)
    note = f"peak before the pull {before:.1f} MiB" if before is not None else ""
    print(f"{labels[name] + ' #' + str(rnd):<26}{wall:>9.2f}{peak:>11.1f}{mib / wall:>9.0f}"
          f"   {note}")

def median(name, index):
    return statistics.median(r[index] for r in rows if r[0] == name)

print()
for name in ("agynd", "skopeo", "curl", "agynd-small"):
    print(f"{labels[name] + ' median':<26}{median(name, 2):>9.2f}{median(name, 3):>11.1f}")
ratio = median("agynd", 2) / median("skopeo", 2)
growth = round(median("agynd", 3) - median("agynd-small", 3), 1) + 0.0  # never "-0.0"
ok = lambda good: "ok" if good else "MISSED"
print()
print(f"{'figure':<40}{'value':>12}  {'target':<14}result")
print(f"{'wall time agynd/skopeo':<40}{ratio:>11.2f}x  {'<= ' + str(target_ratio) + 'x':<14}"
      f"{ok(ratio <= target_ratio)}")
print(f"{'wall time agynd/curl ceiling':<40}{median('agynd', 2) / median('curl', 2):>11.2f}x")
print(f"{'agynd peak, ' + big + ' MiB layers':<40}{median('agynd', 3):>8.1f} MiB")
print(f"{'agynd peak, ' + small + ' MiB layers':<40}{median('agynd-small', 3):>8.1f} MiB")
print(f"{'agynd peak growth with 4x larger layers':<40}{growth:>8.1f} MiB  "
      f"{'< ' + str(int(target_growth)) + ' MiB':<14}{ok(growth < target_growth)}")
EOF
