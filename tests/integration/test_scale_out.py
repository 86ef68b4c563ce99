"""Scale-out on one PostgreSQL: two API replicas (`agynd serve --no-runner`) sharing the
database and the keyring file. Events committed on one replica reach SSE clients of the other
through LISTEN/NOTIFY, Last-Event-ID resumes on either, a revoked token is refused by both at
once, and a PostgreSQL restart under a write burst answers 503 (never 500) and loses no
acknowledged write. Runner processes (`agynd runner`, pull-only) hold leased claims: a runner
killed mid-pull loses its workload to another runner once the lease runs out, a killed
runner's running workloads fail with NodeLost unless its node comes back within the lease, and
500 workloads across 4 runners are each claimed and started exactly once. Always runs on PostgreSQL (a throwaway cluster, agyn_testlib.Postgres)."""
import concurrent.futures
import datetime
import json
import os
import signal
import subprocess
import threading
import time
import unittest

import agyn_testlib
from agyn_testlib import AGYND, Client, Replica, Server, free_port
from runner_helpers import open_stream, registry_fixture, unique, wait_for_status

import docker_fixture  # noqa: E402  (tests/fixtures is on sys.path via runner_helpers)

agyn_testlib.TEST_DATABASE = "postgres"



class ScaleOutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Server(["--no-runner", "--database-pool", "4", "--max-secrets-per-org", "100000"])
        cls.b = Replica(cls.a)

    @classmethod
    def tearDownClass(cls):
        code_b = cls.b.stop()
        logs = cls.a.logs() + cls.b.logs()
        code_a = cls.a.close()
        if code_a or code_b:
            raise AssertionError(f"replicas exited with {code_a}, {code_b}:\n{logs[-4000:]}")
        for bad in ("AddressSanitizer", "runtime error:"):
            if bad in logs:
                raise AssertionError("sanitizer report:\n" + logs[-8000:])

    def create_secret(self, client, ctx, name):
        return client.post(ctx.path("/image-pull-secrets"), {
            "name": name, "registry": "registry.example", "username": "u", "password": "p"})

    def test_sse_on_one_replica_sees_a_write_on_the_other_within_200ms(self):
        ctx = self.a.new_org("sse-across")
        on_b = self.b.client(ctx.owner.token)
        delays = []
        with open_stream(self.a, ctx) as stream:
            time.sleep(0.3)  # the stream is set up
            for i in range(5):
                resp = self.create_secret(on_b, ctx, f"across-{i}")
                done = time.time()
                self.assertEqual(resp.status, 201, resp)
                event = stream.wait_for(
                    lambda e, n=f"across-{i}": e.type == "image_pull_secret.created"
                    and n in e.raw, timeout=5)
                delays.append(event.received_at - done)
        self.assertLess(max(delays), 0.2, delays)

    def test_last_event_id_resumes_on_the_other_replica(self):
        ctx = self.a.new_org("resume-across")
        with open_stream(self.a, ctx) as stream:
            self.assertEqual(self.create_secret(ctx.owner, ctx, "first").status, 201)
            first = stream.wait_for(lambda e: e.type == "image_pull_secret.created")
        self.assertEqual(self.create_secret(ctx.owner, ctx, "second").status, 201)
        b_server = type("B", (), {"port": self.b.port})
        with open_stream(b_server, ctx, last_event_id=first.id) as resumed:
            second = resumed.wait_for(lambda e: e.type == "image_pull_secret.created")
            self.assertIn("second", second.raw)
            self.assertGreater(int(second.id), int(first.id))

    def test_a_token_revoked_on_one_replica_is_refused_by_the_other_at_once(self):
        ctx = self.a.new_org("revoke-across")
        made = ctx.owner.post(ctx.path("/tokens"), {"name": "short", "role": "member"})
        self.assertEqual(made.status, 201, made)
        on_b = self.b.client(made.json["token"])
        self.assertEqual(on_b.get(ctx.path("/agents")).status, 200)  # cached on B now
        self.assertEqual(ctx.owner.delete(ctx.path(f"/tokens/{made.json['id']}")).status, 204)
        time.sleep(0.05)  # the notification's trip; the cache would keep it for a second
        self.assertEqual(on_b.get(ctx.path("/agents")).status, 401)

    def test_zz_postgres_restart_during_a_write_burst(self):
        ctx = self.a.new_org("restart")
        clients = [ctx.owner, self.b.client(ctx.owner.token)]
        acknowledged, statuses, lock = [], {}, threading.Lock()
        stop_at = time.time() + 6

        def writer(w):
            i = 0
            while time.time() < stop_at:
                name = f"w{w}-{i}"
                i += 1
                try:
                    resp = clients[w % 2].post(ctx.path("/secrets"),
                                               {"name": name, "value": "v"}, timeout=15)
                except OSError:
                    continue
                with lock:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    if resp.status == 201:
                        acknowledged.append(name)
                    elif resp.status == 503:
                        self.assertEqual(resp.headers.get("Retry-After"), "1")
                time.sleep(0.01)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        agyn_testlib.shared_postgres().restart()
        for t in threads:
            t.join()
        self.assertNotIn(500, statuses, statuses)
        self.assertGreater(len(acknowledged), 20, statuses)
        names = []
        token = ""
        while True:
            page = ctx.owner.get(ctx.path(f"/secrets?page_size=100&page_token={token}"))
            self.assertEqual(page.status, 200, page)
            names += [item["name"] for item in page.json["items"]]
            token = page.json.get("next_page_token") or ""
            if not token:
                break
        self.assertEqual(len(names), len(set(names)), "duplicated rows")
        missing = set(acknowledged) - set(names)
        self.assertEqual(missing, set(), f"{len(missing)} acknowledged writes lost")
        self.assertEqual(self.a.admin().get("/readyz").status, 200)
        self.assertEqual(Client(self.b.port).get("/readyz").status, 200)


LEASE = "2s"
LEASE_S = 2.0


class RunnerProcess:
    """`agynd runner --node-name NAME --lease 2s` on the API server's database and keyring."""

    def __init__(self, first, node, content_dir=None, threads=4, lease=LEASE, extra_args=()):
        self.node = node
        self.port = free_port()
        self.log_path = os.path.join(first.tmp, f"runner-{node}-{self.port}.log")
        self.log = open(self.log_path, "ab")
        args = [AGYND, "runner", "--data-dir", first.data_dir, "--listen",
                f"127.0.0.1:{self.port}", "--node-name", node, "--lease", lease,
                "--runner-threads", str(threads), "--database-pool", "6",
                "--pull-backoff-initial", "200ms", "--pull-backoff-max", "800ms"]
        if content_dir:
            args += ["--content-dir", content_dir]
        args += list(extra_args)
        self.proc = subprocess.Popen(args + first.database_args + first.egress_args,
                                     stdout=self.log, stderr=self.log, env=first.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if Client(self.port).get("/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("runner did not start:\n" + self.logs())

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout=30)
            self.log.close()
            return code
        return 0


class RunnerLeaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = Server(["--no-runner", "--database-pool", "4",
                          "--max-active-workloads-per-org", "1000"])
        cls.registry = registry_fixture.Registry().start()
        cls.registry.push_image("team/fast", "v1", [2000])
        # 4 x 96 KiB at 24 KiB/s per connection, the 4 blobs fetched in parallel: a pull takes
        # about 4 s.
        cls.slow = registry_fixture.Registry(throttle_bytes_per_second=24 * 1024).start()
        cls.slow.push_image("team/slow", "v1", [96 * 1024] * 4)

    @classmethod
    def tearDownClass(cls):
        cls.slow.stop()
        cls.registry.stop()
        logs = cls.api.logs()
        code = cls.api.close()
        if code:
            raise AssertionError(f"the API server exited with {code}:\n{logs[-4000:]}")

    def setUp(self):
        self.runners = []
        self.ctx = self.api.new_org(unique("leases"))

    def tearDown(self):
        logs = ""
        for runner in self.runners:
            self.assertEqual(runner.stop(), 0, runner.logs()[-4000:])
            logs += runner.logs()
        for bad in ("AddressSanitizer", "runtime error:"):
            self.assertNotIn(bad, logs, logs[-8000:])

    def runner(self, node, **kw):
        runner = RunnerProcess(self.api, node, **kw)
        self.runners.append(runner)
        return runner

    def agent(self, image):
        resp = self.ctx.owner.post(self.ctx.path("/agents"),
                                   {"name": unique("agent"), "image": image})
        self.assertEqual(resp.status, 201, resp)
        return resp.json

    def start(self, agent):
        resp = self.ctx.member.post(self.ctx.path("/workloads"), {"agent_id": agent["id"]})
        self.assertEqual(resp.status, 201, resp)
        return resp.json["id"]

    def row(self, workload_id):
        return self.api.sql("SELECT status, claimed_by, node, lease_expires_at, failure_reason"
                            " FROM workloads WHERE id = ?", (workload_id,))[0]

    def times_started(self, workload_id):
        return self.api.sql(
            "SELECT count(*) FROM events WHERE type = 'workload.status_changed'"
            " AND payload::json->>'id' = ? AND payload::json->>'status' = 'running'",
            (workload_id,))[0][0]

    def wait_until(self, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what() if callable(what) else what}")

    def test_a_runner_killed_mid_pull_loses_the_workload_to_another_after_the_lease(self):
        agent = self.agent(f"{self.slow.host}/team/slow:v1")
        # Both runners are up before the workload exists: starting a sanitizer-built runner on
        # a loaded machine can itself take longer than the 2 s lease.
        runners = {node: self.runner(node, content_dir=os.path.join(self.api.tmp, node))
                   for node in ("node-a", "node-b")}
        workload_id = self.start(agent)
        self.wait_until(lambda: self.row(workload_id)[1], 10, "a claim")
        loser = self.row(workload_id)[2]
        survivor = ({"node-a", "node-b"} - {loser}).pop()
        time.sleep(1.0)  # mid-pull
        self.assertEqual(self.row(workload_id)[:3][0], "starting", "the pull was not slow")
        runners[loser].kill()
        killed_at = time.time()
        status, claimed_by, node, lease, _ = self.row(workload_id)
        self.assertEqual((status, node), ("starting", loser))
        self.assertTrue(claimed_by.startswith(loser + "-"), claimed_by)
        self.wait_until(lambda: (self.row(workload_id)[2] or "") == survivor, 10,
                        f"{survivor}'s takeover")
        # Not before the lease the killed runner last renewed (its heartbeat renews every
        # lease/3, so that is between LEASE_S - lease/3 and LEASE_S after the kill).
        lease_end = datetime.datetime.fromisoformat(lease.replace("Z", "+00:00")).timestamp()
        self.assertGreater(time.time(), lease_end - 0.2,
                           f"taken over {time.time() - killed_at:.2f} s after the kill, "
                           f"before the lease ({lease}) ran out")
        done = wait_for_status(self.ctx.member, self.ctx, workload_id, timeout=30)
        self.assertEqual(done["status"], "running", done)
        self.assertEqual(self.row(workload_id)[2], survivor)
        self.assertEqual(self.times_started(workload_id), 1)
        self.assertIn("taking over a claim whose lease ran out", runners[survivor].logs())

    def test_a_killed_runners_running_workload_fails_with_node_lost(self):
        agent = self.agent(f"{self.registry.host}/team/fast:v1")
        a = self.runner("lost-a")
        workload_id = self.start(agent)
        done = wait_for_status(self.ctx.member, self.ctx, workload_id, timeout=30)
        self.assertEqual(done["status"], "running", done)
        self.assertEqual(self.row(workload_id)[2], "lost-a")
        self.runner("lost-b")
        time.sleep(1.0)  # lost-b's heartbeats leave a live node's workload alone
        self.assertEqual(self.row(workload_id)[0], "running")
        a.kill()
        killed_at = time.time()
        failed = wait_for_status(self.ctx.member, self.ctx, workload_id, statuses=("failed",),
                                 timeout=LEASE_S + 5)
        self.assertGreater(time.time() - killed_at, LEASE_S - 1.0)
        self.assertEqual(failed["failure_reason"], "NodeLost", failed)
        self.assertIn("lost-a", failed["failure_message"])

    def test_the_same_node_back_within_the_lease_adopts_its_running_workloads(self):
        # A lease long enough that starting a sanitizer-built runner on a loaded machine stays
        # "at once": with 2 s the restart itself could outlast the lease.
        lease, lease_s = "5s", 5.0
        agent = self.agent(f"{self.registry.host}/team/fast:v1")
        a = self.runner("adopt-a", lease=lease)
        workloads = [self.start(agent) for _ in range(3)]
        for workload_id in workloads:
            done = wait_for_status(self.ctx.member, self.ctx, workload_id, timeout=30)
            self.assertEqual(done["status"], "running", done)
        self.runner("adopt-b", lease=lease)
        a.kill()
        self.runner("adopt-a", lease=lease)  # back at once, well within the lease
        time.sleep(3 * lease_s)
        now = self.api.sql("SELECT to_char(now() AT TIME ZONE 'UTC',"
                           " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")[0][0]
        for workload_id in workloads:
            status, claimed_by, node, lease, reason = self.row(workload_id)
            self.assertEqual((status, node, reason), ("running", "adopt-a", None))
            self.assertGreater(lease, now, "the adopting node renews the lease")
            self.assertEqual(self.times_started(workload_id), 1)

    def test_a_docker_runner_back_adopts_only_what_its_engine_still_runs(self):
        """A docker runner coming back under its node name asks its own engine about its
        node's running workloads: one whose container is gone fails (container_missing)
        instead of being adopted; another node's workload (its containers are on another
        engine) is left alone."""
        why = docker_fixture.available()
        if why:
            self.skipTest(why)
        engine = docker_fixture.Dockerd().start()
        self.addCleanup(engine.close)
        agent = self.agent(f"{self.registry.host}/team/fast:v1")
        mine, elsewhere = self.start(agent), self.start(agent)
        for workload_id, node in ((mine, "dock-a"), (elsewhere, "dock-other")):
            (containers,) = self.api.sql("SELECT containers FROM workloads WHERE id = ?",
                                         (workload_id,))[0]
            containers = json.loads(containers)
            for container in containers:
                container.update(status="running", container_id="0" * 64)
            self.api.sql("UPDATE workloads SET status = 'running', node = ?, claimed_by = NULL,"
                         " lease_expires_at = '2999-01-01T00:00:00.000Z', containers = ?"
                         " WHERE id = ?", (node, json.dumps(containers), workload_id))
        self.runner("dock-a", lease="10s", extra_args=[
            "--runtime", "docker", "--docker-host", engine.host, "--docker-network", "none"])
        failed = wait_for_status(self.ctx.member, self.ctx, mine, statuses=("failed",),
                                 timeout=30)
        self.assertEqual(failed["failure_reason"], "container_missing", failed)
        time.sleep(1.0)  # the reconciliation is over; the other node's workload stays
        self.assertEqual(self.row(elsewhere)[0], "running")

    def pulls_succeeded(self, runner):
        """agyn_image_pulls_total{result="success"} on the runner's /metrics."""
        resp = Client(runner.port).get("/metrics")
        self.assertEqual(resp.status, 200, resp)
        total = 0
        for line in resp.body.splitlines():
            if line.startswith('agyn_image_pulls_total{result="success"}'):
                total += int(float(line.split()[-1]))
        return total

    def test_500_workloads_across_4_runners_each_claimed_and_started_exactly_once(self):
        agent = self.agent(f"{self.registry.host}/team/fast:v1")
        content = os.path.join(self.api.tmp, "content-many")  # pull-only, one warm image
        warmer = self.runner("many-warm", content_dir=content)
        warm = self.start(agent)
        self.assertEqual(wait_for_status(self.ctx.member, self.ctx, warm)["status"], "running")
        self.assertEqual(warmer.stop(), 0)
        # A backlog of 500, then 4 runners (4 threads each) all claiming from it at once: the
        # hardest race for the claims (SKIP LOCKED), and no runner woken per created workload.
        started_at = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:  # as several clients would
            workloads = list(pool.map(lambda _: self.start(agent), range(500)))
        created = time.time() - started_at
        # A lease with room for heartbeats delayed by a loaded machine (2 shared cores, ASan):
        # a 2 s lease can run out under this burst and fail running workloads NodeLost.
        started_at = time.time()
        nodes = [self.runner(f"many-{i}", lease="10s", content_dir=content,
                             extra_args=["--runner-org-concurrency", "4"]) for i in range(4)]

        def summary():
            return str(self.api.sql(
                "SELECT status, failure_reason, node, count(*) FROM workloads"
                " WHERE organization_id = ? GROUP BY 1, 2, 3", (self.ctx.id,)))
        # (The warm-up workload ends NodeLost: its runner is gone.)
        self.wait_until(lambda: self.api.sql(
            "SELECT count(*) FROM workloads WHERE organization_id = ? AND status = 'running'"
            " AND id <> ?", (self.ctx.id, warm))[0][0] == 500, 180,
            lambda: "500 running workloads: " + summary())
        elapsed = time.time() - started_at
        # Started exactly once: one `running` transition per workload in the event log.
        rows = self.api.sql(
            "SELECT payload::json->>'id', count(*) FROM events"
            " WHERE type = 'workload.status_changed' AND payload::json->>'status' = 'running'"
            " AND organization_id = ? GROUP BY 1", (self.ctx.id,))
        started = {workload_id: count for workload_id, count in rows}
        twice = {w: n for w, n in started.items() if n != 1}
        self.assertEqual(twice, {}, "started more than once")
        self.assertEqual(set(started), set(workloads) | {warm}, summary())
        # Claimed exactly once: each claim pulls once, so the runners' successful pulls add up
        # to the workloads; a claim taken over (or made twice) would pull again.
        self.assertEqual(sum(self.pulls_succeeded(runner) for runner in nodes), 500)
        # Every workload records the node that runs it, and its claim is given up.
        by_node = dict(self.api.sql(
            "SELECT node, count(*) FROM workloads WHERE organization_id = ? AND id <> ?"
            " AND claimed_by IS NULL GROUP BY node", (self.ctx.id, warm)))
        self.assertEqual(sum(by_node.values()), 500, by_node)
        self.assertEqual(set(by_node), {n.node for n in nodes},
                         f"not every runner started workloads: {by_node}")
        for runner in nodes:
            self.assertNotIn("claim lost", runner.logs())
            self.assertNotIn("taking over", runner.logs())
        print(f"\n500 workloads: created in {created:.1f} s; 4 runners started them all in "
              f"{elapsed:.1f} s, by node {by_node}")

if __name__ == "__main__":
    unittest.main()
