#!/usr/bin/env bash
# bench/run_all.sh — `make bench`: runs every bench script in turn against one agynd build, then
# prints one summary table of the rows they appended to $BENCH_SUMMARY (bench/lib.sh, bench_row;
# bench/README.md, "summary rows"). A missing script is skipped with a note; a failing one is
# noted and the others still run. Exits 1 when a script failed (a MISS row alone does not fail).
# Environment: AGYND_BIN (default build-bench/bin/agynd, the Release build `make bench` makes),
# BENCH_SCRIPTS (space-separated, default below, relative to the source root), BENCH_SCALE_MAX
# (default 10000 here; bench/scale.sh alone defaults to 100000).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export AGYND_BIN="${AGYND_BIN:-$ROOT/build-bench/bin/agynd}"
export AGYN_CLI_BIN="${AGYN_CLI_BIN:-$(dirname "$AGYND_BIN")/agyn}"
export AGYN_SOURCE_DIR="$ROOT"
# The full 100,000-secret curve seeds for ~20 minutes through the API on 2 cores: make bench
# stops at 10,000 unless told otherwise (make bench BENCH_SCALE_MAX=100000).
export BENCH_SCALE_MAX="${BENCH_SCALE_MAX:-10000}"
SCRIPTS="${BENCH_SCRIPTS:-bench/pull.sh bench/shared_pull.sh bench/api.sh bench/start.sh bench/scale.sh bench/claims.sh bench/isolation.py}"
[ -x "$AGYND_BIN" ] || { echo "bench/run_all.sh: no agynd at $AGYND_BIN" >&2; exit 1; }

BENCH_SUMMARY="$(mktemp "${TMPDIR:-/tmp}/agyn-bench-summary.XXXXXX")"
export BENCH_SUMMARY
trap 'rm -f "$BENCH_SUMMARY"' EXIT
notes=()
failed=0
for script in $SCRIPTS; do
    if [ ! -e "$ROOT/$script" ]; then
        notes+=("$script: not there, skipped")
        continue
    fi
    echo
    echo "=== $script ($(date -u +%H:%M:%S))"
    start=$(date +%s)
    if [ "${script##*.}" = py ]; then
        python3 "$ROOT/$script"
    else
        bash "$ROOT/$script"
    fi
    rc=$?
    took=$(($(date +%s) - start))
    if [ "$rc" -ne 0 ]; then
        notes+=("$script: FAILED (exit $rc) after ${took}s; its rows may be missing")
        failed=1
    else
        notes+=("$script: ${took}s")
    fi
done

echo
echo "=== summary: $AGYND_BIN on $(nproc) cores ($(uptime | sed 's/.*load average/load average/'));"
echo "    each script measures agynd and its peer in the same run; other load moves both"
if [ -s "$BENCH_SUMMARY" ]; then
    {
        printf 'figure\tagynd\tpeer (same run)\ttarget\tverdict\n'
        cat "$BENCH_SUMMARY"
    } | column -t -s $'\t' | sed 's/^/  /'
    pass=$(awk -F'\t' '$5 == "PASS"' "$BENCH_SUMMARY" | wc -l)
    miss=$(awk -F'\t' '$5 == "MISS"' "$BENCH_SUMMARY" | wc -l)
    info=$(awk -F'\t' '$5 == "INFO"' "$BENCH_SUMMARY" | wc -l)
    echo "  $pass PASS, $miss MISS, $info INFO (reported without a target)"
else
    echo "  (no rows: no script wrote to BENCH_SUMMARY)"
fi
for note in "${notes[@]}"; do
    echo "  note: $note"
done
exit "$failed"
