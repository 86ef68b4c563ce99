"""Scale-out on one PostgreSQL: two API replicas (`agynd serve --no-runner`) sharing the
database and the keyring file. Events committed on one replica reach SSE clients of the other
through LISTEN/NOTIFY, Last-Event-ID resumes on either, a revoked token is refused by both at
once, and a PostgreSQL restart under a write burst answers 503 (never 500) and loses no
acknowledged write. Runner processes (`agynd runner`, pull-only) hold leased claims: a runner
killed mid-pull loses its workload to another runner once the lease runs out, a killed
runner's running workloads fail with NodeLost unless its node comes back within the lease, and
200 workloads across 3 runners each start exactly once. Always runs on PostgreSQL (a throwaway cluster, agyn_testlib.Postgres)."""
import os
import signal
import subprocess
import threading
import time
import unittest

import agyn_testlib
from agyn_testlib import AGYND, Client, Server, free_port
from runner_helpers import open_stream, registry_fixture, unique, wait_for_status

agyn_testlib.TEST_DATABASE = "postgres"


class Replica:
    """Another `agynd serve --no-runner` on the first replica's database and keyring."""

    def __init__(self, first):
        self.port = free_port()
        self.log_path = os.path.join(first.tmp, f"replica-{self.port}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [AGYND, "serve", "--no-runner", "--data-dir", first.data_dir, "--listen",
             f"127.0.0.1:{self.port}", "--database-pool", "4"] + first.database_args,
            stdout=self.log, stderr=self.log, env=first.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if Client(self.port).get("/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("replica did not start:\n" + self.logs())

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, token):
        return Client(self.port, token)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code


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

    def __init__(self, first, node, content_dir=None, threads=4, lease=LEASE):
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
        # 4 x 24 KiB at 24 KiB/s: a pull takes about 4 s.
        cls.slow = registry_fixture.Registry(throttle_bytes_per_second=24 * 1024).start()
        cls.slow.push_image("team/slow", "v1", [24 * 1024] * 4)

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
        self.fail(f"timed out waiting for {what}")

    def test_a_runner_killed_mid_pull_loses_the_workload_to_another_after_the_lease(self):
        agent = self.agent(f"{self.slow.host}/team/slow:v1")
        a = self.runner("node-a", content_dir=os.path.join(self.api.tmp, "content-a"))
        workload_id = self.start(agent)
        self.wait_until(lambda: self.row(workload_id)[1], 10, "node-a's claim")
        time.sleep(1.0)  # mid-pull
        self.assertEqual(self.row(workload_id)[:3][0], "starting", "the pull was not slow")
        a.kill()
        killed_at = time.time()
        b = self.runner("node-b", content_dir=os.path.join(self.api.tmp, "content-b"))
        status, claimed_by, node, lease, _ = self.row(workload_id)
        self.assertEqual((status, node), ("starting", "node-a"))
        self.assertTrue(claimed_by.startswith("node-a-"), claimed_by)
        self.wait_until(lambda: (self.row(workload_id)[2] or "") == "node-b", 10,
                        "node-b's takeover")
        self.assertGreater(time.time() - killed_at, LEASE_S - 0.5, "taken over before the lease")
        done = wait_for_status(self.ctx.member, self.ctx, workload_id, timeout=30)
        self.assertEqual(done["status"], "running", done)
        self.assertEqual(self.row(workload_id)[2], "node-b")
        self.assertEqual(self.times_started(workload_id), 1)
        self.assertIn("taking over a claim whose lease ran out", b.logs())

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

    def test_200_workloads_across_3_runners_each_start_exactly_once(self):
        agent = self.agent(f"{self.registry.host}/team/fast:v1")
        # A lease with room for heartbeats delayed by a loaded machine (2 shared cores, ASan):
        # a 2 s lease can run out under this burst and fail running workloads NodeLost.
        nodes = [self.runner(f"many-{i}", lease="10s") for i in range(3)]
        warm = self.start(agent)  # warms the shared content directory
        self.assertEqual(wait_for_status(self.ctx.member, self.ctx, warm)["status"], "running")
        started_at = time.time()
        workloads = [self.start(agent) for _ in range(200)]
        self.wait_until(lambda: self.api.sql(
            "SELECT count(*) FROM workloads WHERE organization_id = ? AND status = 'running'",
            (self.ctx.id,))[0][0] == 201, 90, "200 running workloads: " + str(self.api.sql(
                "SELECT status, failure_reason, node, count(*) FROM workloads"
                " WHERE organization_id = ? GROUP BY 1, 2, 3", (self.ctx.id,))))
        elapsed = time.time() - started_at
        rows = self.api.sql(
            "SELECT payload::json->>'id', count(*) FROM events"
            " WHERE type = 'workload.status_changed' AND payload::json->>'status' = 'running'"
            " AND organization_id = ? GROUP BY 1", (self.ctx.id,))
        started = {workload_id: count for workload_id, count in rows}
        for workload_id in workloads:
            self.assertEqual(started.get(workload_id), 1, workload_id)
        by_node = dict(self.api.sql(
            "SELECT node, count(*) FROM workloads WHERE organization_id = ? GROUP BY node",
            (self.ctx.id,)))
        self.assertEqual(sum(by_node.values()), 201, by_node)
        self.assertTrue(set(by_node) <= {n.node for n in nodes}, by_node)
        self.assertGreater(len(by_node), 1, f"one runner did everything: {by_node}")
        for runner in nodes:
            self.assertNotIn("claim lost", runner.logs())
        print(f"\n200 workloads on 3 runners: {elapsed:.1f} s, by node {by_node}")


if __name__ == "__main__":
    unittest.main()
