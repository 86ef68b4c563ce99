"""bench/claims_busy.py — what idle runners cost the API, and how fast they notice new work
(run by bench/claims.sh with BENCH_BUSY=1; a benchmark, not a test). A throwaway PostgreSQL 15,
one API replica (`agynd serve --no-runner`); N workloads (BENCH_WORKLOADS, default 500) are
created by 8 concurrent clients, first with no runner up, then with 4 `agynd runner` processes
(pull-only, 4 threads each, the image warm) already up and starting them as they come. Prints
the time to create them, the database transactions and the runners' CPU time meanwhile, and
the delay from each workload's creation to its claim (claimed_at - created_at, p50/p99). Then
the same number of writes that create no work (image pull secrets): what idle runners cost."""
import concurrent.futures
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import agyn_testlib  # noqa: E402

agyn_testlib.TEST_DATABASE = "postgres"
from agyn_testlib import Server  # noqa: E402
from runner_helpers import registry_fixture, unique, wait_for_status  # noqa: E402
from test_scale_out import RunnerProcess  # noqa: E402

WORKLOADS = int(os.environ.get("BENCH_WORKLOADS", "500"))
RUNNERS = int(os.environ.get("BENCH_RUNNERS", "4"))


def stamp_ms(text):
    from datetime import datetime
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


def transactions(api):
    time.sleep(1.2)  # PostgreSQL flushes a backend's statistics at most once a second
    return api.sql("SELECT sum(xact_commit) FROM pg_stat_database")[0][0]


def cpu_seconds(procs):
    total = 0
    for p in procs:
        with open(f"/proc/{p.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def create_all(api, registry, runners, content, kind):
    ctx = api.new_org(unique("busy"))
    agent = ctx.owner.post(ctx.path("/agents"), {"name": "a", "image":
                                                 f"{registry.host}/team/fast:v1"}).json
    procs = [RunnerProcess(api, f"busy-{runners}-{i}", lease="15s", content_dir=content)
             for i in range(runners)]
    try:
        if procs:  # the image warm in the shared content directory
            warm = ctx.member.post(ctx.path("/workloads"), {"agent_id": agent["id"]}).json["id"]
            wait_for_status(ctx.member, ctx, warm, timeout=60)
        def one(i):
            if kind == "secrets":
                return ctx.owner.post(ctx.path("/image-pull-secrets"), {
                    "name": f"s-{i}", "registry": "registry.example", "username": "u",
                    "password": "p"}).status
            return ctx.member.post(ctx.path("/workloads"), {"agent_id": agent["id"]}).status
        xacts, cpu = transactions(api), cpu_seconds(procs)
        started_at = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(WORKLOADS)))
        created = time.time() - started_at
        cpu = cpu_seconds(procs) - cpu
        assert codes == [201] * WORKLOADS, sorted(set(codes))
        delays = []
        if procs and kind == "workloads":
            deadline = time.time() + 300
            while time.time() < deadline:
                if api.sql("SELECT count(*) FROM workloads WHERE organization_id = ? AND status"
                           " = 'running'", (ctx.id,))[0][0] == WORKLOADS + 1:
                    break
                time.sleep(0.2)
            delays = sorted(stamp_ms(claimed) - stamp_ms(made) for made, claimed in api.sql(
                "SELECT created_at, claimed_at FROM workloads WHERE organization_id = ?"
                " AND claimed_at IS NOT NULL", (ctx.id,)))
        return created, delays, transactions(api) - xacts, cpu
    finally:
        for p in procs:
            p.stop()


def main():
    registry = registry_fixture.Registry().start()
    registry.push_image("team/fast", "v1", [2000])
    api = Server(["--no-runner", "--database-pool", "8", "--max-active-workloads-per-org",
                  "100000", "--max-secrets-per-org", "100000"])
    content = os.path.join(api.tmp, "content-busy")
    try:
        for kind, runners in (("workloads", 0), ("workloads", RUNNERS), ("secrets", 0),
                              ("secrets", RUNNERS)):
            created, delays, xacts, cpu = create_all(api, registry, runners, content, kind)
            line = (f"{WORKLOADS} {kind} created with {runners} runners up: {created:.2f} s"
                    f" ({WORKLOADS / created:.0f}/s), {xacts} transactions, runners' CPU"
                    f" {cpu:.2f} s")
            if delays:
                pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa
                line += (f"; created -> claimed p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f}"
                         f" ms, max {delays[-1]:.0f} ms")
            print(line, flush=True)
    finally:
        api.close()
        registry.stop()


if __name__ == "__main__":
    main()
