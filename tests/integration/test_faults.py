"""The fault matrix (issue 13): a registry and a secret provider that fail on cue
(tests/fixtures/fault_registry.py, tests/fixtures/provider_faults.py). Each fault ends in the
right state — a passing fault is retried with back-off and the workload runs; a lasting one
fails it when the start grace ends; a permanent answer fails it at once — the content store
holds only verified blobs, and no credential reaches another origin (the blob storage origin
never sees an Authorization header; the password goes only to the token service).
"""
import base64
import os
import time
import unittest

from agyn_testlib import FIXTURES, Server, ServerTestCase  # noqa: F401
from runner_helpers import Org, container, content_blobs, unique, wait_for_status

import sys

sys.path.insert(0, FIXTURES)
import fault_registry  # noqa: E402
import provider_faults  # noqa: E402

GRACE_S = 8.0
REGISTRY = None
VAULT = None


def setUpModule():
    global REGISTRY, VAULT
    REGISTRY = fault_registry.FaultRegistry().start()
    VAULT = provider_faults.FaultyVault().start()


def tearDownModule():
    if REGISTRY:
        REGISTRY.stop()
    if VAULT:
        VAULT.stop()


class FaultTestCase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server_args = ("--runner-threads", "12", "--runner-org-concurrency", "12",
                           "--start-grace", f"{int(GRACE_S)}s", "--pull-backoff-initial",
                           "200ms", "--pull-backoff-max", "500ms", "--insecure-registry",
                           REGISTRY.storage_host)
        super().setUpClass()

    def setUp(self):
        self.o = Org(self, self.server)

    def agent_with_inline_secret(self, image):
        agent = self.o.agent(image)
        secret = self.o.secret(REGISTRY.host, REGISTRY.user, REGISTRY.password,
                               name=unique("fault"))
        self.o.attach(secret, agent)
        return agent

    def assertStoreVerified(self):
        blobs = content_blobs(os.path.join(self.server.data_dir, "content"))
        for name, actual in blobs.items():
            self.assertEqual(name, actual, "a blob in the content store does not match its name")
        ingest = os.path.join(self.server.data_dir, "content", "ingest")
        deadline = time.time() + 3
        while os.path.isdir(ingest) and os.listdir(ingest) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(os.listdir(ingest) if os.path.isdir(ingest) else [], [])

    def assertNoCredentialElsewhere(self):
        seen = REGISTRY.seen_authorization
        self.assertEqual(seen["storage"], [], "a credential reached the blob storage origin")
        basic = "Basic " + base64.b64encode(
            f"{REGISTRY.user}:{REGISTRY.password}".encode()).decode()
        self.assertNotIn(basic, seen["registry"], "the password went to the registry API")
        self.assertTrue(all(v.startswith("Bearer ") for v in seen["registry"]), seen["registry"])

    def assertFailedAfterGrace(self, workload, started, *fragments):
        self.assertEqual(workload["status"], "failed", workload)
        self.assertEqual(workload["failure_reason"], "image_pull_failed", workload)
        main = container(workload, "main")
        self.assertEqual(main["reason"], "ImagePullBackOff", main)
        self.assertGreaterEqual(time.time() - started, GRACE_S - 1.5,
                                "a transient fault failed the workload before the start grace")
        for fragment in fragments:
            self.assertIn(fragment, main["message"])
        return main


class RegistryFaultTest(FaultTestCase):
    def test_every_passing_fault_is_retried_and_the_workload_runs(self):
        started = {}
        for scenario in fault_registry.SCENARIOS:
            if scenario == "endless-manifest":
                continue  # a permanent answer: see the next test
            agent = self.agent_with_inline_secret(REGISTRY.image(scenario, 1))
            started[scenario] = self.o.start(agent)["id"]
        for scenario, workload_id in started.items():
            with self.subTest(scenario=scenario):
                workload = wait_for_status(self.o.member, self.o.ctx, workload_id,
                                           timeout=GRACE_S + 10)
                self.assertEqual(workload["status"], "running",
                                 f"{scenario}: {container(workload, 'main')}")
                self.assertEqual(container(workload, "main")["image_digest"],
                                 REGISTRY.manifest_digest(scenario, 1))
                self.assertGreaterEqual(REGISTRY.faults_done.get(
                    f"fault/{scenario}-1", 0), 1, f"{scenario}: the fault never happened")
        self.assertStoreVerified()
        self.assertNoCredentialElsewhere()

    def test_an_endless_manifest_is_cut_off(self):
        agent = self.agent_with_inline_secret(REGISTRY.image("endless-manifest", "always"))
        started = time.time()
        workload = self.o.run(agent, timeout=GRACE_S + 10)
        self.assertEqual(workload["status"], "failed", workload)
        self.assertLess(time.time() - started, GRACE_S + 5)
        self.assertIn("endless-manifest", container(workload, "main")["message"])
        self.assertStoreVerified()
        self.assertNoCredentialElsewhere()

    def test_lasting_transient_faults_fail_when_the_grace_ends(self):
        started_at = time.time()
        ids = {}
        for scenario in ("status-500", "html-error", "wrong-digest", "token-down"):
            agent = self.agent_with_inline_secret(REGISTRY.image(scenario, "always"))
            ids[scenario] = self.o.start(agent)["id"]
        for scenario, workload_id in ids.items():
            with self.subTest(scenario=scenario):
                workload = wait_for_status(self.o.member, self.o.ctx, workload_id,
                                           timeout=GRACE_S + 10)
                main = self.assertFailedAfterGrace(workload, started_at)
                self.assertNotIn("<html", main["message"].lower(), "raw HTML in the message")
                self.assertNotIn("<script", main["message"].lower())
        self.assertStoreVerified()
        self.assertNoCredentialElsewhere()


class ProviderFaultTest(FaultTestCase):
    def agent_with_remote_secret(self, path, provider=None, key="password"):
        image = REGISTRY.image("ok", 0)
        agent = self.o.agent(image)
        provider = provider or self.o.vault_provider(VAULT.address, VAULT.token,
                                                     name=unique("faulty-vault"))
        secret = self.o.secret(REGISTRY.host, REGISTRY.user, name=unique("remote"),
                               provider_id=provider["id"], remote_path=f"secret/{path}/{key}")
        self.o.attach(secret, agent)
        return agent, provider

    def test_passing_provider_faults_are_retried_and_the_workload_runs(self):
        ids = {}
        for mode in ("down", "slow", "status-500", "status-429", "malformed"):
            path = unique(mode)
            VAULT.write(path, {"password": REGISTRY.password})
            VAULT.set_fault(path, mode, 2)
            agent, _ = self.agent_with_remote_secret(path)
            ids[mode] = (self.o.start(agent)["id"], path)
        for mode, (workload_id, path) in ids.items():
            with self.subTest(mode=mode):
                workload = wait_for_status(self.o.member, self.o.ctx, workload_id,
                                           timeout=GRACE_S + 10)
                self.assertEqual(workload["status"], "running",
                                 f"{mode}: {container(workload, 'main')}")
                self.assertGreaterEqual(VAULT.reads.get(path, 0), 3 if mode != "slow" else 1)
        self.assertNoCredentialElsewhere()

    def test_a_provider_outage_shorter_than_the_grace_is_waited_out(self):
        vault = provider_faults.FaultyVault(token=VAULT.token)
        path = unique("later")
        vault.write(path, {"password": REGISTRY.password})
        provider = self.o.vault_provider(vault.address, vault.token, name="vault-later")
        try:
            agent, _ = self.agent_with_remote_secret(path, provider)
            workload = self.o.start(agent)
            # While Vault is down the container backs off naming the provider.
            deadline = time.time() + 3
            main = {}
            while time.time() < deadline:
                main = container(self.o.get_workload(workload["id"]), "main")
                if main.get("reason") == "ImagePullBackOff":
                    break
                time.sleep(0.05)
            self.assertEqual(main.get("reason"), "ImagePullBackOff", main)
            self.assertIn('secret provider "vault-later"', main["message"])
            self.assertIn("unreachable for now", main["message"])
            vault.start()
            done = wait_for_status(self.o.member, self.o.ctx, workload["id"], timeout=GRACE_S + 5)
            self.assertEqual(done["status"], "running", container(done, "main"))
        finally:
            vault.stop()

    def test_a_lasting_provider_outage_fails_when_the_grace_ends(self):
        path = unique("always-500")
        VAULT.write(path, {"password": REGISTRY.password})
        VAULT.set_fault(path, "status-500", 1 << 30)
        agent, _ = self.agent_with_remote_secret(path)
        started = time.time()
        workload = self.o.run(agent, timeout=GRACE_S + 10)
        self.assertFailedAfterGrace(workload, started, "secret provider", "500")

    def test_permanent_provider_answers_fail_at_once(self):
        cases = {}
        # 404: no secret at the path; missing key; 403: a wrong token.
        missing_path = unique("never-written")
        cases["404"] = self.agent_with_remote_secret(missing_path)[0]
        key_path = unique("no-key")
        VAULT.write(key_path, {"other": "x"})
        cases["missing key"] = self.agent_with_remote_secret(key_path)[0]
        wrong = self.o.vault_provider(VAULT.address, "wrong-token", name=unique("wrong"))
        cases["403"] = self.agent_with_remote_secret(key_path, wrong)[0]
        started = time.time()
        ids = {name: self.o.start(agent)["id"] for name, agent in cases.items()}
        for name, workload_id in ids.items():
            with self.subTest(case=name):
                workload = wait_for_status(self.o.member, self.o.ctx, workload_id, timeout=10)
                self.assertEqual(workload["status"], "failed", workload)
                self.assertNotIn("unreachable for now", container(workload, "main")["message"])
        self.assertLess(time.time() - started, GRACE_S - 2,
                        "a permanent provider answer waited for the start grace")


if __name__ == "__main__":
    unittest.main()
