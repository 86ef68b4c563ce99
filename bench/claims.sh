#!/usr/bin/env bash
# bench/claims.sh — workloads started per second with 1, 2 and 4 `agynd runner` processes on
# one PostgreSQL (pull-only runtime, image warm), and the p50/p99 delay from a commit on one
# API replica to an SSE client on another (LISTEN/NOTIFY). A benchmark, not a test: see
# bench/claims.py. Needs Debian's postgresql-15 and docker-registry (as the tests do).
# Environment: AGYND_BIN (default build/bin/agynd), BENCH_WORKLOADS (200), BENCH_WRITES (200).
# BENCH_BUSY=1 runs bench/claims_busy.py instead: the time to create BENCH_WORKLOADS (500)
# workloads with no runner and with 4 runners up, and the delay from creation to claim.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
export AGYN_CLI_BIN="${AGYN_CLI_BIN:-$(dirname "$AGYND_BIN")/agyn}"
export AGYN_SOURCE_DIR="$ROOT"
[ -x "$AGYND_BIN" ] || { echo "bench/claims.sh: no agynd at $AGYND_BIN" >&2; exit 1; }
if [ "${BENCH_BUSY:-}" = 1 ]; then exec python3 "$ROOT/bench/claims_busy.py"; fi
exec python3 "$ROOT/bench/claims.py"
