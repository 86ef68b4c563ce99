# shellcheck shell=bash
# bench/lib.sh — shared by the shell bench scripts (source it): bench_row appends one row to the
# summary that `make bench` prints at the end (bench/run_all.sh; see bench/README.md, "summary
# rows"; bench/summary.py is the same for Python). Without BENCH_SUMMARY in the environment a
# script runs alone and bench_row does nothing.

# bench_row FIGURE AGYND PEER TARGET VERDICT
#   FIGURE   what was measured ("list p99, 100,000 image pull secrets")
#   AGYND    agynd's figure with its unit ("1.9 ms")
#   PEER     the figure it is judged against, from the same run ("1.6 ms at 100"), or "-"
#   TARGET   the target as text ("<= 1.5x the 100 figure")
#   VERDICT  PASS or MISS (the target held or not), INFO (a figure reported without a target)
# Writes FIGURE<TAB>AGYND<TAB>PEER<TAB>TARGET<TAB>VERDICT and a newline to $BENCH_SUMMARY.
bench_row() {
    [ -n "${BENCH_SUMMARY:-}" ] || return 0
    if [ $# -ne 5 ]; then
        echo "bench_row: needs 5 fields (figure agynd peer target PASS|MISS|INFO), got $#" >&2
        return 2
    fi
    case "$5" in
    PASS | MISS | INFO) ;;
    *)
        echo "bench_row: the verdict must be PASS, MISS or INFO, not \"$5\"" >&2
        return 2
        ;;
    esac
    local field
    for field in "$@"; do
        case "$field" in
        *$'\t'* | *$'\n'* | "")
            echo "bench_row: a field is empty or holds a tab or newline: \"$field\"" >&2
            return 2
            ;;
        esac
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_SUMMARY"
}

# bench_verdict OK: PASS when the shell condition string OK (e.g. "$(awk ...)" giving 1/0) is 1.
bench_verdict() {
    if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi
}

# bench_rows_from FILE: bench_row for every FIGURE<TAB>AGYND<TAB>PEER<TAB>TARGET<TAB>VERDICT line
# of FILE (the rows a script's embedded Python wrote); a missing file adds nothing.
bench_rows_from() {
    [ -f "$1" ] || return 0
    local figure ours peer target verdict
    while IFS=$'\t' read -r figure ours peer target verdict; do
        bench_row "$figure" "$ours" "$peer" "$target" "$verdict" || return
    done <"$1"
}
