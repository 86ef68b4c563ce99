"""test_isolation.py — one organization, or an unauthenticated client, cannot stall agynd for
the others (issue: tenant isolation, findings 1 and 6), and the server's own transport is safe
(TLS, /metrics authorization).

Hostile peers: tests/fixtures/tarpit.py (accepts TCP, never answers) as a registry, and
tests/fixtures/vault_fixture.py with --delay-ms as a Vault that answers too late. Every target
is on loopback.
"""
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import http.client

from agyn_testlib import FIXTURES, Client, Server, ServerTestCase

OUTBOUND_TIMEOUT_S = 3


class Tarpit:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(FIXTURES, "tarpit.py")],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line[0] == "READY", line
        self.port = int(line[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


class SlowVault:
    def __init__(self, delay_ms):
        self.token = "slow-vault-token"
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(FIXTURES, "vault_fixture.py"), "--port", "0",
             "--token", self.token, "--delay-ms", str(delay_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        assert line[0] == "READY", line
        self.address = f"http://127.0.0.1:{int(line[1])}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class OutboundIsolationTest(ServerTestCase):
    """verify and provider test run in the outbound pool, never on the HTTP threads."""

    server_args = ("--outbound-timeout", f"{OUTBOUND_TIMEOUT_S}s", "--http-threads", "4",
                   "--outbound-threads", "4")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tarpit = Tarpit()
        cls.vault = SlowVault(delay_ms=9500)

    @classmethod
    def tearDownClass(cls):
        cls.tarpit.stop()
        cls.vault.stop()
        super().tearDownClass()

    def tarpit_secret(self, ctx, name):
        resp = ctx.owner.post(ctx.path("/image-pull-secrets"), {
            "name": name, "registry": f"127.0.0.1:{self.tarpit.port}", "username": "u",
            "password": "tarpit-password"})
        self.assertEqual(resp.status, 201, resp)
        return resp.json["id"]

    def test_parallel_verifies_do_not_delay_another_organization(self):
        a = self.server.new_org("stall-a")
        b = self.server.new_org("stall-b")
        ids = [self.tarpit_secret(a, f"t{i}") for i in range(8)]
        for i in range(5):
            self.assertEqual(b.owner.post(b.path("/agents"), {
                "name": f"agent{i}", "image": "example.com/team/app:v1"}).status, 201)
        results = []

        def verify(secret_id):
            started = time.monotonic()
            resp = a.member.post(a.path(f"/image-pull-secrets/{secret_id}/verify"), {},
                                 timeout=60)
            results.append((resp, time.monotonic() - started))

        threads = [threading.Thread(target=verify, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        time.sleep(0.3)  # every verify is in the pool now
        latencies = []
        deadline = time.monotonic() + OUTBOUND_TIMEOUT_S - 0.5
        while time.monotonic() < deadline:
            started = time.monotonic()
            resp = b.member.get(b.path("/agents?page_size=50"), timeout=10)
            latencies.append(time.monotonic() - started)
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(len(resp.json["items"]), 5)
        # Organization B's own outbound check gets a worker at once: it is answered by its own
        # deadline, not after A's queue.
        own = b.owner.post(b.path("/image-pull-secrets"), {
            "name": "b-tarpit", "registry": f"127.0.0.1:{self.tarpit.port}", "username": "u",
            "password": "tarpit-password"}).json["id"]
        started = time.monotonic()
        resp = b.member.post(b.path(f"/image-pull-secrets/{own}/verify"), {}, timeout=60)
        b_verify_s = time.monotonic() - started
        for t in threads:
            t.join(timeout=60)
        self.assertGreater(len(latencies), 20)
        p99 = percentile(latencies, 99)
        # the 50 ms target is measured by bench/isolation.py on the release build; the
        # regression (API requests stalled behind verifies for minutes) fails here.
        self.assertLess(p99, 0.5, f"p99 {p99 * 1000:.1f} ms over {len(latencies)} requests")
        print(f"\n  B's GET agents during A's 8 tarpit verifies: {len(latencies)} requests, "
              f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
              file=sys.stderr)
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(resp.json["ok"])
        self.assertLess(b_verify_s, OUTBOUND_TIMEOUT_S + 1.5)
        self.assertEqual(len(results), 8)
        for resp, seconds in results:
            self.assertEqual(resp.status, 200, resp)
            self.assertFalse(resp.json["ok"])
            self.assertIn(f"127.0.0.1:{self.tarpit.port}", resp.json["message"])
            self.assertIn(f"within {OUTBOUND_TIMEOUT_S} s", resp.json["message"])
            self.assertNotIn("tarpit-password", resp.body)
            self.assertLess(seconds, OUTBOUND_TIMEOUT_S + 1.5)

    def test_two_hostile_organizations_leave_a_worker_for_a_third(self):
        orgs = [self.server.new_org(f"hog-{i}") for i in range(2)]
        ids = [(o, self.tarpit_secret(o, f"hog{n}")) for o in orgs for n in range(6)]
        threads = [threading.Thread(target=lambda o=o, i=i: o.member.post(
            o.path(f"/image-pull-secrets/{i}/verify"), {}, timeout=60)) for o, i in ids]
        for t in threads:
            t.start()
        time.sleep(0.5)  # four workers: two for the first organization, one for the second
        c = self.server.new_org("hog-victim")
        closed = _free_port()
        secret = c.owner.post(c.path("/image-pull-secrets"), {
            "name": "closed", "registry": f"127.0.0.1:{closed}", "username": "u",
            "password": "closed-port-password"}).json["id"]
        started = time.monotonic()
        resp = c.member.post(c.path(f"/image-pull-secrets/{secret}/verify"), {}, timeout=60)
        seconds = time.monotonic() - started
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(resp.json["ok"])
        self.assertNotIn("within", resp.json["message"])  # answered by the target, not the deadline
        self.assertLess(seconds, 1.5, resp)

    def test_too_many_checks_of_one_organization_are_refused(self):
        a = self.server.new_org("flood-a")
        secret_id = self.tarpit_secret(a, "flood")
        statuses = []

        def verify():
            resp = a.member.post(a.path(f"/image-pull-secrets/{secret_id}/verify"), {},
                                 timeout=60)
            statuses.append((resp.status, resp.headers.get("Retry-After")))

        threads = [threading.Thread(target=verify) for _ in range(14)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        refused = [s for s in statuses if s[0] == 429]
        answered = [s for s in statuses if s[0] == 200]
        self.assertEqual(len(refused) + len(answered), 14, statuses)
        self.assertGreaterEqual(len(refused), 4, statuses)  # 2 running + 8 waiting at most
        self.assertTrue(all(r[1] for r in refused), statuses)

    def test_slow_vault_is_cut_at_the_deadline(self):
        a = self.server.new_org("slow-vault")
        b = self.server.new_org("slow-vault-other")
        provider = a.owner.post(a.path("/secret-providers"), {
            "name": "slow", "type": "vault",
            "config": {"address": self.vault.address, "token": self.vault.token}})
        self.assertEqual(provider.status, 201, provider)
        done = {}

        def test_provider():
            started = time.monotonic()
            done["resp"] = a.owner.post(
                a.path(f"/secret-providers/{provider.json['id']}/test"), {}, timeout=60)
            done["seconds"] = time.monotonic() - started

        t = threading.Thread(target=test_provider)
        t.start()
        time.sleep(0.2)
        started = time.monotonic()
        self.assertEqual(b.member.get(b.path("/agents")).status, 200)
        self.assertLess(time.monotonic() - started, 0.5)
        t.join(timeout=60)
        resp = done["resp"]
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(resp.json["ok"])
        self.assertIn("vault", resp.json["message"])
        self.assertNotIn(self.vault.token, resp.body)
        self.assertLess(done["seconds"], OUTBOUND_TIMEOUT_S + 1.5)


class ExhaustionTest(unittest.TestCase):
    """Clients that never finish their headers or bodies cannot starve the others."""

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        logs = cls.server.logs()
        code = cls.server.close()
        assert code == 0, logs[-4000:]
        assert "ERROR: AddressSanitizer" not in logs, logs[-8000:]

    def healthz_from(self, source):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5,
                                          source_address=(source, 0))
        started = time.monotonic()
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status, time.monotonic() - started

    def test_unfinished_headers(self):
        socks = []
        try:
            for _ in range(1000):
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect(("127.0.0.1", self.server.port))
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                except OSError:
                    s.close()
                    continue
                socks.append(s)
            status, seconds = self.healthz_from("127.0.0.2")
            self.assertEqual(status, 200)
            self.assertLess(seconds, 1.0)
            # A client that keeps its connection busy with one header line every 2 s is cut at
            # the header deadline (10 s); the idle timeout closes every silent one.
            trickler = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                                source_address=("127.0.0.3", 0))
            trickler.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            cut_after = None
            started = last_line = time.monotonic()
            trickler.settimeout(0.25)
            while cut_after is None and time.monotonic() - started < 16:
                try:
                    if time.monotonic() - last_line >= 2:
                        trickler.sendall(b"X-Trickle: 1\r\n")
                        last_line = time.monotonic()
                    if trickler.recv(4096) == b"":
                        cut_after = time.monotonic() - started
                except socket.timeout:
                    pass
                except OSError:
                    cut_after = time.monotonic() - started
            trickler.close()
            self.assertIsNotNone(cut_after, "a trickling header was never cut")
            self.assertLess(cut_after, 14)
            still_open = 0
            for s in socks:
                s.settimeout(0.01)
                try:
                    if s.recv(1) != b"":
                        still_open += 1
                except socket.timeout:
                    still_open += 1
                except OSError:
                    pass
            self.assertEqual(still_open, 0)
        finally:
            for s in socks:
                s.close()
        status, _ = self.healthz_from("127.0.0.1")
        self.assertEqual(status, 200)

    def test_bodies_without_a_token_are_refused_unread(self):
        # A method no route takes asks for a token first (401); every answer comes before the
        # body is read.
        cases = [("POST", "/anything", 405), ("PUT", "/", 405), ("POST", "/healthz", 401),
                 ("POST", "/metrics", 401), ("POST", "/api/v1/session", 413)]
        for method, path, status in cases:
            with self.subTest(method=method, path=path):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
                s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          f"application/json\r\nContent-Length: 1048576\r\n\r\n".encode()
                          + b"x" * 1024)
                answer = s.recv(64)
                s.close()
                self.assertTrue(answer.startswith(f"HTTP/1.1 {status}".encode()), answer)
        # Sign-in still works, with its small body.
        resp = Client(self.server.port).post("/api/v1/session", {"token": "not-a-token"})
        self.assertEqual(resp.status, 401, resp)

    def test_unauthenticated_bodies_are_never_buffered(self):
        before = rss_kib(self.server.proc.pid)
        socks = []
        try:
            for i in range(200):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                             source_address=(f"127.0.1.{1 + i % 50}", 0))
                s.sendall(b"POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
                          + b"x" * 65536)
                socks.append(s)
            answered = 0
            for s in socks:
                try:
                    if s.recv(64).startswith(b"HTTP/1.1 401"):
                        answered += 1
                except OSError:
                    pass
            self.assertEqual(answered, 200)
            grown_mib = (rss_kib(self.server.proc.pid) - before) / 1024
            self.assertLess(grown_mib, 24, f"RSS grew by {grown_mib:.1f} MiB")
        finally:
            for s in socks:
                s.close()


class TransportTest(unittest.TestCase):
    """--tls-cert/--tls-key serve HTTPS; /metrics needs a token or its own address."""

    def test_tls(self):
        tmp = tempfile.mkdtemp(prefix="agyn-tls-")
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        server = Server(["--tls-cert", cert, "--tls-key", key], https=True, ca_file=cert)
        try:
            context = ssl.create_default_context(cafile=cert)
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context,
                                               timeout=5)
            conn.request("GET", "/api/v1/me",
                         headers={"Authorization": f"Bearer {server.admin_token}"})
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
            plain = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            with self.assertRaises((OSError, http.client.HTTPException)):
                plain.request("GET", "/healthz")
                plain.getresponse().read()
        finally:
            self.assertEqual(server.close(), 0)

    def test_tls_flags_are_checked(self):
        from agyn_testlib import AGYND
        result = subprocess.run([AGYND, "serve", "--tls-cert", "/nonexistent.pem"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--tls-key", result.stderr)

    def test_metrics_authorization(self):
        metrics_port = _free_port()
        server = Server(["--metrics-token", "scrape-token-123",
                         "--metrics-listen", f"127.0.0.1:{metrics_port}"])
        try:
            anonymous = Client(server.port)
            self.assertEqual(anonymous.get("/metrics").status, 401)
            ctx = server.new_org("metrics")
            self.assertEqual(ctx.owner.get("/metrics").status, 401)
            self.assertEqual(server.admin().get("/metrics").status, 200)
            scraped = Client(server.port, "scrape-token-123").get("/metrics")
            self.assertEqual(scraped.status, 200)
            self.assertIn("agyn_http_requests_total", scraped.body)
            # The separate address serves /metrics only, and still wants the token.
            separate = Client(metrics_port, "scrape-token-123")
            self.assertEqual(separate.get("/metrics").status, 200)
            self.assertEqual(Client(metrics_port).get("/metrics").status, 401)
            self.assertEqual(separate.get("/api/v1/me").status, 404)
        finally:
            self.assertEqual(server.close(), 0)

    def test_metrics_listen_without_token(self):
        metrics_port = _free_port()
        server = Server(["--metrics-listen", f"127.0.0.1:{metrics_port}"])
        try:
            self.assertEqual(Client(metrics_port).get("/metrics").status, 200)
            self.assertEqual(Client(server.port).get("/metrics").status, 401)
        finally:
            self.assertEqual(server.close(), 0)


def _free_port():
    from agyn_testlib import free_port
    return free_port()


if __name__ == "__main__":
    unittest.main()
