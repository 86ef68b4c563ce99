"""bench/summary.py — the Python side of bench/lib.sh's bench_row: appends one row to the
summary that `make bench` prints at the end (bench/run_all.sh; bench/README.md, "summary
rows"). Without BENCH_SUMMARY in the environment a script runs alone and bench_row does
nothing. Import it from a script in bench/ (`from summary import bench_row, verdict`) or, from
a heredoc, after sys.path.insert(0, "<source root>/bench")."""
import os

VERDICTS = ("PASS", "MISS", "INFO")


def verdict(good):
    """PASS when good, else MISS."""
    return "PASS" if good else "MISS"


def bench_row(figure, agynd, peer, target, result):
    """Appends FIGURE, AGYND, PEER, TARGET, PASS|MISS|INFO (tab-separated) to $BENCH_SUMMARY.
    peer is "-" when there is no peer figure; INFO marks a figure reported without a target."""
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    fields = (figure, agynd, peer, target, result)
    if result not in VERDICTS:
        raise ValueError(f"bench_row: the verdict must be PASS, MISS or INFO, not {result!r}")
    for field in fields:
        if not isinstance(field, str) or not field or "\t" in field or "\n" in field:
            raise ValueError(f"bench_row: a field is empty or holds a tab or newline: {field!r}")
    with open(path, "a") as f:
        f.write("\t".join(fields) + "\n")
