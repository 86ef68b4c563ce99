"""test_cli.py — black-box tests of `agyn`, the command-line client, against a real agynd and a
real private registry (tests/fixtures/registry_fixture.py, htpasswd auth).

The seed's flow end to end through the CLI only: the server-admin token creates an organization
and an owner token; the owner creates an agent whose image is in the private registry, an inline
image pull secret with --password-stdin, lists it (table and JSON), attaches it, starts a
workload that pulls with it, rotates the password in place (the next start uses the new value),
imports a Docker config.json, and deletes with and without --detach. Also: API errors are
printed with their field and exit 1, usage errors exit 2, --help works at every level, the event
stream is followed until SIGINT, and no password ever appears in anything the CLI printed.

The binary comes from AGYN_CLI_BIN (set by CTest), else build/bin/agyn next to AGYND_BIN.
"""
import base64
import concurrent.futures
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from agyn_testlib import AGYND, FIXTURES, ServerTestCase, backend_independent

sys.path.insert(0, FIXTURES)
import registry_fixture  # noqa: E402

AGYN = os.environ.get("AGYN_CLI_BIN", os.path.join(os.path.dirname(AGYND), "agyn"))

PASSWORDS = set()  # every password / value the tests gave the CLI
OUTPUTS = []  # (command, stdout, stderr) of every CLI run


def password(tag):
    value = f"{tag}-{secrets.token_hex(12)}"
    PASSWORDS.add(value)
    return value


class CliTestCase(ServerTestCase):
    server_args = ("--pull-backoff-initial", "1s", "--start-grace", "30s")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = f"http://127.0.0.1:{cls.server.port}"
        cls.owner_token = None

    def agyn(self, *args, token=None, stdin=None, env=None, timeout=60):
        """Runs the CLI with AGYN_API_URL / AGYN_TOKEN in its environment."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        full_env["AGYN_API_URL"] = self.url
        if token is not None:
            full_env["AGYN_TOKEN"] = token
        full_env.update(env or {})
        proc = subprocess.run([AGYN, *args], input=stdin, capture_output=True, text=True,
                              env=full_env, timeout=timeout)
        OUTPUTS.append((" ".join(args), proc.stdout, proc.stderr))
        for value in PASSWORDS:
            self.assertNotIn(value, proc.stdout + proc.stderr, f"password printed by {args}")
        self.assertNotIn("AddressSanitizer", proc.stderr)
        self.assertNotIn("runtime error:", proc.stderr)
        return proc

    @staticmethod
    def parallel(*calls):
        """Runs independent calls at once (each CLI start costs a few hundred ms under the
        sanitizers); returns their results in order."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    def agyn_many(self, commands, **kw):
        return self.parallel(*[lambda args=args: self.agyn(*args, **kw) for args in commands])

    def ok(self, *args, **kw):
        proc = self.agyn(*args, **kw)
        self.assertEqual(proc.returncode, 0, f"agyn {' '.join(args)}: {proc.stderr}")
        return proc

    def json_of(self, *args, **kw):
        return json.loads(self.ok(*args, "-o", "json", **kw).stdout)

    def new_owner(self, name):
        """An organization (made with the admin token) and an owner token for it."""
        admin = self.server.admin_token
        org = self.json_of("organizations", "create", name, token=admin)
        token = self.json_of("--org", name, "tokens", "create", "--name", "ci", "--role", "owner",
                             token=admin)
        self.assertEqual(token["organization_id"], org["id"])
        self.assertTrue(token["token"].startswith("agyn_"))
        return org["id"], token["token"]

    def table(self, text):
        """Rows of an aligned table as dicts (header → cell); columns start after 2 spaces."""
        lines = text.rstrip("\n").splitlines()
        header = lines[0]
        starts = [i for i in range(len(header))
                  if header[i] != " " and (i == 0 or header[max(0, i - 2):i] == "  ")]
        names = [header[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        return [{n: line[s:e].strip() for n, s, e in zip(names, starts, starts[1:] + [None])}
                for line in lines[1:]]


class SeedFlow(CliTestCase):
    """The seed document's flow, entirely through the CLI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry_password = password("registry-pw")
        cls.registry = registry_fixture.Registry(auth="htpasswd",
                                                 users={"ci-robot": cls.registry_password})
        cls.registry.start()
        cls.registry.push_image("team/support", "v1", layer_sizes=[2048])

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        super().tearDownClass()

    def start_workload(self, token, expect_ok):
        proc = self.agyn("workloads", "start", "--agent", "support", "--wait", "--timeout", "40",
                         "-o", "json", token=token)
        self.assertEqual(proc.returncode, 0 if expect_ok else 1, proc.stderr)
        return json.loads(proc.stdout), proc.stderr

    def test_seed_flow(self):
        org_id, owner = self.new_owner("acme")
        host = self.registry.host
        image = f"{host}/team/support:v1"

        agent = self.json_of("agents", "create", "--name", "support", "--image", image,
                             token=owner)
        self.assertEqual(agent["organization_id"], org_id)

        # Create an inline image pull secret; the password comes from stdin.
        first = self.registry_password
        created = self.ok("image-pull-secrets", "create", "--name", "ghcr-private",
                          "--registry", host, "--username", "ci-robot", "--password-stdin",
                          "--description", "CI robot", token=owner, stdin=first + "\n")
        fields = dict(line.split(":", 1) for line in created.stdout.splitlines())
        self.assertEqual(fields["name"].strip(), "ghcr-private")
        self.assertEqual(fields["password_source"].strip(), "inline")
        self.assertNotIn("password:", created.stdout)

        # List: a table by default, the API's JSON with -o json.
        rows = self.table(self.ok("image-pull-secrets", "list", token=owner).stdout)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["NAME"], rows[0]["REGISTRY"], rows[0]["USERNAME"],
                          rows[0]["SOURCE"]), ("ghcr-private", host, "ci-robot", "inline"))
        listed = self.json_of("ips", "list", token=owner)["items"]
        self.assertEqual([i["name"] for i in listed], ["ghcr-private"])
        self.assertNotIn("password", listed[0])
        secret_id = listed[0]["id"]
        self.assertEqual(self.json_of("image-pull-secrets", "get", secret_id, token=owner)["name"],
                         "ghcr-private")

        # Attach it to the agent (by names); the agent lists it.
        attachment = self.json_of("attachments", "attach", "--secret", "ghcr-private",
                                  "--agent", "support", token=owner)
        self.assertEqual((attachment["image_pull_secret_id"], attachment["agent_id"]),
                         (secret_id, agent["id"]))
        attached = self.json_of("agents", "image-pull-secrets", "support", token=owner)["items"]
        self.assertEqual([(a["id"], a["attachment_id"]) for a in attached],
                         [(secret_id, attachment["id"])])
        rows = self.table(self.ok("attachments", "list", "--agent", "support",
                                  token=owner).stdout)
        self.assertEqual((rows[0]["SECRET"], rows[0]["TARGET"]),
                         ("ghcr-private", "agent support"))

        # A workload pulls the private image with it.
        workload, _ = self.start_workload(owner, expect_ok=True)
        self.assertEqual(workload["status"], "running")
        self.assertEqual(workload["containers"][0]["credential"]["name"], "ghcr-private")
        self.ok("workloads", "stop", workload["id"], "--wait", token=owner)

        # Rotate in place with a wrong password: the next start uses it and fails for good.
        wrong = password("rotated-wrong")
        updated = self.json_of("image-pull-secrets", "update", "ghcr-private",
                               "--password-stdin", token=owner, stdin=wrong)
        self.assertGreater(updated["password_updated_at"], listed[0]["password_updated_at"])
        workload, stderr = self.start_workload(owner, expect_ok=False)
        self.assertEqual((workload["status"], workload["failure_reason"]),
                         ("failed", "image_pull_failed"))
        self.assertIn("image_pull_failed", stderr)
        self.assertEqual(workload["containers"][0]["reason"], "ImagePullBackOff")
        self.assertIn("ghcr-private", workload["containers"][0]["message"])

        # Rotate back (from a file this time): running again.
        with tempfile.NamedTemporaryFile("w", suffix=".pw") as f:
            f.write(first + "\n")
            f.flush()
            self.ok("image-pull-secrets", "update", secret_id, "--password-file", f.name,
                    token=owner)
        workload, _ = self.start_workload(owner, expect_ok=True)
        self.assertEqual(workload["status"], "running")
        self.ok("workloads", "stop", workload["id"], token=owner)
        rows = self.table(self.ok("workloads", "list", "--agent", "support", token=owner).stdout)
        self.assertEqual(len(rows), 3)

        # Import a Docker config.json: one secret per entry.
        quay_pw, hub_pw = password("quay-pw"), password("hub-pw")
        hub_auth = base64.b64encode(f"hubrobot:{hub_pw}".encode()).decode()
        PASSWORDS.add(hub_auth)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"auths": {"quay.io": {"username": "quayrobot", "password": quay_pw},
                                 "https://index.docker.io/v1/": {"auth": hub_auth}}}, f)
            f.flush()
            imported = self.ok("image-pull-secrets", "import", f.name, token=owner)
        rows = self.table(imported.stdout)
        self.assertEqual(sorted((r["NAME"], r["USERNAME"]) for r in rows),
                         [("docker.io", "hubrobot"), ("quay.io", "quayrobot")])
        self.assertIn("Imported 2 of 2", imported.stderr)

        # Delete: refused while attached, naming where; --detach detaches and deletes.
        refused = self.agyn("image-pull-secrets", "delete", "ghcr-private", token=owner)
        self.assertEqual(refused.returncode, 1)
        self.assertIn('agent "support"', refused.stderr)
        self.assertIn("--detach", refused.stderr)
        done = self.ok("image-pull-secrets", "delete", "ghcr-private", "--detach", token=owner)
        self.assertIn(secret_id, done.stdout)
        self.assertEqual(self.json_of("attachments", "list", token=owner)["items"], [])
        # Not attached: deleted without --detach.
        self.ok("image-pull-secrets", "delete", "quay.io", token=owner)
        names = [i["name"] for i in self.json_of("ips", "list", token=owner)["items"]]
        self.assertEqual(names, ["docker.io"])


class Commands(CliTestCase):
    def setUp(self):
        if not type(self).owner_token:
            type(self).org_id, type(self).owner_token = self.new_owner("commands")

    def test_api_errors_name_the_field_and_exit_1(self):
        owner = self.owner_token
        self.ok("image-pull-secrets", "create", "--name", "dup", "--registry", "ghcr.io",
                "--username", "u", "--password-stdin", token=owner, stdin=password("dup-pw"))

        def create(name, registry, username):
            return self.agyn("ips", "create", "--name", name, "--registry", registry,
                             "--username", username, "--password-stdin", token=owner,
                             stdin=password(f"{name}-pw"))

        bad, dup, user, missing, unknown_id, bad_token, down = self.parallel(
            lambda: create("bad", "not a registry!", "u"),
            lambda: create("dup", "ghcr.io", "u"),
            lambda: create("colon", "ghcr.io", "a:b"),
            lambda: self.agyn("ips", "get", "no-such-secret", token=owner),
            lambda: self.agyn("ips", "get", "00000000-0000-4000-8000-000000000000", token=owner),
            lambda: self.agyn("agents", "list", token="agyn_" + "x" * 43),
            lambda: self.agyn("--api-url", "http://127.0.0.1:1", "agents", "list", token=owner))
        for proc in (bad, dup, user, missing, unknown_id, bad_token, down):
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stdout, "")
        self.assertTrue(bad.stderr.startswith("agyn: registry: "), bad.stderr)
        self.assertTrue(dup.stderr.startswith("agyn: name: "), dup.stderr)
        self.assertTrue(user.stderr.startswith("agyn: username: "), user.stderr)
        self.assertIn('image pull secret "no-such-secret" not found', missing.stderr)
        self.assertIn("not found", unknown_id.stderr)
        self.assertIn("invalid API token", bad_token.stderr)
        self.assertIn("cannot reach the API at http://127.0.0.1:1", down.stderr)

    @backend_independent
    def test_usage_errors_exit_2(self):
        owner = self.owner_token
        cases = [
            (),
            ("no-such-resource", "list"),
            ("image-pull-secrets",),
            ("image-pull-secrets", "frobnicate"),
            ("image-pull-secrets", "list", "--no-such-flag"),
            ("image-pull-secrets", "get"),
            ("image-pull-secrets", "get", "a", "b"),
            ("image-pull-secrets", "create", "--name", "x", "--registry", "ghcr.io"),
            ("image-pull-secrets", "create", "--name", "x", "--registry", "ghcr.io",
             "--username", "u"),
            ("image-pull-secrets", "create", "--name", "x", "--registry", "ghcr.io",
             "--username", "u", "--password-stdin", "--secret", "s"),
            ("image-pull-secrets", "create", "--name", "x", "--registry", "ghcr.io",
             "--username", "u", "--provider", "p"),
            ("image-pull-secrets", "update", "x"),
            ("image-pull-secrets", "list", "-o", "xml"),
            ("image-pull-secrets", "list", "--registry"),
            ("image-pull-secrets", "delete", "x", "--detach=yes"),
            ("attachments", "attach", "--secret", "s"),
            ("attachments", "attach", "--secret", "s", "--agent", "a", "--hook", "h"),
            ("tokens", "create", "--name", "a", "--name", "b"),
        ]
        for args, proc in zip(cases, self.agyn_many(cases, token=owner)):
            with self.subTest(args=args):
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertTrue(proc.stderr.startswith(("agyn: ", "Usage: agyn")), proc.stderr)
                self.assertEqual(proc.stdout, "")
        no_token = self.agyn("agents", "list")
        self.assertEqual(no_token.returncode, 2)
        self.assertIn("AGYN_TOKEN", no_token.stderr)
        admin_without_org = self.agyn("agents", "list", token=self.server.admin_token)
        self.assertEqual(admin_without_org.returncode, 2)
        self.assertIn("--org", admin_without_org.stderr)

    @backend_independent
    def test_help_at_every_level(self):
        top = self.ok("--help")
        self.assertIn("image-pull-secrets", top.stdout)
        self.assertIn("AGYN_API_URL", top.stdout)
        resource = self.ok("image-pull-secrets", "--help")
        for verb in ("list", "get", "create", "update", "delete", "import", "verify"):
            self.assertIn(f"  {verb}", resource.stdout)
        verb = self.ok("image-pull-secrets", "create", "--help")
        for flag in ("--password-stdin", "--password-file", "--secret", "--provider",
                     "--remote-path", "--registry", "--username", "UNSAFE"):
            self.assertIn(flag, verb.stdout)
        self.assertEqual(self.ok("help", "image-pull-secrets", "create").stdout, verb.stdout)
        more = [("attachments", "attach", "-h"), ("workloads", "start", "--help"),
                ("secret-providers", "create", "--help"), ("events", "follow", "--help"),
                ("--org", "x", "tokens", "create", "--name", "n", "--help")]
        for args, proc in zip(more, self.agyn_many(more)):
            with self.subTest(args=args):
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn("Usage: agyn", proc.stdout)

    def test_secret_sources_and_member_token(self):
        owner = self.owner_token
        value = password("secret-value")
        self.ok("secrets", "create", "--name", "registry-token", "--value-stdin", token=owner,
                stdin=value + "\n")
        made = self.json_of("ips", "create", "--name", "from-secret", "--registry",
                            "registry.example.com:5000/team", "--username", "bot", "--secret",
                            "registry-token", token=owner)
        self.assertEqual((made["password_source"], made["registry"]),
                         ("secret", "registry.example.com:5000/team"))
        rows = self.table(self.ok("ips", "list", "--secret", "registry-token",
                                  token=owner).stdout)
        self.assertEqual([r["NAME"] for r in rows], ["from-secret"])
        refused = self.agyn("secrets", "delete", "registry-token", token=owner)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("from-secret", refused.stderr)

        member = self.json_of("tokens", "create", "--name", "viewer", "--role", "member",
                              token=owner)["token"]
        denied = self.agyn("ips", "create", "--name", "m", "--registry", "ghcr.io",
                           "--username", "u", "--password-stdin", token=member,
                           stdin=password("member-pw"))
        self.assertEqual(denied.returncode, 1)
        self.assertIn("role owner", denied.stderr)
        self.ok("agents", "create", "--name", "helper", "--image", "nginx", token=owner)
        self.ok("attachments", "attach", "--secret", "from-secret", "--agent", "helper",
                token=member)
        self.ok("attachments", "detach", "--secret", "from-secret", "--agent", "helper",
                token=member)
        self.assertEqual(self.json_of("attachments", "list", "--agent", "helper",
                                      token=member)["items"], [])
        self.assertEqual([t["name"] for t in self.json_of("tokens", "list",
                                                          token=owner)["items"]],
                         ["ci", "viewer"])

    def test_events_follow_until_sigint(self):
        owner = self.owner_token
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_API_URL=self.url, AGYN_TOKEN=owner)
        proc = subprocess.Popen([AGYN, "events", "follow", "--last-event-id", "0", "-o", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            self.ok("ips", "create", "--name", "evented", "--registry", "ghcr.io", "--username",
                    "u", "--password-stdin", token=owner, stdin=password("evented-pw"))
            deadline = time.time() + 20
            seen = None
            while time.time() < deadline and not seen:
                line = proc.stdout.readline()
                if not line:
                    break
                event = json.loads(line)
                if (event.get("event") == "image_pull_secret.created"
                        and event["data"].get("name") == "evented"):
                    seen = event
            self.assertIsNotNone(seen, "no image_pull_secret.created event printed")
            self.assertIsInstance(seen["id"], int)
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        OUTPUTS.append(("events follow", out, err))
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn("AddressSanitizer", err)


class ZzzNothingLeaked(unittest.TestCase):
    def test_no_password_in_any_output(self):
        self.assertTrue(PASSWORDS)
        for command, out, err in OUTPUTS:
            for value in PASSWORDS:
                self.assertNotIn(value, out, command)
                self.assertNotIn(value, err, command)


if __name__ == "__main__":
    unittest.main()
