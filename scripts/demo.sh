#!/usr/bin/env bash
# demo.sh — the README's tour, scripted and offline (`make demo`): starts a private registry
# with a sample image built here (scripts/demo_registry.py), agynd on a free port with a fresh
# data directory, waits until both are ready, then runs the tour's commands exactly as the
# README prints them (scripts/readme_tour.py), each shown before it runs: a wrong password ends
# in image_pull_failed / ImagePullBackOff with the registry's message, the rotated one in
# running. Then, when a Docker engine answers (DOCKER_HOST, default unix:///var/run/docker.sock),
# agynd again with the Docker runtime: the same agent runs in the engine and its log line is
# shown; with no engine this part says it is skipped and why. Everything it started is stopped
# and removed at the end, also on failure or Ctrl-C.
# AGYN_BIN_DIR (default build/bin) says where agynd and agyn are.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN_DIR=$(cd "${AGYN_BIN_DIR:-build/bin}" && pwd)
WORK=$(mktemp -d /tmp/agyn-demo.XXXXXX)
REGISTRY_PID= AGYND_PID= DOCKER_WORKLOAD= API=

cleanup() {
  [ -n "$DOCKER_WORKLOAD" ] && PATH="$BIN_DIR:$PATH" AGYN_API_URL=$API \
    AGYN_TOKEN=$(cat "$WORK/var/admin-token") agyn --org acme workloads stop "$DOCKER_WORKLOAD" \
    >/dev/null 2>&1
  [ -n "$AGYND_PID" ] && kill "$AGYND_PID" 2>/dev/null && wait "$AGYND_PID" 2>/dev/null
  [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "demo: $what not ready after ${deadline}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

say "A private registry with a sample image (busybox-static, built offline; user demo)"
scripts/demo_registry.py --port 0 > "$WORK/registry.out" 2> "$WORK/registry.err" &
REGISTRY_PID=$!
wait_for 60 "the demo registry" grep -q '^READY ' "$WORK/registry.out" || {
  cat "$WORK/registry.err" >&2
  exit 1
}
REGISTRY=$(sed -n 's/^READY //p' "$WORK/registry.out")
echo "registry: $REGISTRY, image $REGISTRY/acme/agent:v1"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
say "agynd on $API, data directory $WORK/var (fresh)"
(umask 077 && "$BIN_DIR/agynd" init --data-dir "$WORK/var" > "$WORK/admin-token")
mv "$WORK/admin-token" "$WORK/var/admin-token"
"$BIN_DIR/agynd" serve --data-dir "$WORK/var" --listen "127.0.0.1:$PORT" \
  --egress-allow "$REGISTRY" --pull-backoff-initial 1s > "$WORK/agynd.log" 2>&1 &
AGYND_PID=$!
wait_for 30 "agynd" curl -sf "$API/readyz" || {
  cat "$WORK/agynd.log" >&2
  exit 1
}
echo "agynd is ready (GET /readyz answered 200)"

say "The README's tour, command by command"
cd "$WORK"
PATH="$BIN_DIR:$PATH" AGYN_API_URL=$API DEMO_REGISTRY=$REGISTRY \
  bash -c "$(python3 "$ROOT/scripts/readme_tour.py" "$ROOT/README.md")"
cd "$ROOT"

# The same agent in a Docker engine, when one answers: agynd restarted on the same data
# directory with --runtime docker; the engine pulls with the stored credential and the
# workload's container prints its line.
DOCKER_SOCKET=${DOCKER_HOST:-unix:///var/run/docker.sock}
DOCKER_SOCKET=${DOCKER_SOCKET#unix://}
if [ ! -S "$DOCKER_SOCKET" ]; then
  say "Docker runtime: skipped (no Docker engine socket at $DOCKER_SOCKET; set DOCKER_HOST)"
elif ! curl -sf --max-time 5 --unix-socket "$DOCKER_SOCKET" http://docker/_ping >/dev/null; then
  say "Docker runtime: skipped (the Docker engine at $DOCKER_SOCKET does not answer /_ping)"
else
  say "With the Docker runtime ($DOCKER_SOCKET): the agent runs in the engine"
  agyn_admin() {
    PATH="$BIN_DIR:$PATH" AGYN_API_URL=$API AGYN_TOKEN=$(cat "$WORK/var/admin-token") \
      agyn --org acme "$@"
  }
  # The pull-only workload goes first: a workload belongs to the runtime that started it.
  for id in $(agyn_admin workloads list -o json | jq -r '.items[] | select(.status == "running") | .id'); do
    agyn_admin workloads stop "$id" >/dev/null
  done
  kill "$AGYND_PID" && wait "$AGYND_PID" || true
  AGYND_PID=
  "$BIN_DIR/agynd" serve --data-dir "$WORK/var" --listen "127.0.0.1:$PORT" \
    --egress-allow "$REGISTRY" --pull-backoff-initial 1s --runtime docker \
    --docker-host "unix://$DOCKER_SOCKET" --docker-network none --stop-grace 1s >> "$WORK/agynd.log" 2>&1 &
  AGYND_PID=$!
  wait_for 30 "agynd (docker runtime)" curl -sf "$API/readyz" || {
    cat "$WORK/agynd.log" >&2
    exit 1
  }
  echo "$ agyn --org acme workloads start --agent support --wait    # as the server admin"
  DOCKER_WORKLOAD=$(agyn_admin workloads start --agent support --wait -o json | jq -er .id)
  echo "running in the engine: workload $DOCKER_WORKLOAD"
  echo "$ agyn --org acme workloads logs $DOCKER_WORKLOAD"
  deadline=$((SECONDS + 30))
  until LOG_TEXT=$(agyn_admin workloads logs "$DOCKER_WORKLOAD" --tail 20 2>&1) && [ -n "$LOG_TEXT" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "demo: no log line from the workload after 30s: $LOG_TEXT" >&2
      exit 1
    fi
    sleep 0.5
  done
  printf '%s\n' "$LOG_TEXT"
fi
say "Done: the wrong password failed with image_pull_failed, the rotated one is running"
