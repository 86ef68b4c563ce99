#!/usr/bin/env bash
# bench/start.sh — a warm container start (image already in the engine's cache) through agynd's
# docker runtime against the docker CLI, same engine (a dockerd of its own in a temporary
# directory, tests/fixtures/docker_fixture.py), same busybox image from the htpasswd registry,
# alternating agynd, CLI, agynd, CLI...:
#   agynd   POST /workloads to status "running" (read from the SSE stream, no polling delay):
#           the manifest re-authorized with the agent's credential, container created from
#           the authorized digest and started;
#   CLI     `docker create` + `docker start` of the same image by digest.
# Prints the medians beside each other and the target (agynd <= 1.1 x CLI + 20 ms), and appends
# them as one row to the `make bench` summary (bench/summary.py).
# Environment: AGYND_BIN (default build/bin/agynd), BENCH_ROUNDS (default 15).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export AGYND_BIN="${AGYND_BIN:-$ROOT/build/bin/agynd}"
export AGYN_CLI_BIN="${AGYN_CLI_BIN:-$(dirname "$AGYND_BIN")/agyn}"
export BENCH_ROUNDS="${BENCH_ROUNDS:-15}"
[ -x "$AGYND_BIN" ] || { echo "bench/start.sh: no agynd at $AGYND_BIN" >&2; exit 1; }
command -v docker >/dev/null || { echo "bench/start.sh: needs the docker CLI (docker.io)" >&2; exit 1; }
cd "$ROOT/tests/integration"
exec python3 - <<'PY'
import os, statistics, subprocess, sys, time
sys.path.insert(0, os.path.join(os.getcwd(), "..", "fixtures"))
sys.path.insert(0, os.path.join(os.getcwd(), "..", "..", "bench"))
import docker_fixture as df
import registry_fixture as rf
from agyn_testlib import Server
from runner_helpers import Org, SseStream, open_stream
from summary import bench_row, verdict

class Case:  # the bits of unittest.TestCase that Org uses
    def assertEqual(self, a, b, msg=None):
        assert a == b, msg

rounds = int(os.environ["BENCH_ROUNDS"])
engine = df.Dockerd().start()
reg = rf.Registry(auth="htpasswd", users={"alice": "bench-pw-1"}).start()
server = None
try:
    digest = df.push_busybox(reg.direct_host, "bench/app", "v1", creds="alice:bench-pw-1",
                             cmd=("/bin/sh", "-c", "sleep 600"))
    image = f"{reg.host}/bench/app:v1"
    server = Server(extra_args=["--runtime", "docker", "--docker-host", engine.host,
                                "--docker-network", "none", "--stop-grace", "1s"])
    org = Org(Case(), server)
    agent = org.agent(image)
    org.attach(org.secret(reg.host, "alice", "bench-pw-1"), agent)
    env = dict(os.environ, DOCKER_HOST=engine.host)
    ours, theirs = [], []
    with open_stream(server, org.ctx) as stream:
        for i in range(rounds + 1):  # round 0 pulls (cold) and is not counted
            t0 = time.monotonic()
            w = org.start(agent)
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == w["id"] and e.data["status"] != "starting",
                            timeout=60, what="running")
            t_ours = time.monotonic() - t0
            status = org.get_workload(w["id"])["status"]
            assert status == "running", status
            org.member.post(org.path(f"/workloads/{w['id']}/stop"))
            ref = f"{reg.host}/bench/app@{digest}"
            t0 = time.monotonic()
            cid = subprocess.run(["docker", "create", "--network", "none", ref], env=env,
                                 check=True, capture_output=True, text=True).stdout.strip()
            subprocess.run(["docker", "start", cid], env=env, check=True, capture_output=True)
            t_cli = time.monotonic() - t0
            subprocess.run(["docker", "rm", "-f", cid], env=env, capture_output=True)
            if i:
                ours.append(t_ours * 1000)
                theirs.append(t_cli * 1000)
    a, c = statistics.median(ours), statistics.median(theirs)
    print(f"warm start, {rounds} rounds alternating (median ms):")
    print(f"  agynd (POST /workloads -> running) {a:8.1f}")
    print(f"  docker create + docker start     {c:8.1f}")
    print(f"  target agynd <= 1.1 x CLI + 20 ms = {1.1 * c + 20:.1f}: "
          f"{'met' if a <= 1.1 * c + 20 else 'NOT met'}")
    bench_row(f"warm container start, docker runtime, median of {rounds}",
              f"{a:.1f} ms", f"{c:.1f} ms docker create + start",
              "<= 1.1x CLI + 20 ms", verdict(a <= 1.1 * c + 20))
finally:
    if server:
        server.close()
    reg.stop()
    engine.close()
PY
