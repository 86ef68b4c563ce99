"""Hardening regressions of issue 9 (findings 4, 5 and 8): write-only credentials cannot be
redirected to a host of the caller's choosing, event streams end with their token or Console
session, logs cannot be forged, the session cookie is Secure behind HTTPS, and the
server-admin token can be rotated while agynd serves.

Every target is a loopback server started here; the credential sink (tests/fixtures/
credential_sink.py) records the credential headers that reach it.
"""
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import unittest

from agyn_testlib import AGYND, FIXTURES, Client, Server, ServerTestCase, free_port

sys.path.insert(0, FIXTURES)
from credential_sink import CredentialSink  # noqa: E402


def unused_address():
    """A loopback URL nothing listens on: the original destination of a credential."""
    return f"http://127.0.0.1:{free_port()}"


class DestinationChangeTest(ServerTestCase):
    """Finding 4: PATCHing where a credential goes, without the credential, is 422."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sink = CredentialSink()
        cls.org = cls.server.new_org("destinations")

    @classmethod
    def tearDownClass(cls):
        cls.sink.stop()
        super().tearDownClass()

    def setUp(self):
        self.seen_before = len(self.sink.requests())

    def sink_saw_nothing(self):
        self.assertEqual(self.sink.requests()[self.seen_before:], [])

    def create(self, collection, body):
        resp = self.org.owner.post(self.org.path(f"/{collection}"), body)
        self.assertEqual(resp.status, 201, resp)
        return resp.json

    def vault(self, token):
        return self.create("secret-providers", {
            "name": f"vault-{secrets.token_hex(3)}", "type": "vault",
            "config": {"address": unused_address(), "token": token}})

    def test_vault_address_change_needs_the_token(self):
        stored_token = "s." + secrets.token_hex(12)
        provider = self.vault(stored_token)
        path = self.org.path(f"/secret-providers/{provider['id']}")
        resp = self.org.owner.patch(path, {"config": {"address": self.sink.url}})
        self.assertError(resp, 422, "config.token", "unprocessable_entity")
        self.assertIn("config.address", resp.json["error"]["message"])
        self.assertIn("again", resp.json["error"]["message"])
        self.assertNotIn(stored_token, resp.body)
        # Nothing moved: testing still goes to the old address, never to the sink.
        self.assertEqual(self.org.owner.get(path).json["config"]["address"],
                         provider["config"]["address"])
        self.org.owner.post(path + "/test")
        self.sink_saw_nothing()
        # Other fields (and the same address) change without the token.
        resp = self.org.owner.patch(path, {"name": provider["name"] + "-x",
                                           "config": {"address": provider["config"]["address"],
                                                      "namespace": "team-a"}})
        self.assertEqual(resp.status, 200, resp)
        # With the token in the same request the move is allowed, and the new token (only)
        # goes there.
        new_token = "s." + secrets.token_hex(12)
        resp = self.org.owner.patch(path, {"config": {"address": self.sink.url,
                                                      "token": new_token}})
        self.assertEqual(resp.status, 200, resp)
        self.org.owner.post(path + "/test")
        self.assertIn(new_token, self.sink.credentials())
        self.assertNotIn(stored_token, self.sink.credentials())

    def test_aws_endpoint_and_region_changes_need_every_stored_credential(self):
        session_token = "session-" + secrets.token_hex(16)
        provider = self.create("secret-providers", {
            "name": f"aws-{secrets.token_hex(3)}", "type": "aws-secrets-manager",
            "config": {"region": "us-east-1", "access_key_id": "AKIAEXAMPLE",
                       "secret_access_key": "stored-" + secrets.token_hex(16),
                       "session_token": session_token, "endpoint_url": unused_address()}})
        path = self.org.path(f"/secret-providers/{provider['id']}")
        self.assertError(self.org.owner.patch(path, {"config": {"endpoint_url": self.sink.url}}),
                         422, "config.secret_access_key")
        self.assertError(self.org.owner.patch(path, {"config": {"region": "eu-west-1"}}),
                         422, "config.secret_access_key")
        # Removing the endpoint (back to AWS's default) is a move too.
        self.assertError(self.org.owner.patch(path, {"config": {"endpoint_url": None}}),
                         422, "config.secret_access_key")
        # The session token is a credential sent along: it must be restated (or removed).
        self.assertError(self.org.owner.patch(path, {"config": {
            "endpoint_url": self.sink.url, "secret_access_key": "new-" + secrets.token_hex(8)}}),
            422, "config.session_token")
        self.org.owner.post(path + "/test")
        self.sink_saw_nothing()
        new_session = "new-session-" + secrets.token_hex(16)
        resp = self.org.owner.patch(path, {"config": {
            "endpoint_url": self.sink.url, "secret_access_key": "new-" + secrets.token_hex(8),
            "session_token": new_session}})
        self.assertEqual(resp.status, 200, resp)
        self.org.owner.post(path + "/test")
        self.assertIn(new_session, self.sink.credentials())
        self.assertNotIn(session_token, self.sink.credentials())

    def test_registry_change_needs_the_password(self):
        stored = "stored-" + secrets.token_hex(16)
        ips = self.create("image-pull-secrets", {
            "name": f"ips-{secrets.token_hex(3)}", "registry": f"127.0.0.1:{free_port()}",
            "username": "ci", "password": stored})
        path = self.org.path(f"/image-pull-secrets/{ips['id']}")
        resp = self.org.owner.patch(path, {"registry": self.sink.host})
        self.assertError(resp, 422, "password", "unprocessable_entity")
        self.assertIn("registry", resp.json["error"]["message"])
        self.assertEqual(self.org.owner.get(path).json["registry"], ips["registry"])
        self.org.owner.post(path + "/verify")
        self.sink_saw_nothing()
        # The same registry in another spelling is no move.
        resp = self.org.owner.patch(path, {"registry": "http://" + ips["registry"] + "/",
                                           "username": "ci2"})
        self.assertEqual(resp.status, 200, resp)
        new = "new-" + secrets.token_hex(16)
        resp = self.org.owner.patch(path, {"registry": self.sink.host, "password": new})
        self.assertEqual(resp.status, 200, resp)
        self.org.owner.post(path + "/verify")
        self.assertTrue(self.sink.credentials(), "verify never reached the new registry")
        sent = " ".join(self.sink.credentials())
        import base64
        basic = [base64.b64decode(v.split()[1]).decode() for v in self.sink.credentials()
                 if v.startswith("Basic ")]
        self.assertIn(f"ci2:{new}", basic)
        self.assertNotIn(stored, sent + " ".join(basic))

    def test_registry_change_of_a_referenced_password_restates_the_reference(self):
        secret = self.create("secrets", {"name": f"pw-{secrets.token_hex(3)}",
                                         "value": "from-secret-" + secrets.token_hex(8)})
        ips = self.create("image-pull-secrets", {
            "name": f"ref-{secrets.token_hex(3)}", "registry": f"127.0.0.1:{free_port()}",
            "username": "ci", "password_secret_id": secret["id"]})
        path = self.org.path(f"/image-pull-secrets/{ips['id']}")
        self.assertError(self.org.owner.patch(path, {"registry": self.sink.host}), 422,
                         "password_secret_id")
        self.org.owner.post(path + "/verify")
        self.sink_saw_nothing()
        resp = self.org.owner.patch(path, {"registry": self.sink.host,
                                           "password_secret_id": secret["id"]})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["registry"], self.sink.host)


def read_sse(port, path, headers, events, done, timeout=30):
    """Reads an event stream into events [(type, data)] until it ends; sets done then."""
    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            events.append(("status", resp.status))
            kind, data = None, []
            while True:
                line = resp.readline()
                if not line:
                    break
                text = line.decode().rstrip("\r\n")
                if text.startswith(":"):
                    events.append(("comment", text[1:].strip()))
                elif text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: "):
                    data.append(text[6:])
                elif text == "" and kind:
                    events.append((kind, "\n".join(data)))
                    kind, data = None, []
        except OSError as e:
            events.append(("error", repr(e)))
        finally:
            conn.close()
            events.append(("closed", time.time()))
            done.set()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_until(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class StreamAuthorityTest(ServerTestCase):
    """Finding 5: event streams end with their token or session."""

    def open_stream(self, org, headers):
        events, done = [], threading.Event()
        read_sse(self.server.port, org.path("/events"), headers, events, done)
        self.assertTrue(wait_until(lambda: ("comment", "connected") in events, 10), events)
        self.assertEqual(events[0], ("status", 200))
        return events, done

    def assert_delivers(self, org, events):
        name = f"ips-{secrets.token_hex(3)}"
        created = org.owner.post(org.path("/image-pull-secrets"), {
            "name": name, "registry": "ghcr.io", "username": "ci", "password": "pw"})
        self.assertEqual(created.status, 201, created)
        self.assertTrue(wait_until(lambda: any(k == "image_pull_secret.created" and name in d
                                               for k, d in events), 10), events)

    def assert_ends_unauthorized(self, events, done, within):
        started = time.time()
        self.assertTrue(done.wait(within), f"the stream outlived its authority: {events}")
        self.assertLess(time.time() - started, within)
        kinds = [k for k, _ in events]
        self.assertIn("unauthorized", kinds, events)
        data = json.loads(dict((k, d) for k, d in events if k == "unauthorized")["unauthorized"])
        self.assertEqual(data["code"], "unauthenticated")
        self.assertTrue(data["message"])
        # It is the last event.
        self.assertEqual([k for k in kinds if k not in ("closed", "comment")][-1],
                         "unauthorized", events)

    def test_revoked_token_ends_its_stream(self):
        org = self.server.new_org("stream-token")
        admin = self.server.admin()
        token = admin.post(org.path("/tokens"), {"name": "watcher", "role": "member"}).json
        events, done = self.open_stream(org, {"Authorization": f"Bearer {token['token']}"})
        self.assert_delivers(org, events)
        # A stream of another token is unaffected by the revocation.
        other_events, other_done = self.open_stream(org, {
            "Authorization": f"Bearer {org.member.token}"})
        self.assertEqual(admin.delete(org.path(f"/tokens/{token['id']}")).status, 204)
        self.assert_ends_unauthorized(events, done, within=3)
        self.assertFalse(other_done.is_set(), other_events)
        self.assert_delivers(org, other_events)
        # Deleting the organization ends the admin's stream of it too.
        admin_events, admin_done = self.open_stream(org, {
            "Authorization": f"Bearer {self.server.admin_token}"})
        # (It holds things: the delete must say so, ?cascade=true removes them too.)
        self.assertIn(admin.delete(org.base + "?cascade=true").status, (200, 204))
        self.assert_ends_unauthorized(admin_events, admin_done, within=3)
        self.assert_ends_unauthorized(other_events, other_done, within=3)

    def test_signed_out_session_ends_its_stream(self):
        org = self.server.new_org("stream-session")
        resp = Client(self.server.port).post("/api/v1/session", {"token": org.member.token})
        self.assertEqual(resp.status, 201, resp)
        cookie = resp.headers["Set-Cookie"].split(";")[0]
        csrf = resp.json["csrf_token"]
        events, done = self.open_stream(org, {"Cookie": cookie})
        self.assert_delivers(org, events)
        out = Client(self.server.port).raw("DELETE", "/api/v1/session",
                                           headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        self.assertEqual(out.status, 204, out)
        self.assert_ends_unauthorized(events, done, within=3)
        # The cookie no longer opens a stream.
        again = Client(self.server.port).raw("GET", org.path("/events"),
                                             headers={"Cookie": cookie})
        self.assertEqual(again.status, 401, again)


class LogForgingTest(ServerTestCase):
    """Finding 8: a client-chosen method cannot add log fields or terminal escapes."""

    def send_raw(self, request_line):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass

    def test_forged_method_stays_one_field(self):
        self.send_raw(b'GET\tlevel=error\tmsg="forged" /healthz HTTP/1.1')
        self.send_raw(b"\x1b[31mGET\x1b[0m /healthz HTTP/1.1")
        self.send_raw(b"GET\x7fX /healthz HTTP/1.1")
        Client(self.server.port).get("/healthz")
        time.sleep(0.3)
        logs = self.server.logs()
        self.assertNotIn("\x1b", logs)
        self.assertNotIn("\x7f", logs)
        pair = r'[a-z_]+=(?:"(?:[^"\\\x00-\x1f]|\\.)*"|[^ "=\\\x00-\x1f\x7f]+)'
        for line in logs.splitlines():
            if not line.startswith("ts="):
                continue
            # Every line is a clean sequence of key=value pairs with one level and one msg.
            self.assertRegex(line, rf"^{pair}( {pair})*$")
            pairs = [p.split("=", 1) for p in re.findall(pair, line)]
            keys = [k for k, _ in pairs]
            self.assertEqual(keys.count("level"), 1, line)
            self.assertEqual(keys.count("msg"), 1, line)
            self.assertNotEqual(dict(pairs)["level"], "error", line)


class SecureCookieTest(unittest.TestCase):
    """Finding 8: the session cookie is Secure when clients use HTTPS."""

    def cookie_for(self, server):
        org = server.new_org("cookies")
        resp = Client(server.port).post("/api/v1/session", {"token": org.member.token})
        self.assertEqual(resp.status, 201, resp)
        out = Client(server.port).raw("DELETE", "/api/v1/session", headers={
            "Cookie": resp.headers["Set-Cookie"].split(";")[0],
            "X-CSRF-Token": resp.json["csrf_token"]})
        return resp.headers["Set-Cookie"], out.headers.get("Set-Cookie", "")

    def test_secure_only_behind_https(self):
        for args, secure in (([], False), (["--public-url", "https://agyn.example"], True)):
            server = Server(args)
            try:
                sign_in, sign_out = self.cookie_for(server)
            finally:
                self.assertEqual(server.close(), 0)
            attributes = [a.strip() for a in sign_in.split(";")]
            self.assertEqual("Secure" in attributes, secure, sign_in)
            self.assertIn("HttpOnly", attributes)
            self.assertIn("SameSite=Strict", attributes)
            self.assertEqual("Secure" in [a.strip() for a in sign_out.split(";")], secure,
                             sign_out)


class AdminTokenRotateTest(ServerTestCase):
    """Finding 8: `agynd admin-token rotate` replaces the server-admin token."""

    def rotate(self, data_dir):
        return subprocess.run([AGYND, "admin-token", "rotate", "--data-dir", data_dir],
                              capture_output=True, text=True, timeout=30,
                              # the server's database (AGYN_DATABASE on PostgreSQL) only with
                              # its own data directory
                              env=self.server.env if data_dir == self.server.data_dir
                              else None)

    def test_rotate_while_serving(self):
        old = self.server.admin()
        self.assertEqual(old.get("/api/v1/organizations").status, 200)
        org = self.server.new_org("rotation")
        events, done = [], threading.Event()
        read_sse(self.server.port, org.path("/events"),
                 {"Authorization": f"Bearer {self.server.admin_token}"}, events, done)
        self.assertTrue(wait_until(lambda: ("comment", "connected") in events, 10), events)

        result = self.rotate(self.server.data_dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stdout)
        new_token = lines[0]
        self.assertRegex(new_token, r"^agyn_[A-Za-z0-9_-]{43}$")
        self.assertNotEqual(new_token, self.server.admin_token)
        self.assertNotIn(new_token, result.stderr)
        # The running server stops accepting the old token within its cache's second.
        self.assertTrue(wait_until(
            lambda: old.get("/api/v1/organizations").status == 401, 3))
        new = Client(self.server.port, new_token)
        self.assertEqual(new.get("/api/v1/organizations").status, 200)
        # A stream opened with the old token ends (another process revoked it: the periodic
        # re-check notices).
        self.assertTrue(done.wait(5), events)
        self.assertIn("unauthorized", [k for k, _ in events])
        # Organization tokens are untouched.
        self.assertEqual(org.owner.get(org.path("/agents")).status, 200)
        self.server.admin_token = new_token

    def test_rotate_refuses_a_missing_data_dir(self):
        result = self.rotate(os.path.join(self.server.tmp, "no-such-dir"))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertIn("no database", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.server.tmp, "no-such-dir")))

    def test_usage(self):
        result = subprocess.run([AGYND, "admin-token", "--data-dir", self.server.data_dir],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("admin-token rotate", result.stderr)


if __name__ == "__main__":
    unittest.main()
