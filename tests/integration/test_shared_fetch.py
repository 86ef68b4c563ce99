"""Concurrent pulls share fetches: workloads that need the same cold image at once fetch each
blob from the registry once (counted in the registry's own access log) — one pull fetches it,
the others wait for it — while each still authenticates its own manifest with its own
credential first, so a workload whose credential is wrong fails (image_pull_failed) and never
gets the image. Across processes the protocol is an flock on <content>/ingest/<hex>.lock: this
test holds that lock itself, as another runner process fetching the blob would, and checks
that agynd waits for it, never past the start grace, and fetches the blob itself when the lock
is let go without the blob. Last, two `agynd runner` processes on one PostgreSQL and one
content store start 4 workloads of one cold image between them and fetch each blob once."""
import fcntl
import os
import time
import unittest

import agyn_testlib
from agyn_testlib import Server
from runner_helpers import Org, container, registry_fixture, unique, wait_for_status

_database = agyn_testlib.TEST_DATABASE
from test_scale_out import RunnerProcess  # noqa: E402  (its import switches to PostgreSQL)

agyn_testlib.TEST_DATABASE = _database  # only TwoRunnerProcessesTest needs PostgreSQL

USERS = {f"puller{i}": f"pull-{i}-{os.urandom(6).hex()}" for i in range(4)}
LAYER_BYTES = 160 * 1024
# Per connection, registry -> agynd: every layer takes about 0.6 s, so 4 pulls started
# together are all in the middle of the same blobs.
THROTTLE = 256 * 1024
GRACE_S = 4


def push(registry, layers):
    """A new repository with an image of layers uncompressed random layers."""
    repo = unique("team/shared")
    image = registry.push_image(repo, "v1", [LAYER_BYTES] * layers, compress=False)
    image["ref"] = f"{registry.host}/{repo}:v1"
    image["repo"] = repo
    image["blobs"] = [image["config_digest"]] + image["layer_digests"]
    return image


def fetches(registry, image):
    """{digest: blob GETs the registry answered 200} for the image's config and layers."""
    gets = registry.blob_gets()
    return {d: gets.get(d, {"requests": 0})["requests"] for d in image["blobs"]}


class SharedFetchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = registry_fixture.Registry(
            "htpasswd", USERS, throttle_bytes_per_second=THROTTLE, access_log=True).start()
        cls.servers = []
        try:
            cls.server = cls.start_server(["--runner-threads", "6",
                                           "--runner-org-concurrency", "6"])
            cls.short = cls.start_server(["--start-grace", f"{GRACE_S}s"])
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_server(cls, args):
        server = Server(args)
        cls.servers.append(server)
        return server

    @classmethod
    def tearDownClass(cls):
        failures = []
        for server in cls.servers:
            logs = server.logs()
            code = server.close()
            if code or "AddressSanitizer" in logs or "runtime error:" in logs:
                failures.append(f"agynd exited with {code}:\n{logs[-4000:]}")
        cls.registry.stop()
        if failures:
            raise AssertionError("\n".join(failures))

    def push(self, layers):
        return push(self.registry, layers)

    def fetches(self, image):
        return fetches(self.registry, image)

    def agent_with_secret(self, org, image, user, password):
        secret = org.secret(self.registry.host, user, password)
        agent = org.agent(image["ref"])
        org.attach(secret, agent)
        return agent, secret

    def test_four_cold_pulls_fetch_each_blob_once_and_a_wrong_credential_gets_nothing(self):
        image = self.push(4)
        org = Org(self, self.server)
        agents = [self.agent_with_secret(org, image, user, password)
                  for user, password in USERS.items()]
        wrong, _ = self.agent_with_secret(org, image, "puller0", "not-" + USERS["puller0"])
        started = time.time()
        ids = [org.start(agent)["id"] for agent, _ in agents]
        wrong_id = org.start(wrong)["id"]
        done = [wait_for_status(org.member, org.ctx, i, timeout=60) for i in ids]
        elapsed = time.time() - started
        for workload, (_, secret) in zip(done, agents):
            self.assertEqual(workload["status"], "running", workload)
            c = container(workload, "main")
            self.assertEqual(c["image_digest"], image["manifest_digest"], c)
            self.assertEqual(c["credential"]["image_pull_secret_id"], secret["id"], c)
        failed = wait_for_status(org.member, org.ctx, wrong_id, timeout=30)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["failure_reason"], "image_pull_failed", failed)
        c = container(failed, "main")
        self.assertIsNone(c["image_digest"], c)
        self.assertIsNone(c["credential"], c)
        # Every blob once from the registry: one pull fetched it, three waited for it.
        self.assertEqual(self.fetches(image), {d: 1 for d in image["blobs"]},
                         f"pulls took {elapsed:.1f} s")
        # Each workload asked for the manifest with its own credential: 4 answered 200, the
        # wrong credential's request 401.
        manifests = self.registry.manifest_gets()[(image["repo"], "v1")]
        self.assertEqual(manifests.get(200), 4, manifests)
        self.assertGreaterEqual(manifests.get(401, 0), 1, manifests)
        # No lock file is left behind.
        ingest = os.path.join(self.server.data_dir, "content", "ingest")
        self.assertEqual([f for f in os.listdir(ingest) if f.endswith(".lock")], [])

    def hold_blob_lock(self, server, digest):
        """Takes the blob's ingest lock the way another runner process on this content store
        would while fetching it; returns the open file (close it to let go)."""
        path = os.path.join(server.data_dir, "content", "ingest", digest[len("sha256:"):] + ".lock")
        f = open(path, "a+")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return f

    def test_a_pull_waits_for_another_process_fetch_but_not_past_the_start_grace(self):
        image = self.push(1)
        layer = image["layer_digests"][0]
        org = Org(self, self.short)
        user, password = next(iter(USERS.items()))
        agent, _ = self.agent_with_secret(org, image, user, password)
        lock = self.hold_blob_lock(self.short, layer)
        try:
            started = time.time()
            workload = org.start(agent)
            failed = wait_for_status(org.member, org.ctx, workload["id"], timeout=GRACE_S + 20)
            waited = time.time() - started
        finally:
            lock.close()
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["failure_reason"], "image_pull_failed", failed)
        self.assertIn("start grace", failed["failure_message"])
        self.assertLess(waited, GRACE_S + 10, "the waiting pull outlived its start grace")
        self.assertEqual(self.fetches(image)[layer], 0, "fetched while another process was")

    def test_a_pull_fetches_a_blob_itself_when_the_other_process_lets_go_without_it(self):
        image = self.push(2)
        layer = image["layer_digests"][0]
        org = Org(self, self.short)
        user, password = list(USERS.items())[1]
        agent, _ = self.agent_with_secret(org, image, user, password)
        lock = self.hold_blob_lock(self.short, layer)
        try:
            workload = org.start(agent)
            # The other blobs arrive; the held one is awaited, not fetched.
            deadline = time.time() + GRACE_S
            while time.time() < deadline and self.fetches(image)[image["blobs"][2]] == 0:
                time.sleep(0.05)
            time.sleep(0.3)
            self.assertEqual(org.get_workload(workload["id"])["status"], "starting")
            self.assertEqual(self.fetches(image)[layer], 0)
        finally:
            lock.close()  # the "other process" failed: no blob stored
        done = wait_for_status(org.member, org.ctx, workload["id"], timeout=GRACE_S + 20)
        self.assertEqual(done["status"], "running", done)
        self.assertEqual(self.fetches(image), {d: 1 for d in image["blobs"]})


class TwoRunnerProcessesTest(unittest.TestCase):
    """Two `agynd runner` processes (4 threads, at most 2 workloads of one organization each)
    on one API server's PostgreSQL and data directory, so one content store."""

    @classmethod
    def setUpClass(cls):
        if not os.access(os.path.join(agyn_testlib.PG_BIN, "pg_ctl"), os.X_OK):
            raise unittest.SkipTest("PostgreSQL 15 is not installed (pg_ctl)")
        cls.registry = registry_fixture.Registry(
            "htpasswd", USERS, throttle_bytes_per_second=THROTTLE, access_log=True).start()
        cls.api = None
        try:
            agyn_testlib.TEST_DATABASE = "postgres"
            try:
                cls.api = Server(["--no-runner", "--database-pool", "4"])
            finally:
                agyn_testlib.TEST_DATABASE = _database
        except Exception:
            cls.registry.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        logs = cls.api.logs()
        code = cls.api.close()
        cls.registry.stop()
        if code:
            raise AssertionError(f"the API server exited with {code}:\n{logs[-4000:]}")

    def test_two_runner_processes_fetch_each_blob_once(self):
        runners = [RunnerProcess(self.api, f"share-{i}", threads=4, lease="10s") for i in range(2)]
        try:
            image = push(self.registry, 4)
            org = Org(self, self.api)
            ids = []
            for user, password in USERS.items():
                secret = org.secret(self.registry.host, user, password)
                agent = org.agent(image["ref"])
                org.attach(secret, agent)
                ids.append(org.start(agent)["id"])
            for workload_id in ids:
                done = wait_for_status(org.member, org.ctx, workload_id, timeout=60)
                self.assertEqual(done["status"], "running", done)
                self.assertEqual(container(done, "main")["image_digest"],
                                 image["manifest_digest"])
            nodes = {self.api.sql("SELECT node FROM workloads WHERE id = ?", (i,))[0][0]
                     for i in ids}
            self.assertEqual(nodes, {"share-0", "share-1"}, "one runner started them all")
            self.assertEqual(fetches(self.registry, image),
                             {d: 1 for d in image["blobs"]})
        finally:
            logs = ""
            for runner in runners:
                self.assertEqual(runner.stop(), 0, runner.logs()[-4000:])
                logs += runner.logs()
            for bad in ("AddressSanitizer", "runtime error:"):
                self.assertNotIn(bad, logs, logs[-8000:])


if __name__ == "__main__":
    unittest.main()
