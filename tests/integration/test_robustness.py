"""Robustness (issue 13): quotas per organization (429 naming the limit, exact under
concurrency), no lost update when two PATCHes of a secret provider race, no acknowledged write
lost and every value still decrypting after kill -9 of agynd during write bursts and during
`agynd keys rewrap`, and no password left in a core dump of agynd (gcore) after inline and
remote passwords were used.
"""
import base64
import concurrent.futures
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

from agyn_testlib import AGYND, FIXTURES, Server, ServerTestCase, free_port
from runner_helpers import Org, container, unique, wait_for_status

sys.path.insert(0, FIXTURES)
import fault_registry  # noqa: E402
import provider_faults  # noqa: E402

REGISTRY = None


def setUpModule():
    global REGISTRY
    REGISTRY = fault_registry.FaultRegistry(password="inline-" + secrets.token_hex(12)).start()


def tearDownModule():
    if REGISTRY:
        REGISTRY.stop()


def keys(server, *args):
    return subprocess.run([AGYND, "keys", *args, "--data-dir", server.data_dir],
                          capture_output=True, text=True, env=server.env, timeout=120)


def kill9(server):
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server.proc = None
    server.log.close()


class QuotaTest(ServerTestCase):
    server_args = ("--max-active-workloads-per-org", "2", "--max-secrets-per-org", "2",
                   "--max-image-pull-secrets-per-org", "2", "--max-attachments-per-org", "2",
                   "--start-grace", "60s", "--pull-backoff-initial", "10s")

    def assertLimit(self, resp, flag):
        self.assertError(resp, 429, code="too_many_requests")
        self.assertIn(flag, resp.json["error"]["message"])
        self.assertIn("at most 2", resp.json["error"]["message"])

    def test_active_workloads_are_bounded_and_stopping_one_frees_a_slot(self):
        o = Org(self, self.server)
        # Nothing listens there: the workloads stay starting (backing off) for the grace.
        agent = o.agent(f"127.0.0.1:{free_port()}/none/app:1")
        first, second = o.start(agent), o.start(agent)
        self.assertLimit(o.member.post(o.path("/workloads"), {"agent_id": agent["id"]}),
                         "--max-active-workloads-per-org")
        other = Org(self, self.server)  # another organization is not affected
        other.start(other.agent(f"127.0.0.1:{free_port()}/x/y:1"))
        stop = o.member.post(o.path(f"/workloads/{first['id']}/stop"))
        self.assertIn(stop.status, (200, 202), stop)
        wait_for_status(o.member, o.ctx, first["id"], ("stopped",), timeout=20)
        o.start(agent)
        self.assertLimit(o.member.post(o.path("/workloads"), {"agent_id": agent["id"]}),
                         "--max-active-workloads-per-org")
        self.assertEqual(o.get_workload(second["id"])["status"], "starting")

    def test_secrets_are_bounded_exactly_under_concurrency(self):
        o = Org(self, self.server)

        def create(i):
            return o.owner.post(o.path("/secrets"), {"name": f"s-{i}", "value": f"v-{i}"})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(create, range(12)))
        statuses = sorted(a.status for a in answers)
        self.assertEqual(statuses.count(201), 2, statuses)
        self.assertEqual(statuses.count(429), 10, statuses)
        self.assertLimit(create(99), "--max-secrets-per-org")

    def test_image_pull_secrets_and_attachments_are_bounded(self):
        o = Org(self, self.server)
        ips = [o.secret("ghcr.io", "u", "p-%d" % i) for i in range(2)]
        self.assertLimit(o.owner.post(o.path("/image-pull-secrets"), {
            "name": "third", "registry": "ghcr.io", "username": "u", "password": "p"}),
            "--max-image-pull-secrets-per-org")
        agents = [o.agent("ghcr.io/a/b:1") for _ in range(2)]
        o.attach(ips[0], agents[0])
        o.attach(ips[1], agents[0])
        self.assertLimit(o.member.post(o.path("/image-pull-secret-attachments"), {
            "image_pull_secret_id": ips[0]["id"], "agent_id": agents[1]["id"]}),
            "--max-attachments-per-org")


class ProviderPatchTest(ServerTestCase):
    def test_concurrent_patches_of_a_provider_lose_nothing(self):
        o = Org(self, self.server)
        created = o.owner.post(o.path("/secret-providers"), {
            "name": "vault-race", "type": "vault",
            "config": {"address": "http://127.0.0.1:8200", "token": "t-0", "namespace": "ns-0"}})
        self.assertEqual(created.status, 201, created)
        path = o.path(f"/secret-providers/{created.json['id']}")
        rounds = 150
        done = threading.Event()
        reverted = []

        def patch_namespace():
            for i in range(1, rounds + 1):
                resp = o.owner.patch(path, {"config": {"namespace": f"ns-{i}"}})
                self.assertEqual(resp.status, 200, resp)
            done.set()

        def patch_token():
            i = 0
            while not done.is_set():
                i += 1
                resp = o.owner.patch(path, {"config": {"token": f"t-{i}"}})
                self.assertEqual(resp.status, 200, resp)

        def watch_namespace():
            # The namespace only ever moves forward; a PATCH of the token that merged into a
            # stale copy of the config would move it back.
            highest = 0
            while not done.is_set():
                seen = int(o.member.get(path).json["config"]["namespace"][3:])
                if seen < highest:
                    reverted.append((highest, seen))
                highest = max(highest, seen)

        threads = [threading.Thread(target=f)
                   for f in (patch_namespace, patch_token, patch_token, watch_namespace)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(reverted, [], "concurrent PATCHes of the token undid namespace updates")
        final = o.owner.get(path).json
        self.assertEqual(final["config"].get("namespace"), f"ns-{rounds}",
                         "a concurrent PATCH of the token overwrote the namespace")
        self.assertIn("token", final["secret_fields_set"])


class CrashDurabilityTest(unittest.TestCase):
    """kill -9 with writes in flight, three times; then during `agynd keys rewrap`."""

    def setUp(self):
        # The bursts write as fast as the machine allows: far past the default secrets quota.
        self.server = Server(("--max-secrets-per-org", "1000000"))

    def tearDown(self):
        if self.server.proc:
            self.server.close()
        else:
            shutil.rmtree(self.server.tmp, ignore_errors=True)

    def burst(self, o, seconds, tag):
        """Writers creating secrets until seconds pass or the server dies; returns the names
        acknowledged with 201."""
        acknowledged = []
        lock = threading.Lock()
        stop_at = time.time() + seconds

        def writer(w):
            i = 0
            while time.time() < stop_at:
                name = f"{tag}-{w}-{i}"
                try:
                    resp = o.owner.post(o.path("/secrets"), {"name": name, "value": "v-" + name},
                                        timeout=5)
                except OSError:
                    return
                if resp.status == 201:
                    with lock:
                        acknowledged.append(name)
                i += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        return threads, acknowledged

    def assertAllPresentAndDecrypting(self, o, acknowledged):
        present = set()
        token = None
        while True:
            query = "?page_size=100" + (f"&page_token={token}" if token else "")
            page = o.owner.get(o.path("/secrets" + query))
            self.assertEqual(page.status, 200, page)
            present.update(item["name"] for item in page.json["items"])
            token = page.json.get("next_page_token")
            if not token:
                break
        missing = [name for name in acknowledged if name not in present]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged writes lost")
        self.server.stop()
        verified = keys(self.server, "verify")
        self.assertEqual(verified.returncode, 0, verified.stderr)
        self.assertIn("opened all", verified.stdout)
        self.server.start()

    def test_kill_9_during_write_bursts_loses_no_acknowledged_write(self):
        o = Org(self, self.server)
        acknowledged_all = []
        for cycle in range(3):
            threads, acknowledged = self.burst(o, 30, f"c{cycle}")
            time.sleep(1.0)
            kill9(self.server)
            for t in threads:
                t.join()
            self.assertGreater(len(acknowledged), 10, "the burst wrote almost nothing")
            acknowledged_all += acknowledged
            self.server.start()
            self.assertAllPresentAndDecrypting(o, acknowledged_all)

    def test_kill_9_during_rewrap_keeps_every_value_and_every_update(self):
        o = Org(self, self.server)
        # Image pull secrets with a wrong password, set right by PATCHes racing the rewrap.
        wrong = "wrong-" + secrets.token_hex(6)
        ips = [o.secret(REGISTRY.host, REGISTRY.user, wrong) for _ in range(6)]
        for i in range(150):
            self.assertEqual(o.owner.post(o.path("/secrets"), {
                "name": f"bulk-{i}", "value": "x" * 64}).status, 201)
        for cycle in range(2):
            self.assertEqual(keys(self.server, "add").returncode, 0)
            rewrap = subprocess.Popen([AGYND, "keys", "rewrap", "--data-dir",
                                       self.server.data_dir], env=self.server.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for secret in ips:  # concurrent updates while the rewrap runs
                resp = o.owner.patch(o.path(f"/image-pull-secrets/{secret['id']}"),
                                     {"password": REGISTRY.password if cycle else wrong})
                self.assertEqual(resp.status, 200, resp)
            time.sleep(0.05)
            rewrap.send_signal(signal.SIGKILL)  # the rewrap dies mid-way ...
            rewrap.communicate()
            kill9(self.server)  # ... and so does the server
            self.server.start()
            finished = keys(self.server, "rewrap")
            self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertAllPresentAndDecrypting(o, [f"bulk-{i}" for i in range(150)])
        for secret in ips:  # the last PATCH (the right password) was not lost
            answer = o.member.post(o.path(f"/image-pull-secrets/{secret['id']}/verify"))
            self.assertEqual(answer.status, 200, answer)
            self.assertTrue(answer.json["ok"], answer.json)


def readable_mappings(pid):
    """(start, end, dumped-by-the-kernel) of every readable mapping of pid, from smaps."""
    regions = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                regions.append([start, end, fields[1].startswith("r"), True])
            elif line.startswith("VmFlags:") and " dd" in " " + line.split(":", 1)[1]:
                regions[-1][3] = False  # MADV_DONTDUMP (ASan's shadow memory)
    return [(start, end) for start, end, readable, dumped in regions if readable and dumped]


def memory_image(pid, workdir):
    """Everything a core dump of pid holds, as bytes. A plain build: `gcore`. Under ASan,
    gcore would also write the terabytes of PROT_NONE allocator reservations, so gdb dumps
    each readable, dumpable mapping instead (the same bytes a core file carries)."""
    core = os.path.join(workdir, "agynd.core")
    huge = any(end - start > 1 << 40 for start, end in readable_mappings(pid))
    reserved = 0
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            reserved += end - start
    if reserved < 1 << 40 and not huge:
        dump = subprocess.run(["gcore", "-o", core, str(pid)], capture_output=True, text=True,
                              timeout=300)
        assert dump.returncode == 0, dump.stderr[-2000:]
        path = f"{core}.{pid}"
    else:
        commands = [f"dump binary memory {core}.{i} {start:#x} {end:#x}"
                    for i, (start, end) in enumerate(readable_mappings(pid))]
        script = os.path.join(workdir, "dump.gdb")
        with open(script, "w") as f:
            f.write("set pagination off\n" + "\n".join(commands) + "\n")
        dump = subprocess.run(["gdb", "-batch", "-nx", "-p", str(pid), "-x", script],
                              capture_output=True, text=True, timeout=300)
        assert dump.returncode == 0, dump.stderr[-2000:]
        path = core + ".all"
        with open(path, "wb") as out:
            for i in range(len(commands)):
                part = f"{core}.{i}"
                if os.path.exists(part):
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out)
                    os.unlink(part)
    with open(path, "rb") as f:
        image = f.read()
    os.unlink(path)
    return image


@unittest.skipUnless(shutil.which("gcore"), "gcore (Debian gdb) is not installed")
class CoreDumpTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server_args = ("--insecure-registry", REGISTRY.storage_host)
        super().setUpClass()

    def test_no_password_in_a_core_dump_after_use(self):
        vault = provider_faults.FaultyVault(token="vault-token-" + secrets.token_hex(10)).start()
        try:
            o = Org(self, self.server)
            inline = REGISTRY.password
            remote = "remote-" + secrets.token_hex(12)
            vault.write("app", {"password": remote})
            provider = o.vault_provider(vault.address, vault.token)
            good = o.agent(REGISTRY.image("ok", 0))
            o.attach(o.secret(REGISTRY.host, REGISTRY.user, inline), good)
            self.assertEqual(o.run(good, timeout=30)["status"], "running")
            remote_agent = o.agent(REGISTRY.image("remote", 0))
            o.attach(o.secret(REGISTRY.host, REGISTRY.user, provider_id=provider["id"],
                              remote_path="secret/app/password"), remote_agent)
            self.assertEqual(o.run(remote_agent, timeout=30)["status"], "failed")
            verify = o.owner.post(o.path(f"/secret-providers/{provider['id']}/test"))
            self.assertIn(verify.status, (200, 202), verify)
            time.sleep(0.5)
            image = memory_image(self.server.proc.pid, self.server.tmp)
            self.assertGreater(len(image), 1 << 20)
            needles = {"inline password": inline, "remote password": remote,
                       "vault token": vault.token,
                       "Basic credentials": base64.b64encode(
                           f"{REGISTRY.user}:{inline}".encode()).decode()}
            found = {what: len(re.findall(re.escape(text.encode()), image))
                     for what, text in needles.items()}
            self.assertEqual({k: v for k, v in found.items() if v}, {},
                             "secrets left in agynd's memory")
        finally:
            vault.stop()


if __name__ == "__main__":
    unittest.main()
