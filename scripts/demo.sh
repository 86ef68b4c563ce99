#!/usr/bin/env bash
# demo.sh — the README's tour, scripted and offline (`make demo`): starts a private registry
# with a sample image built here (scripts/demo_registry.py), agynd on a free port with a fresh
# data directory, waits until both are ready, then runs the tour's commands exactly as the
# README prints them (scripts/readme_tour.py), each shown before it runs: a wrong password ends
# in image_pull_failed / ImagePullBackOff with the registry's message, the rotated one in
# running. Everything it started is stopped and removed at the end, also on failure or Ctrl-C.
# AGYN_BIN_DIR (default build/bin) says where agynd and agyn are.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN_DIR=$(cd "${AGYN_BIN_DIR:-build/bin}" && pwd)
WORK=$(mktemp -d /tmp/agyn-demo.XXXXXX)
REGISTRY_PID= AGYND_PID=

cleanup() {
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
say "Done: the wrong password failed with image_pull_failed, the rotated one is running"
