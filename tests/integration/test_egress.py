"""Egress policy and reflection (issue 9, findings 2 and 7), black-box against agynd:

- a hostile registry that redirects a manifest GET to an internal HTTP service, and one whose
  /v2/ challenge names a token realm on that service (tests/fixtures/egress_fixture.py): with
  only the registries allowed, the internal service gets no request at all, and no byte of its
  answer appears in verify responses, workload failure messages, SSE events or agynd's log;
- secret-provider addresses on loopback, [::1], http://2130706433, http://0, agynd's own
  address and 169.254.169.254 fail POST .../test with one fixed denial text whatever the port's
  state, and nothing connects to a listening sink; an allowed address works;
- with loopback allowed (and the internal service trusted over plain HTTP) agynd does reach the
  internal service, yet still shows none of its answer: only fixed descriptions.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from agyn_testlib import AGYND, FIXTURES, Server, free_port
from runner_helpers import Org, Vault, open_stream, unique, wait_for_status

sys.path.insert(0, FIXTURES)
import egress_fixture as ef  # noqa: E402

SERVER_ARGS = ["--pull-backoff-initial", "200ms", "--pull-backoff-max", "400ms",
               "--start-grace", "2s"]
LOOPBACK_HINT = "an operator may allow it with --egress-allow"

INTERNAL = REDIRECT = REALM = SINK = SINK6 = VAULT = None


def denial(address, reason="loopback"):
    return f"egress policy denies {address} ({reason}); {LOOPBACK_HINT}"


def setUpModule():
    global INTERNAL, REDIRECT, REALM, SINK, SINK6, VAULT
    INTERNAL = ef.InternalService().start()
    REDIRECT = ef.SsrfRegistry("redirect", INTERNAL.port).start()
    REALM = ef.SsrfRegistry("realm", INTERNAL.port).start()
    SINK = ef.ConnectionSink().start()
    try:
        SINK6 = ef.ConnectionSink(socket.AF_INET6).start()
    except OSError:  # no IPv6 loopback here: the [::1] case is skipped
        SINK6 = None
    VAULT = Vault()


def tearDownModule():
    for part in (VAULT, SINK6, SINK, REALM, REDIRECT, INTERNAL):
        if part:
            part.stop()


class EgressCase(unittest.TestCase):
    @classmethod
    def egress_allow(cls):
        return ()

    @classmethod
    def extra_args(cls):
        return ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(SERVER_ARGS + list(cls.extra_args()), egress_allow=cls.egress_allow())

    @classmethod
    def tearDownClass(cls):
        logs = cls.server.logs()
        code = cls.server.close()
        if code != 0:
            raise AssertionError(f"agynd exited with {code} on SIGTERM:\n{logs[-4000:]}")
        if "ERROR: AddressSanitizer" in logs or "runtime error:" in logs:
            raise AssertionError("sanitizer report in agynd log:\n" + logs[-8000:])
        if INTERNAL.marker in logs:
            raise AssertionError("the internal service's answer reached agynd's log")

    def org(self):
        return Org(self, self.server)

    def assertNoInternalBytes(self, text, where):
        self.assertNotIn(ef.INTERNAL_MARKER, text, f"internal answer reflected in {where}")

    def failed_pull(self, o, registry, stream):
        """Starts a workload of registry/team/app:v1 with a credential; returns it failed."""
        secret = o.secret(registry.host, "alice", "alice-pw-" + unique("x"), name=unique("ips"))
        agent = o.agent(f"{registry.host}/team/app:v1")
        o.attach(secret, agent)
        workload = wait_for_status(o.member, o.ctx, o.start(agent)["id"], ("failed",), 30)
        stream.wait_for(lambda e: e.type == "workload.status_changed"
                        and e.data["id"] == workload["id"] and e.data["status"] == "failed")
        self.assertNoInternalBytes(str(workload), "the workload")
        return secret, workload


class DeniedByDefaultTest(EgressCase):
    """Only the hostile registries and the Vault are allowed; the internal service is even
    trusted for plain HTTP, so only the egress policy stands between agynd and it."""

    @classmethod
    def egress_allow(cls):
        return (REDIRECT.host, REALM.host, f"127.0.0.1:{VAULT.port}")

    @classmethod
    def extra_args(cls):
        return ("--insecure-registry", INTERNAL.host)

    def test_redirect_and_realm_never_reach_the_internal_service(self):
        o = self.org()
        hits_before = len(INTERNAL.hits)
        with open_stream(self.server, o.ctx) as stream:
            for registry in (REDIRECT, REALM):
                with self.subTest(mode=registry.mode):
                    secret, workload = self.failed_pull(o, registry, stream)
                    self.assertIn(denial(INTERNAL.host), workload["failure_message"])
                    verify = o.member.post(o.path(f"/image-pull-secrets/{secret['id']}/verify"))
                    self.assertNoInternalBytes(verify.body, "the verify response")
                    if registry is REALM:  # verify fetches a token from the realm
                        self.assertEqual(verify.status, 200, verify)
                        self.assertFalse(verify.json["ok"], verify)
                        self.assertIn(f"token service at {INTERNAL.host}: "
                                      f"{denial(INTERNAL.host)}", verify.json["message"])
            time.sleep(0.3)
            for line in stream.raw_lines:
                self.assertNoInternalBytes(line, "an SSE event")
        self.assertEqual(INTERNAL.hits[hits_before:], [], "the internal service was reached")
        # The registries themselves were asked (so the test did exercise them).
        self.assertTrue(any("/manifests/" in path for path in REDIRECT.hits), REDIRECT.hits)
        self.assertIn("/v2/", REALM.hits)

    def provider_test(self, o, config, provider_type="vault"):
        made = o.owner.post(o.path("/secret-providers"), {
            "name": unique("p"), "type": provider_type, "config": config})
        self.assertEqual(made.status, 201, made)
        resp = o.owner.post(o.path(f"/secret-providers/{made.json['id']}/test"))
        self.assertEqual(resp.status, 200, resp)
        return resp.json

    def test_provider_addresses_are_not_a_port_scanner(self):
        o = self.org()
        closed = free_port()
        own = f"127.0.0.1:{self.server.port}"
        cases = [
            (f"http://127.0.0.1:{SINK.port}", denial(f"127.0.0.1:{SINK.port}")),
            (f"https://127.0.0.1:{SINK.port}", denial(f"127.0.0.1:{SINK.port}")),
            (f"http://127.0.0.1:{closed}", denial(f"127.0.0.1:{closed}")),
            (f"http://2130706433:{SINK.port}", denial(f"127.0.0.1:{SINK.port}")),
            (f"http://0:{SINK.port}", denial(f"0.0.0.0:{SINK.port}", "unspecified")),
            (f"http://{own}", f"egress policy denies {own} (agynd's own address); an operator "
                              f"may allow it with --egress-allow {own}"),
            ("http://169.254.169.254", "egress policy denies 169.254.169.254:80 (link-local or "
                                       "cloud metadata address; never allowed)"),
        ]
        if SINK6:
            cases.append((f"http://[::1]:{SINK6.port}", denial(f"[::1]:{SINK6.port}")))
        for address, expected in cases:
            with self.subTest(address=address):
                result = self.provider_test(o, {"address": address, "token": "vault-t0ken"})
                self.assertIs(result["ok"], False, result)
                self.assertEqual(result["message"], f"vault: {expected}")
        aws = self.provider_test(o, {"region": "us-east-1", "access_key_id": "AKIAEGRESSTEST",
                                     "secret_access_key": "egress-secret-key",
                                     "endpoint_url": f"http://127.0.0.1:{SINK.port}"},
                                 "aws-secrets-manager")
        self.assertIs(aws["ok"], False, aws)
        self.assertIn(denial(f"127.0.0.1:{SINK.port}"), aws["message"])
        self.assertEqual(SINK.connections, 0, "a denied address was connected to")
        if SINK6:
            self.assertEqual(SINK6.connections, 0, "a denied address was connected to")
        # The operator allowed the Vault's exact host:port: plain HTTP to it works.
        allowed = self.provider_test(o, {"address": VAULT.address, "token": VAULT.token})
        self.assertIs(allowed["ok"], True, allowed)


class LoopbackAllowedTest(EgressCase):
    """The operator allows loopback and trusts the internal service over plain HTTP: agynd
    reaches it, but only fixed descriptions of its answers are shown."""

    @classmethod
    def egress_allow(cls):
        return ("127.0.0.0/8", "::1/128")

    @classmethod
    def extra_args(cls):
        return ("--insecure-registry", INTERNAL.host)

    def test_answers_of_other_hosts_are_never_reflected(self):
        o = self.org()
        hits_before = len(INTERNAL.hits)
        with open_stream(self.server, o.ctx) as stream:
            _, redirected = self.failed_pull(o, REDIRECT, stream)
            self.assertIn(f"from redirect target {INTERNAL.host} is not a usable manifest",
                          redirected["failure_message"])
            secret, realm = self.failed_pull(o, REALM, stream)
            self.assertIn(f"token service at {INTERNAL.host} answered 403 Forbidden",
                          realm["failure_message"])
            verify = o.member.post(o.path(f"/image-pull-secrets/{secret['id']}/verify"))
            self.assertEqual(verify.status, 200, verify)
            self.assertFalse(verify.json["ok"], verify)
            self.assertIn(f"token service at {INTERNAL.host} answered 403 Forbidden",
                          verify.json["message"])
            self.assertNoInternalBytes(verify.body, "the verify response")
            time.sleep(0.3)
            for line in stream.raw_lines:
                self.assertNoInternalBytes(line, "an SSE event")
        hits = INTERNAL.hits[hits_before:]
        self.assertTrue(any(p.startswith("/admin/") for p in hits), hits)
        self.assertTrue(any(p.startswith("/internal/token") for p in hits), hits)

    def test_own_address_needs_an_exact_entry(self):
        o = self.org()
        own = f"127.0.0.1:{self.server.port}"
        made = o.owner.post(o.path("/secret-providers"), {
            "name": unique("self"), "type": "vault",
            "config": {"address": f"http://{own}", "token": "vault-own-t0ken"}})
        self.assertEqual(made.status, 201, made)
        resp = o.owner.post(o.path(f"/secret-providers/{made.json['id']}/test"))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["message"], f"vault: egress policy denies {own} (agynd's own "
                                               f"address); an operator may allow it with "
                                               f"--egress-allow {own}")


class EgressFlagTest(unittest.TestCase):
    def test_bad_values_exit_2_with_a_clear_message(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            subprocess.run([AGYND, "init", "--data-dir", data], capture_output=True, check=True)
            for value in ("10.0.0.0/33", "not a cidr", "1.2.3.4:0", "[::1"):
                with self.subTest(value=value):
                    run = subprocess.run([AGYND, "serve", "--data-dir", data, "--listen",
                                          f"127.0.0.1:{free_port()}", "--egress-allow", value],
                                         capture_output=True, text=True, timeout=30)
                    self.assertEqual(run.returncode, 2, run)
                    self.assertIn("--egress-allow", run.stderr)
        help_text = subprocess.run([AGYND, "serve", "--help"], capture_output=True, text=True)
        self.assertIn("--egress-allow CIDR|HOST:PORT", help_text.stdout)


if __name__ == "__main__":
    unittest.main()
