#!/usr/bin/env bash
# bench/pull.sh — a cold image pull by agynd's runner beside parallel curl (the ceiling) and
# skopeo copy, same registry, same run, `sync` before each timed run, medians of 3; warm
# starts and peak RSS against layer size too. The measurement is bench/pull.py; bench/README.md
# (section "pull") says what each figure is and holds the before/after phase breakdown.
#
# Builds nothing: run by `make bench` after `make build`. Environment:
#   AGYND_BIN          agynd to measure (default build/bin/agynd; use a Release build)
#   BENCH_ROUNDS       rounds (default 3)
#   BENCH_LAYER_MIB    layer size of the big image (default 64)
#   BENCH_SMALL_MIB    layer size of the small image (default 16)
#   BENCH_WARM_STARTS  warm starts after each cold pull (default 5)
#   BENCH_DATABASE     postgres: a second agynd column on a throwaway PostgreSQL 15
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
[ -x "$AGYND_BIN" ] || { echo "bench/pull.sh: no agynd at $AGYND_BIN (run 'make build')" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/pull.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
exec python3 "$ROOT/bench/pull.py"
