#!/usr/bin/env bash
# bench/scale.sh — agynd's cost curves (bench/scale.py measures; this script raises the open-files
# limit, prints the table, draws one SVG per curve into bench/results/ with gnuplot and appends
# the summary rows, bench/lib.sh): list p99 with 100, 10,000 and 100,000 image pull secrets in
# one organization; `agynd serve` start time and RSS with all those sealed values; warm start
# with 1, 10 and 100 attached secrets; SSE fan-out to 10, 100 and 1,000 clients. All seeding
# goes through the API (concurrent POSTs). About 4-5 minutes with the defaults on 2 cores.
# Environment: AGYND_BIN (default build/bin/agynd; use a Release build), BENCH_SCALE_MAX (caps
# the largest organization, default 100000; `make bench` passes 10000 unless it is set), BENCH_SCALE_ROUNDS (20), BENCH_SCALE_COMMITS (30),
# BENCH_RESULTS (default bench/results), BENCH_SUMMARY (see bench/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/bench/lib.sh"
export AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
export AGYN_CLI_BIN="${AGYN_CLI_BIN:-$(dirname "$AGYND_BIN")/agyn}"
export AGYN_SOURCE_DIR="$ROOT"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results}"
[ -x "$AGYND_BIN" ] || { echo "bench/scale.sh: no agynd at $AGYND_BIN" >&2; exit 1; }
command -v gnuplot >/dev/null || echo "bench/scale.sh: no gnuplot (scripts/install-deps.sh bench): no charts" >&2

# 1,000 event streams: the clients' sockets and agynd's (it inherits this limit).
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2200 ] || { echo "bench/scale.sh: needs ulimit -n >= 2200 (hard limit $(ulimit -Hn))" >&2; exit 1; }

mkdir -p "$RESULTS"
export BENCH_SCALE_OUT="$RESULTS"
rm -f "$RESULTS/rows.tsv"
python3 "$ROOT/bench/scale.py"

plot() { # name title xlabel ylabel plot-clauses...
    local name=$1 title=$2 xlabel=$3 ylabel=$4
    shift 4
    command -v gnuplot >/dev/null || return 0
    gnuplot <<GP
set terminal svg size 720,440 dynamic font "sans,12" background rgb "white"
set output "$RESULTS/$name.svg"
set title "$title"
set xlabel "$xlabel"
set ylabel "$ylabel"
set logscale x
set yrange [0:*]
set grid
set key top left
set datafile commentschars "#"
plot $*
GP
    echo "  chart: $RESULTS/$name.svg"
}
echo
plot scale-list "list p99, GET image-pull-secrets?page_size=50" "image pull secrets in the organization" "ms" \
    "'$RESULTS/list.dat' using 1:2 with linespoints title 'p99 first page', '$RESULTS/list.dat' using 1:3 with linespoints title 'p99 middle page'"
plot scale-serve-start "agynd serve start with N sealed values" "sealed values" "ms to /readyz" \
    "'$RESULTS/sealed.dat' using 1:2 with linespoints title 'exec to /readyz (wall)', '$RESULTS/sealed.dat' using 1:5 with linespoints title 'agynd CPU'"
plot scale-serve-rss "agynd serve RSS with N sealed values" "sealed values" "MiB" \
    "'$RESULTS/sealed.dat' using 1:3 with linespoints title 'RSS after start', '$RESULTS/sealed.dat' using 1:4 with linespoints title 'peak RSS'"
plot scale-start "warm start (pull-only) with N attached secrets" "attached secrets" "ms, POST to running" \
    "'$RESULTS/start.dat' using 1:2 with linespoints title 'median', '$RESULTS/start.dat' using 1:3 with linespoints title 'p99'"
plot scale-sse "SSE fan-out: commit to the event at the last client" "clients" "ms" \
    "'$RESULTS/sse.dat' using 1:2 with linespoints title 'p50', '$RESULTS/sse.dat' using 1:3 with linespoints title 'p99'"

echo
echo "cost curves (this machine, $(nproc) cores, shared with whatever else runs; figures move with load):"
{
    printf 'figure\tagynd\tpeer (same run)\ttarget\tverdict\n'
    cat "$RESULTS/rows.tsv"
} | column -t -s $'\t' | sed 's/^/  /'
bench_rows_from "$RESULTS/rows.tsv"
