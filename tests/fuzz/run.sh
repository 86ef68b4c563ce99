#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on its committed seed corpus, never writing into
# the committed corpus: new inputs go to a scratch directory (or to $FUZZ_NEW_CORPUS/<target>).
# Prints one summary line: target, executions, committed corpus size, new inputs found.
# Usage: tests/fuzz/run.sh BINARY CORPUS_DIR SECONDS
set -euo pipefail
bin=$1 corpus=$2 seconds=$3
name=$(basename "$bin")
if [ -n "${FUZZ_NEW_CORPUS:-}" ]; then
  scratch="$FUZZ_NEW_CORPUS/$name"
  mkdir -p "$scratch"
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi
artifacts="${FUZZ_ARTIFACTS:-${TMPDIR:-/tmp}}/$name-"
log=$(mktemp)
status=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:disable_coredump=1 \
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1536 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts" "$scratch" "$corpus" >"$log" 2>&1 || status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
seeds=$(find "$corpus" -type f | wc -l)
found=$(find "$scratch" -maxdepth 1 -type f ! -name 'crash-*' ! -name 'leak-*' ! -name 'timeout-*' | wc -l)
echo "fuzz $name: ${execs:-0} executions in ${seconds}s, corpus $seeds files, $found new"
if [ "$status" -ne 0 ]; then
  tail -60 "$log"
  echo "fuzz $name FAILED (exit $status); the reproducer is at ${artifacts}crash-*, add it to the corpus with the fix" >&2
fi
rm -f "$log"
exit "$status"
