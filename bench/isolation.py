#!/usr/bin/env python3
"""bench/isolation.py — does one organization's outbound work slow another's API requests?

Measures organization B's `GET .../agents?page_size=50` latency (sequential requests, one
client) twice in the same run against the same agynd: once on a quiet server (the baseline,
the peer figure) and once while organization A keeps 8 verifies running against a registry
that accepts TCP and never answers (tests/fixtures/tarpit.py). Prints p50/p99 of both beside
the target (p99 under load < 50 ms), and appends that as one row, the quiet p99 as its peer, to
the `make bench` summary (bench/summary.py). Runs the release build (make build); loopback only.

Environment: AGYND_BIN (default build/bin/agynd), BENCH_SECONDS per phase (default 6).
"""
import os
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("AGYND_BIN", os.path.join(ROOT, "build", "bin", "agynd"))
os.environ.setdefault("AGYN_SOURCE_DIR", ROOT)

from agyn_testlib import Server  # noqa: E402
from test_isolation import Tarpit, percentile  # noqa: E402
from summary import bench_row, verdict  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
TARGET_P99_MS = 50


def measure(ctx, seconds):
    latencies = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        resp = ctx.member.get(ctx.path("/agents?page_size=50"))
        latencies.append(time.monotonic() - started)
        assert resp.status == 200, resp
    return latencies


def main():
    tarpit = Tarpit()
    server = Server(["--outbound-timeout", f"{int(SECONDS) + 30}s"])
    try:
        a = server.new_org("bench-a")
        b = server.new_org("bench-b")
        for i in range(50):
            b.owner.post(b.path("/agents"), {"name": f"agent{i}", "image": "example.com/a:v1"})
        secrets = [a.owner.post(a.path("/image-pull-secrets"), {
            "name": f"t{i}", "registry": f"127.0.0.1:{tarpit.port}", "username": "u",
            "password": "p"}).json["id"] for i in range(8)]
        quiet = measure(b, SECONDS)
        stop = threading.Event()

        def keep_verifying(secret_id):
            while not stop.is_set():
                try:
                    a.member.post(a.path(f"/image-pull-secrets/{secret_id}/verify"), {},
                                  timeout=SECONDS + 60)
                except OSError:
                    return  # the server is gone: the measurement is over

        threads = [threading.Thread(target=keep_verifying, args=(s,), daemon=True)
                   for s in secrets]
        for t in threads:
            t.start()
        time.sleep(0.5)
        loaded = measure(b, SECONDS)
        stop.set()
        ms = lambda v: v * 1000  # noqa: E731
        print(f"org B GET agents, quiet server      : n={len(quiet)} "
              f"p50 {ms(percentile(quiet, 50)):.2f} ms  p99 {ms(percentile(quiet, 99)):.2f} ms")
        print(f"org B GET agents, A's 8 tarpit verifies: n={len(loaded)} "
              f"p50 {ms(percentile(loaded, 50)):.2f} ms  p99 {ms(percentile(loaded, 99)):.2f} ms"
              f"  (target p99 < {TARGET_P99_MS} ms: "
              f"{'met' if ms(percentile(loaded, 99)) < TARGET_P99_MS else 'MISSED'})")
        loaded_p99, quiet_p99 = ms(percentile(loaded, 99)), ms(percentile(quiet, 99))
        bench_row("org B GET agents p99 while org A runs 8 verifies against a tarpit",
                  f"{loaded_p99:.2f} ms", f"{quiet_p99:.2f} ms on a quiet server",
                  f"< {TARGET_P99_MS} ms", verdict(loaded_p99 < TARGET_P99_MS))
    finally:
        tarpit.stop()
        server.proc.kill()
        server.proc.wait()
        server.log.close()


if __name__ == "__main__":
    main()
