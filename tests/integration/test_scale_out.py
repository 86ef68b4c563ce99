"""Scale-out on one PostgreSQL: two API replicas (`agynd serve --no-runner`) sharing the
database and the keyring file. Events committed on one replica reach SSE clients of the other
through LISTEN/NOTIFY, Last-Event-ID resumes on either, a revoked token is refused by both at
once, and a PostgreSQL restart under a write burst answers 503 (never 500) and loses no
acknowledged write. Always runs on PostgreSQL (a throwaway cluster, agyn_testlib.Postgres)."""
import os
import signal
import subprocess
import threading
import time
import unittest

import agyn_testlib
from agyn_testlib import AGYND, Client, Server, free_port
from runner_helpers import open_stream

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


if __name__ == "__main__":
    unittest.main()
