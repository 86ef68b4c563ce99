"""The embedded runner, black-box, against real registries (Debian's docker-registry behind
tests/fixtures/registry_fixture.py: htpasswd, token-auth and anonymous, some throttled) and the
Vault stand-in: which credential each container's pull uses (matching, ordering, fall-through,
MCP / hook attachments), password resolution at start (inline and remote rotation, a snapshot
per pull), failures (permanent, transient with back-off and start grace, unreachable provider,
missing remote secret, decryption failure, corrupted blobs), stop, verify, the SSE event stream
and /metrics.

The server runs with short back-off and start grace so the file stays fast under ASan; the
slow, throttled pulls run in SlowPullTest, whose grace leaves them time (the start grace
also ends a download in progress).
"""
import datetime
import os
import time
import unittest

from agyn_testlib import ServerTestCase, free_port
from runner_helpers import (Org, SseStream, Vault, container, content_blobs, metric,
                            open_stream, parse_metrics, registry_fixture, unique,
                            wait_for_status)

rf = registry_fixture

GRACE_S = 2.0
SERVER_ARGS = ("--pull-backoff-initial", "200ms", "--pull-backoff-max", "800ms",
               "--start-grace", "2s")

USERS = {"alice": "alice-pw-7f3e1c", "bob": "bob-pw-91d0aa"}
TOKEN_USERS = {"carol": "carol-pw-5b2e77", "dave": "dave-pw-0c4f19"}
LONG_USERS = {"frank": "frank-pw-8e21b4"}
WRONG = "not-the-password-3a9d"
# Every password handed to agynd in this file; none may ever appear in an event.
PASSWORDS = set(USERS.values()) | set(TOKEN_USERS.values()) | set(LONG_USERS.values()) | {WRONG}

REG = {}     # name -> started rf.Registry
IMAGES = {}  # (registry name, "repo:tag") -> push_image result
VAULT = None


def setUpModule():
    global VAULT
    try:
        REG["ht"] = rf.Registry(auth="htpasswd", users=USERS).start()
        REG["tok"] = rf.Registry(auth="token", users=TOKEN_USERS).start()
        REG["anon"] = rf.Registry().start()
        # For test_token_expiry_during_a_long_pull; started here so that agynd can be told
        # about their token services (see RunnerCase.setUpClass).
        for variant in ("told", "stale"):
            REG[f"long-{variant}"] = rf.Registry(auth="token", users=LONG_USERS,
                                                 throttle_bytes_per_second=16 * 1024).start()
        for repo in ("team/agent", "team/mcp", "team/hook"):
            IMAGES[("ht", repo + ":v1")] = REG["ht"].push_image(repo, "v1", [3000, 5000])
        IMAGES[("tok", "team/agent:v1")] = REG["tok"].push_image("team/agent", "v1", [4000])
        IMAGES[("anon", "public/app:v1")] = REG["anon"].push_image("public/app", "v1", [2000])
        IMAGES[("anon", "corrupt/app:v1")] = REG["anon"].push_image("corrupt/app", "v1",
                                                                     [6000, 7000])
        REG["anon"].corrupt_blob(IMAGES[("anon", "corrupt/app:v1")]["layer_digests"][1])
        VAULT = Vault()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for reg in REG.values():
        reg.stop()
    REG.clear()
    if VAULT:
        VAULT.stop()


def image(reg_name, repo_tag):
    return f"{REG[reg_name].host}/{repo_tag}"


def pull_message(image_ref, secret_name, error):
    return f'pulling "{image_ref}" with image pull secret "{secret_name}": {error}'


UNAUTHORIZED = "unauthorized: authentication required"


def token_service_host(reg_name="tok"):
    return f"127.0.0.1:{REG[reg_name].issuer.port}"


def token_refusal():
    """A token service is not the registry: its refusal is a fixed text, never its body."""
    return f"token service at {token_service_host()} answered 401 Unauthorized"


def rfc3339(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def walk_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from walk_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_keys(v)


class RunnerCase(ServerTestCase):
    """Shared helpers of the runner's test classes."""

    @classmethod
    def setUpClass(cls):
        # The token registries' token services are other origins over plain HTTP: the operator
        # lists them with --insecure-registry (loopback alone never allows plain HTTP to them).
        cls.server_args = tuple(cls.server_args)
        for name, reg in REG.items():
            if reg.issuer:
                cls.server_args += ("--insecure-registry", token_service_host(name))
        super().setUpClass()

    def org(self):
        return Org(self, self.server)

    @property
    def content_dir(self):
        return os.path.join(self.server.data_dir, "content")

    def assertPullFailed(self, workload, role, *fragments):
        """failed/image_pull_failed; the role's container in ImagePullBackOff with the same
        message as the workload, containing every fragment."""
        self.assertEqual(workload["status"], "failed", workload)
        self.assertEqual(workload["failure_reason"], "image_pull_failed", workload)
        c = container(workload, role)
        self.assertEqual(c["status"], "waiting", c)
        self.assertEqual(c["reason"], "ImagePullBackOff", c)
        self.assertIsNone(c["credential"], c)
        for fragment in fragments:
            self.assertIn(fragment, c["message"])
            self.assertIn(fragment, workload["failure_message"])
        return c

    def assertRunningWith(self, workload, role, secret, pushed):
        self.assertEqual(workload["status"], "running", workload)
        self.assertIsNone(workload["failure_reason"], workload)
        c = container(workload, role)
        self.assertEqual(c["status"], "running", c)
        self.assertEqual(c["image_digest"], pushed["manifest_digest"], c)
        self.assertIsNotNone(c["started_at"], c)
        expected = None if secret is None else {"image_pull_secret_id": secret["id"],
                                                "name": secret["name"]}
        self.assertEqual(c["credential"], expected, c)
        return c

    def wait_for_ingest(self, timeout=20):
        """Returns once a blob download of the runner has written bytes."""
        ingest = os.path.join(self.content_dir, "ingest")
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if any(os.path.getsize(os.path.join(ingest, f)) > 0 for f in os.listdir(ingest)):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.fail("the pull never started writing blobs")


class RunnerTest(RunnerCase):
    server_args = SERVER_ARGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # An organization with no activity at all: its stream, open for the whole class, must
        # see nothing of the others and still get heartbeats (checked by the last test).
        cls.idle_ctx = cls.server.new_org(unique("idle"))
        cls.idle_stream = open_stream(cls.server, cls.idle_ctx)

    @classmethod
    def tearDownClass(cls):
        cls.idle_stream.close()
        super().tearDownClass()

    # ---- the Workloads API ---------------------------------------------------------------

    def test_workloads_api_create_get_list_filter(self):
        o = self.org()
        pushed = IMAGES[("anon", "public/app:v1")]
        ref = image("anon", "public/app:v1")
        agent = o.agent(ref, name="main-agent")
        o.mcp(agent, ref, name="tools")
        o.hook(agent, ref, event="on-start")
        other = o.agent(ref)
        created = o.start(agent)
        for key in ("id", "agent_id", "status", "failure_reason", "failure_message",
                    "containers", "created_at", "updated_at"):
            self.assertIn(key, created)
        self.assertEqual(created["agent_id"], agent["id"])
        self.assertIsNone(created["failure_reason"])
        self.assertIsNone(created["failure_message"])
        self.assertRegex(created["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual([(c["role"], c["name"]) for c in created["containers"]],
                         [("main", "main-agent"), ("mcp", "tools"), ("hook", "on-start")])
        for c in created["containers"]:
            for key in ("name", "role", "image", "image_digest", "status", "reason", "message",
                        "credential", "started_at", "finished_at"):
                self.assertIn(key, c)
            self.assertEqual(c["image"], ref)
            self.assertEqual(c["status"], "waiting")
            self.assertIsNone(c["image_digest"])
            self.assertIsNone(c["credential"])
            self.assertIsNone(c["started_at"])
            self.assertIsNone(c["finished_at"])
        running = wait_for_status(o.member, o.ctx, created["id"])
        for role in ("main", "mcp", "hook"):
            self.assertRunningWith(running, role, None, pushed)
        # Both shapes are what the published OpenAPI document says (no undocumented keys).
        schemas = self.server.admin().get("/api/v1/openapi.json").json["components"]["schemas"]
        for workload in (created, running):
            self.assertLessEqual(set(workload), set(schemas["Workload"]["properties"]))
            self.assertIn(workload["status"], schemas["Workload"]["properties"]["status"]["enum"])
            for c in workload["containers"]:
                self.assertLessEqual(set(c), set(schemas["Container"]["properties"]))
                self.assertIn(c["status"], schemas["Container"]["properties"]["status"]["enum"])
        self.assertGreaterEqual(running["updated_at"], running["created_at"])
        second = wait_for_status(o.member, o.ctx, o.start(other)["id"])

        def listed(query):
            resp = o.member.get(o.path("/workloads" + query))
            self.assertEqual(resp.status, 200, resp)
            return [w["id"] for w in resp.json["items"]]

        self.assertEqual(sorted(listed("")), sorted([created["id"], second["id"]]))
        self.assertEqual(listed(f"?agent_id={agent['id']}"), [created["id"]])
        self.assertEqual(sorted(listed("?status=running")), sorted([created["id"], second["id"]]))
        self.assertEqual(listed("?status=failed"), [])
        self.assertEqual(listed(f"?agent_id={other['id']}&status=running"), [second["id"]])
        self.assertEqual(o.member.get(o.path("/workloads?status=sleeping")).status, 400)
        self.assertEqual(o.member.get(o.path(f"/workloads/{o.ctx.id}")).status, 404)
        self.assertEqual(o.member.post(o.path("/workloads"), {"agent_id": o.ctx.id}).status, 404)
        # Another organization sees none of it.
        stranger = self.org()
        self.assertEqual(stranger.member.get(stranger.path("/workloads")).json["items"], [])
        self.assertEqual(stranger.member.get(
            stranger.path(f"/workloads/{created['id']}")).status, 404)

    # ---- which credential a pull uses ----------------------------------------------------

    def test_htpasswd_right_credential_runs_with_it(self):
        o = self.org()
        pushed = IMAGES[("ht", "team/agent:v1")]
        agent = o.agent(image("ht", "team/agent:v1"))
        secret = o.secret(REG["ht"].host, "alice", USERS["alice"], name="ht-right")
        o.attach(secret, agent)
        workload = o.run(agent)
        self.assertRunningWith(workload, "main", secret, pushed)
        blobs = content_blobs(self.content_dir)
        for digest in [pushed["manifest_digest"], pushed["config_digest"]] + \
                pushed["layer_digests"]:
            self.assertEqual(blobs.get(digest[7:]), digest[7:], f"{digest} not stored verified")

    def test_htpasswd_wrong_credential_fails_naming_the_secret(self):
        o = self.org()
        ref = image("ht", "team/agent:v1")
        # The image's blobs are in the content store already: a cache must not bypass auth.
        good = o.agent(ref)
        o.attach(o.secret(REG["ht"].host, "alice", USERS["alice"]), good)
        self.assertEqual(o.run(good)["status"], "running")
        agent = o.agent(ref)
        secret = o.secret(REG["ht"].host, "alice", WRONG, name="ghcr-private")
        o.attach(secret, agent)
        with open_stream(self.server, o.ctx) as stream:
            workload = o.run(agent)
            self.assertPullFailed(workload, "main",
                                  pull_message(ref, "ghcr-private", UNAUTHORIZED))
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == workload["id"] and e.data["status"] == "failed")
            attempts = [e for e in stream.workload_events(workload["id"], "workload.updated")
                        if e.data["containers"][0]["reason"] == "ErrImagePull"]
        self.assertEqual(len(attempts), 1, "a 401 for every candidate is permanent: no retry")

    def test_token_registry_right_and_wrong_credentials(self):
        o = self.org()
        ref = image("tok", "team/agent:v1")
        pushed = IMAGES[("tok", "team/agent:v1")]
        right_agent, wrong_agent = o.agent(ref), o.agent(ref)
        right = o.secret(REG["tok"].host, "carol", TOKEN_USERS["carol"], name="tok-right")
        wrong = o.secret(REG["tok"].host, "carol", WRONG, name="tok-wrong")
        o.attach(right, right_agent)
        o.attach(wrong, wrong_agent)
        self.assertRunningWith(o.run(right_agent), "main", right, pushed)
        self.assertPullFailed(o.run(wrong_agent), "main",
                              pull_message(ref, "tok-wrong", token_refusal()))

    def test_unknown_tag_or_repository_fails_permanently(self):
        o = self.org()
        secret = o.secret(REG["ht"].host, "alice", USERS["alice"], name="ht-ok")
        for ref in (image("ht", "team/agent:missing"), image("ht", "team/nothing-here:v1")):
            with self.subTest(ref=ref), open_stream(self.server, o.ctx) as stream:
                agent = o.agent(ref)
                o.attach(secret, agent)
                workload = o.run(agent)
                self.assertPullFailed(workload, "main", f'pulling "{ref}" with image pull '
                                      f'secret "ht-ok": ', "unknown")
                stream.wait_for(lambda e: e.type == "workload.status_changed"
                                and e.data["id"] == workload["id"]
                                and e.data["status"] == "failed")
                attempts = [e for e in stream.workload_events(workload["id"], "workload.updated")
                            if e.data["containers"][0]["reason"] == "ErrImagePull"]
                self.assertEqual(len(attempts), 1, "an unknown manifest is permanent: no retry")

    def test_falls_through_to_the_next_credential(self):
        for reg_name, user, password in (("ht", "alice", USERS["alice"]),
                                         ("tok", "dave", TOKEN_USERS["dave"])):
            with self.subTest(registry=reg_name):
                o = self.org()
                ref = image(reg_name, "team/agent:v1")
                agent = o.agent(ref)
                wrong = o.secret(REG[reg_name].host, user, WRONG, name=f"{reg_name}-first-wrong")
                right = o.secret(REG[reg_name].host, user, password,
                                 name=f"{reg_name}-second-right")
                o.attach(wrong, agent)
                o.attach(right, agent)
                self.assertRunningWith(o.run(agent), "main", right,
                                       IMAGES[(reg_name, "team/agent:v1")])

    def test_secrets_for_other_registries_are_ignored(self):
        o = self.org()
        ht = REG["ht"].host
        ref = image("ht", "team/agent:v1")
        # Valid users everywhere, so being tried would make them succeed.
        others = [o.secret(REG["anon"].host, "alice", USERS["alice"], name="other-port"),
                  o.secret("127.0.0.1", "alice", USERS["alice"], name="no-port"),
                  o.secret(f"{ht}/other", "alice", USERS["alice"], name="other-path"),
                  o.secret(REG["tok"].host, "carol", TOKEN_USERS["carol"], name="tok")]
        right = o.secret(ht, "bob", USERS["bob"], name="the-right-one")
        agent = o.agent(ref)
        for secret in others + [right]:
            o.attach(secret, agent)
        self.assertRunningWith(o.run(agent), "main", right, IMAGES[("ht", "team/agent:v1")])

        unmatched = o.agent(ref)
        for secret in others:
            o.attach(secret, unmatched)
        workload = o.run(unmatched)
        c = self.assertPullFailed(workload, "main", f'pulling "{ref}" anonymously',
                                  "anonymously", UNAUTHORIZED)
        for secret in others:
            self.assertNotIn(secret["name"], c["message"])

    def test_anonymous_pull_when_nothing_matches(self):
        o = self.org()
        pushed = IMAGES[("anon", "public/app:v1")]
        plain = o.agent(image("anon", "public/app:v1"))
        self.assertRunningWith(o.run(plain), "main", None, pushed)
        with_other = o.agent(image("anon", "public/app:v1"))
        o.attach(o.secret(REG["ht"].host, "alice", USERS["alice"]), with_other)
        self.assertRunningWith(o.run(with_other), "main", None, pushed)
        # Against a registry that wants credentials, the anonymous attempt is refused.
        ref = image("ht", "team/agent:v1")
        needs_auth = o.agent(ref)
        self.assertPullFailed(o.run(needs_auth), "main", f'pulling "{ref}" anonymously',
                              UNAUTHORIZED)

    def test_path_prefixed_secret_is_tried_before_host_only(self):
        o = self.org()
        ht = REG["ht"].host
        ref = image("ht", "team/agent:v1")
        pushed = IMAGES[("ht", "team/agent:v1")]
        # Both authenticate: whichever is tried first wins.
        host_only = o.secret(ht, "alice", USERS["alice"], name="host-only")
        with_path = o.secret(f"{ht}/team", "bob", USERS["bob"], name="host-team")
        for order in ((host_only, with_path), (with_path, host_only)):
            with self.subTest(order=[s["name"] for s in order]):
                agent = o.agent(ref)
                for secret in order:
                    o.attach(secret, agent)
                self.assertRunningWith(o.run(agent), "main", with_path, pushed)
        # Both wrong, host-only attached first: the message lists the path one first.
        host_bad = o.secret(ht, "alice", WRONG, name="host-bad")
        path_bad = o.secret(f"{ht}/team", "bob", WRONG, name="team-bad")
        agent = o.agent(ref)
        o.attach(host_bad, agent)
        o.attach(path_bad, agent)
        c = self.assertPullFailed(o.run(agent), "main", pull_message(ref, "team-bad", UNAUTHORIZED),
                                  pull_message(ref, "host-bad", UNAUTHORIZED))
        self.assertLess(c["message"].index('"team-bad"'), c["message"].index('"host-bad"'))

    def test_mcp_and_hook_images_use_only_their_own_attachments(self):
        o = self.org()
        ht = REG["ht"].host
        refs = {role: image("ht", f"team/{repo}:v1")
                for role, repo in (("main", "agent"), ("mcp", "mcp"), ("hook", "hook"))}
        pushed = {role: IMAGES[("ht", f"team/{repo}:v1")]
                  for role, repo in (("main", "agent"), ("mcp", "mcp"), ("hook", "hook"))}
        agent = o.agent(refs["main"])
        mcp = o.mcp(agent, refs["mcp"])
        hook = o.hook(agent, refs["hook"])
        for_agent = o.secret(ht, "alice", USERS["alice"], name="for-agent")
        o.attach(for_agent, agent)
        # The agent's secret matches the MCP image's registry but is not the MCP's.
        workload = o.run(agent)
        self.assertEqual(container(workload, "main")["credential"]["name"], "for-agent")
        self.assertEqual(container(workload, "main")["image_digest"],
                         pushed["main"]["manifest_digest"])
        c = self.assertPullFailed(workload, "mcp", f'pulling "{refs["mcp"]}" anonymously')
        self.assertNotIn("for-agent", c["message"])

        for_mcp = o.secret(ht, "bob", USERS["bob"], name="for-mcp")
        o.attach(for_mcp, mcp, "mcp_id")
        hook_wrong = o.secret(ht, "alice", WRONG, name="hook-wrong")
        o.attach(hook_wrong, hook, "hook_id")
        workload = o.run(agent)
        self.assertEqual(container(workload, "mcp")["credential"]["name"], "for-mcp")
        c = self.assertPullFailed(workload, "hook",
                                  pull_message(refs["hook"], "hook-wrong", UNAUTHORIZED))
        self.assertNotIn("for-agent", c["message"])
        self.assertNotIn("for-mcp", c["message"])

        for_hook = o.secret(ht, "bob", USERS["bob"], name="for-hook")
        o.attach(for_hook, hook, "hook_id")
        workload = o.run(agent)
        self.assertRunningWith(workload, "main", for_agent, pushed["main"])
        self.assertRunningWith(workload, "mcp", for_mcp, pushed["mcp"])
        self.assertRunningWith(workload, "hook", for_hook, pushed["hook"])

    # ---- passwords resolved at start -----------------------------------------------------

    def test_inline_rotation_takes_effect_at_next_start(self):
        for reg_name, user, password in (("ht", "alice", USERS["alice"]),
                                         ("tok", "carol", TOKEN_USERS["carol"])):
            with self.subTest(registry=reg_name):
                o = self.org()
                ref = image(reg_name, "team/agent:v1")
                agent = o.agent(ref)
                secret = o.secret(REG[reg_name].host, user, password, name="rotating")
                o.attach(secret, agent)
                self.assertEqual(o.run(agent)["status"], "running")
                patched = o.owner.patch(o.path(f"/image-pull-secrets/{secret['id']}"),
                                        {"password": WRONG})
                self.assertEqual(patched.status, 200, patched)
                refusal = UNAUTHORIZED if reg_name == "ht" else token_refusal()
                self.assertPullFailed(o.run(agent), "main",
                                      pull_message(ref, "rotating", refusal))
                patched = o.owner.patch(o.path(f"/image-pull-secrets/{secret['id']}"),
                                        {"password": password})
                self.assertEqual(patched.status, 200, patched)
                self.assertRunningWith(o.run(agent), "main", secret,
                                       IMAGES[(reg_name, "team/agent:v1")])

    def test_vault_rotation_takes_effect_at_next_start(self):
        o = self.org()
        path = unique("ht-alice")
        VAULT.write(path, {"password": WRONG})
        provider = o.vault_provider(VAULT.address, VAULT.token)
        ref = image("ht", "team/agent:v1")
        agent = o.agent(ref)
        secret = o.secret(REG["ht"].host, "alice", name="from-vault", provider_id=provider["id"],
                          remote_path=f"secret/{path}/password")
        # Attached while the remote value is wrong: attaching resolves nothing.
        o.attach(secret, agent)
        self.assertPullFailed(o.run(agent), "main",
                              pull_message(ref, "from-vault", UNAUTHORIZED))
        VAULT.write(path, {"password": USERS["alice"]})
        self.assertRunningWith(o.run(agent), "main", secret, IMAGES[("ht", "team/agent:v1")])
        VAULT.write(path, {"password": WRONG})
        self.assertPullFailed(o.run(agent), "main",
                              pull_message(ref, "from-vault", UNAUTHORIZED))

    def test_unreachable_provider_fails_naming_it(self):
        o = self.org()
        provider = o.vault_provider(f"http://127.0.0.1:{free_port()}", "some-token",
                                    name="vault-down")
        ref = image("ht", "team/agent:v1")
        agent = o.agent(ref)
        secret = o.secret(REG["ht"].host, "alice", name="down-secret",
                          provider_id=provider["id"], remote_path="secret/ht/alice/password")
        o.attach(secret, agent)
        c = self.assertPullFailed(o.run(agent), "main",
                                  f'pulling "{ref}" with image pull secret "down-secret": ',
                                  'secret provider "vault-down"')
        self.assertIn("secret/ht/alice/password", c["message"])

    def test_missing_remote_secret_fails_naming_it(self):
        o = self.org()
        provider = o.vault_provider(VAULT.address, VAULT.token, name="vault-up")
        ref = image("ht", "team/agent:v1")
        agent = o.agent(ref)
        remote_path = f"secret/{unique('never-written')}/password"
        o.attach(o.secret(REG["ht"].host, "alice", name="missing-secret",
                          provider_id=provider["id"], remote_path=remote_path), agent)
        self.assertPullFailed(o.run(agent), "main",
                              f'pulling "{ref}" with image pull secret "missing-secret": ',
                              'secret provider "vault-up"', remote_path, "404")

    def test_decryption_failure_fails_naming_the_secret(self):
        o = self.org()
        ref = image("ht", "team/agent:v1")
        agent = o.agent(ref)
        secret = o.secret(REG["ht"].host, "alice", USERS["alice"], name="tampered")
        o.attach(secret, agent)
        ((sealed,),) = self.server.sql(
            "SELECT password_sealed FROM image_pull_secrets WHERE id = ?", (secret["id"],))
        parts = sealed.split(":")
        body = parts[-2]
        parts[-2] = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
        self.server.sql("UPDATE image_pull_secrets SET password_sealed = ? WHERE id = ?",
                        (":".join(parts), secret["id"]))
        c = self.assertPullFailed(o.run(agent), "main",
                                  f'pulling "{ref}" with image pull secret "tampered": ')
        self.assertNotIn(UNAUTHORIZED, c["message"], "nothing should reach the registry")
        self.assertRegex(c["message"].lower(), r"decrypt|authenticat|tamper|integrity|open")

    # ---- the registry side of long and broken pulls -------------------------------------

    def test_corrupted_blob_never_enters_the_content_store(self):
        o = self.org()
        pushed = IMAGES[("anon", "corrupt/app:v1")]
        bad = pushed["layer_digests"][1][7:]
        ref = image("anon", "corrupt/app:v1")
        agent = o.agent(ref)
        with open_stream(self.server, o.ctx) as stream:
            workload = o.run(agent, timeout=30)
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == workload["id"] and e.data["status"] == "failed")
            statuses = [e.data["status"] for e in
                        stream.workload_events(workload["id"], "workload.status_changed")]
        self.assertNotIn("running", statuses)
        self.assertPullFailed(workload, "main", f'pulling "{ref}" anonymously', bad[:12])
        self.assertIsNone(container(workload, "main")["image_digest"])
        stored = content_blobs(self.content_dir)
        self.assertNotIn(bad, stored)
        for name, actual in stored.items():
            self.assertEqual(name, actual, f"blobs/sha256/{name} does not hash to its name")
        ingest = os.path.join(self.content_dir, "ingest")
        self.assertEqual(os.listdir(ingest) if os.path.isdir(ingest) else [], [],
                         "abandoned ingest files")

    def test_transient_failure_backs_off_then_fails_after_grace(self):
        reg = rf.Registry(auth="htpasswd", users=USERS).start()
        host = reg.host
        reg.push_image("team/agent", "v1", [1000])
        reg.stop()  # nothing listens there any more: every attempt fails to connect
        o = self.org()
        ref = f"{host}/team/agent:v1"
        agent = o.agent(ref)
        o.attach(o.secret(host, "alice", USERS["alice"], name="gone-registry"), agent)
        with open_stream(self.server, o.ctx) as stream:
            began = time.monotonic()
            workload = o.start(agent)
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == workload["id"] and e.data["status"] == "failed",
                            timeout=30)
            elapsed = time.monotonic() - began
            updates = stream.workload_events(workload["id"], "workload.updated")
        reasons = [e.data["containers"][0]["reason"] for e in updates]
        # Collapse repeats: the container alternates ErrImagePull / ImagePullBackOff.
        cycle = [r for i, r in enumerate(reasons) if i == 0 or r != reasons[i - 1]]
        self.assertEqual(cycle[0], "ContainerCreating", reasons)
        self.assertEqual(cycle[1:3], ["ErrImagePull", "ImagePullBackOff"], reasons)
        self.assertEqual(cycle[-1], "ImagePullBackOff", reasons)
        attempts = [e for e in updates if e.data["containers"][0]["reason"] == "ErrImagePull"]
        # 200 ms doubling (max 800 ms) within a 2 s grace: attempts at ~0, .2, .6, 1.4, 2.0.
        self.assertGreaterEqual(len(attempts), 3, reasons)
        self.assertLessEqual(len(attempts), 7, reasons)
        at = [rfc3339(e.data["updated_at"]) for e in attempts]  # the server's clock
        gaps = [b - a for a, b in zip(at, at[1:])]
        self.assertGreaterEqual(gaps[0], 0.15, gaps)
        self.assertGreaterEqual(gaps[1], 0.3, gaps)
        self.assertGreater(gaps[1], gaps[0] * 1.25, f"back-off does not double: {gaps}")
        self.assertGreaterEqual(elapsed, GRACE_S * 0.95)
        self.assertLess(elapsed, GRACE_S + 6)
        final = o.get_workload(workload["id"])
        c = self.assertPullFailed(final, "main",
                                  f'pulling "{ref}" with image pull secret "gone-registry": ')
        self.assertEqual(final, updates[-1].data, "the last event is the final state")
        self.assertNotEqual(c["message"].split('"gone-registry": ', 1)[1].strip(), "")

    # ---- stop, verify ----------------------------------------------------------------------

    def test_stop_a_running_workload(self):
        o = self.org()
        ref = image("anon", "public/app:v1")
        agent = o.agent(ref)
        o.mcp(agent, ref)
        running = o.run(agent)
        self.assertEqual(running["status"], "running")
        with open_stream(self.server, o.ctx) as stream:
            resp = o.member.post(o.path(f"/workloads/{running['id']}/stop"))
            self.assertEqual(resp.status, 200, resp)
            self.assertIn(resp.json["status"], ("stopping", "stopped"), resp)
            stopped = wait_for_status(o.member, o.ctx, running["id"], "stopped")
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == running["id"] and e.data["status"] == "stopped")
            statuses = [e.data["status"] for e in
                        stream.workload_events(running["id"], "workload.status_changed")]
        self.assertEqual(statuses, ["stopping", "stopped"])
        for c in stopped["containers"]:
            self.assertEqual(c["status"], "terminated", c)
            self.assertIsNotNone(c["finished_at"], c)
            self.assertGreaterEqual(c["finished_at"], c["started_at"])
        self.assertIsNone(stopped["failure_reason"])
        # Stopping again changes nothing.
        again = o.member.post(o.path(f"/workloads/{running['id']}/stop"))
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json["status"], "stopped")

    def test_verify_reports_the_registry_answer(self):
        o = self.org()
        cases = [("ht", "alice", USERS["alice"], True), ("ht", "alice", WRONG, False),
                 ("tok", "carol", TOKEN_USERS["carol"], True), ("tok", "carol", WRONG, False)]
        for reg_name, user, password, ok in cases:
            with self.subTest(registry=reg_name, ok=ok):
                secret = o.secret(REG[reg_name].host, user, password)
                resp = o.member.post(o.path(f"/image-pull-secrets/{secret['id']}/verify"))
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json["ok"], ok, resp)
                if not ok:
                    self.assertIn(UNAUTHORIZED if reg_name == "ht" else token_refusal(),
                                  resp.json["message"])
                self.assertNotIn(password, resp.body)
        down = o.vault_provider(f"http://127.0.0.1:{free_port()}", "t", name="verify-down")
        secret = o.secret(REG["ht"].host, "alice", provider_id=down["id"],
                          remote_path="secret/a/password")
        resp = o.member.post(o.path(f"/image-pull-secrets/{secret['id']}/verify"))
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(resp.json["ok"])
        self.assertIn('"verify-down"', resp.json["message"])

    # ---- events and metrics ----------------------------------------------------------------

    def test_event_stream_order_replay_and_secrecy(self):
        o = self.org()
        ref = image("ht", "team/agent:v1")
        stream = open_stream(self.server, o.ctx)
        try:
            self.assertTrue(stream.content_type.startswith("text/event-stream"))
            agent = o.agent(ref)
            secret = o.secret(REG["ht"].host, "alice", USERS["alice"], name="evented")
            attachment = o.attach(secret, agent)
            workload = o.start(agent)
            stream.wait_for(lambda e: e.type == "workload.status_changed"
                            and e.data["id"] == workload["id"] and e.data["status"] == "running")
            events = stream.snapshot()
        finally:
            stream.close()
        ids = [e.id for e in events]
        self.assertEqual(ids, sorted(set(ids)), "ids must be unique and increasing")
        types = [e.type for e in events]
        self.assertIn("image_pull_secret.created", types)
        self.assertIn("attachment.created", types)
        self.assertLess(types.index("image_pull_secret.created"), types.index("attachment.created"))
        self.assertLess(types.index("attachment.created"), types.index("workload.created"))
        created = next(e for e in events if e.type == "image_pull_secret.created")
        self.assertEqual(created.data["id"], secret["id"])
        attached = next(e for e in events if e.type == "attachment.created")
        self.assertEqual(attached.data["id"], attachment["id"])
        mine = [e for e in events if e.type.startswith("workload.")]
        self.assertEqual(mine[0].type, "workload.created")
        changes = [e.data["status"] for e in mine if e.type == "workload.status_changed"]
        self.assertEqual(changes, ["starting", "running"])
        last = mine[-1].data
        self.assertEqual(last, o.get_workload(workload["id"]), "events carry the full workload")
        self.assertEqual(container(last, "main")["credential"]["name"], "evented")
        for e in mine:
            for key in ("id", "agent_id", "status", "containers", "created_at", "updated_at"):
                self.assertIn(key, e.data)
        last_seen = events[-1].id

        # Missed while disconnected: the stop, then a password rotation.
        self.assertEqual(o.member.post(o.path(f"/workloads/{workload['id']}/stop")).status, 200)
        wait_for_status(o.member, o.ctx, workload["id"], "stopped")
        self.assertEqual(o.owner.patch(o.path(f"/image-pull-secrets/{secret['id']}"),
                                       {"password": USERS["alice"] + "-rotated"}).status, 200)
        PASSWORDS.add(USERS["alice"] + "-rotated")
        with SseStream(self.server.port, o.path("/events"), o.member.token,
                       last_event_id=last_seen) as replay:
            self.assertEqual(replay.status, 200)
            replay.wait_for(lambda e: e.type == "image_pull_secret.updated")
            replayed = replay.snapshot()
        with open_stream(self.server, o.ctx, query="?last_event_id=0") as everything:
            everything.wait_for(lambda e: e.type == "image_pull_secret.updated")
            full = everything.snapshot()
            raw = "\n".join(everything.raw_lines)
        self.assertGreater(replayed[0].id, last_seen)
        self.assertEqual([e.id for e in replayed], [e.id for e in full if e.id > last_seen])
        self.assertEqual([e.id for e in full if e.id <= last_seen][-len(events):],
                         [e.id for e in events])
        self.assertEqual([e.data["status"] for e in replayed
                          if e.type == "workload.status_changed"], ["stopping", "stopped"])
        # No password, in any form, in any event of this organization.
        for password in PASSWORDS:
            self.assertNotIn(password, raw)
        for e in full:
            for key, value in walk_keys(e.data):
                if key in ("password", "password_sealed", "value", "token", "credentials"):
                    self.fail(f"event {e.type} carries {key}: {value!r}")
        # Other organizations' events never show up here.
        for e in full:
            if isinstance(e.data, dict) and "organization_id" in e.data:
                self.assertEqual(e.data["organization_id"], o.ctx.id, e.raw)
        # A member of another organization cannot open this one's stream.
        stranger = self.org()
        resp = stranger.member.get(o.path("/events"))
        self.assertIn(resp.status, (403, 404), resp)

    def test_events_are_delivered_promptly(self):
        # Workload changes are written in transactions; the stream must not wait for its
        # once-a-second poll to see them (the Console renders them live).
        o = self.org()
        agent = o.agent(image("anon", "public/app:v1"))
        delays = []
        with open_stream(self.server, o.ctx) as stream:
            for _ in range(5):
                workload = o.start(agent)
                event = stream.wait_for(lambda e: e.type == "workload.status_changed"
                                        and e.data["id"] == workload["id"]
                                        and e.data["status"] == "running")
                delays.append(event.received_at - rfc3339(event.data["updated_at"]))
        delays.sort()
        self.assertLess(delays[2], 0.5, f"seconds from the change to its event: {delays}")
        self.assertLess(delays[-1], 2, f"seconds from the change to its event: {delays}")

    def test_metrics_series(self):
        before = parse_metrics(self.server.admin().get("/metrics").body)
        o = self.org()
        # A new image, so this pull downloads bytes (nothing of it is in the content store).
        REG["ht"].push_image("team/metrics", "v1", [9000])
        ref = image("ht", "team/metrics:v1")
        good, bad, remote = o.agent(ref), o.agent(ref), o.agent(ref)
        o.attach(o.secret(REG["ht"].host, "alice", USERS["alice"]), good)
        o.attach(o.secret(REG["ht"].host, "alice", WRONG), bad)
        path = unique("metrics")
        VAULT.write(path, {"password": USERS["bob"]})
        provider = o.vault_provider(VAULT.address, VAULT.token)
        o.attach(o.secret(REG["ht"].host, "bob", provider_id=provider["id"],
                          remote_path=f"secret/{path}/password"), remote)
        self.assertEqual(o.run(good)["status"], "running")
        self.assertEqual(o.run(bad)["status"], "failed")
        self.assertEqual(o.run(remote)["status"], "running")
        resp = self.server.admin().get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("text/plain"), resp)
        for name, kind in (("agyn_image_pulls_total", "counter"),
                           ("agyn_image_pull_bytes_total", "counter"),
                           ("agyn_image_pull_duration_seconds", "histogram"),
                           ("agyn_workloads", "gauge"),
                           ("agyn_credential_resolutions_total", "counter"),
                           ("agyn_http_requests_total", "counter")):
            self.assertRegex(resp.body, rf"(?m)^# TYPE {name} {kind}$")
        after = parse_metrics(resp.body)

        def delta(name, **labels):
            return metric(after, name, **labels) - metric(before, name, **labels)

        self.assertGreaterEqual(delta("agyn_image_pulls_total", result="success"), 2)
        self.assertGreaterEqual(delta("agyn_image_pulls_total", result="unauthorized"), 1)
        self.assertGreater(delta("agyn_image_pull_bytes_total"), 0)
        self.assertGreaterEqual(delta("agyn_image_pull_duration_seconds_count"), 3)
        self.assertGreaterEqual(delta("agyn_image_pull_duration_seconds_bucket", le="+Inf"), 3)
        self.assertGreater(delta("agyn_image_pull_duration_seconds_sum"), 0)
        self.assertGreaterEqual(delta("agyn_credential_resolutions_total", source="inline",
                                      result="success"), 2)
        self.assertGreaterEqual(delta("agyn_credential_resolutions_total", source="remote",
                                      result="success"), 1)
        self.assertGreaterEqual(metric(after, "agyn_workloads", status="running"), 2)
        self.assertGreaterEqual(metric(after, "agyn_workloads", status="failed"), 1)
        for status in ("starting", "running", "stopping", "stopped", "failed"):
            self.assertIn(("agyn_workloads", frozenset({("status", status)})), after)
        self.assertGreaterEqual(delta("agyn_http_requests_total", method="POST",
                                      route="/api/v1/organizations/{org}/workloads",
                                      status="201"), 3)
        for password in PASSWORDS:
            self.assertNotIn(password, resp.body)

    def test_zz_other_org_stream_sees_nothing_and_gets_heartbeats(self):
        # Runs last (name order): every other test's events went to other organizations.
        stream = self.idle_stream
        remaining = stream.opened_at + 17 - time.time()
        self.assertTrue(stream.wait_comment("heartbeat", max(remaining, 1)),
                        f"no heartbeat in {time.time() - stream.opened_at:.0f}s: "
                        f"{stream.raw_lines[:20]}")
        self.assertIsNone(stream.error)
        self.assertEqual(stream.snapshot(), [], "an idle organization received events")
        self.assertFalse([line for line in stream.raw_lines
                          if line.startswith(("id:", "data:", "event:"))])


if __name__ == "__main__":
    unittest.main()


class SlowPullTest(RunnerCase):
    """Pulls that take several seconds on purpose (throttled registries). The start grace also
    ends a download in progress (docs/semantics.md, Bounded pulls), so this class runs with a
    grace that leaves them time."""

    server_args = ("--pull-backoff-initial", "200ms", "--pull-backoff-max", "800ms",
                   "--start-grace", "60s")

    def test_rotation_during_a_slow_pull_keeps_its_snapshot(self):
        # 10 layers through a throttled proxy: two waves of parallel blob requests (at most 8
        # at once), the second sent after the rotation. Basic auth goes with every request.
        users = {"erin": "erin-pw-66c1d2"}
        PASSWORDS.update(users.values())
        with rf.Registry(auth="htpasswd", users=users,
                         throttle_bytes_per_second=24 * 1024) as slow:
            pushed = slow.push_image("team/slow", "v1", [32 * 1024] * 10)
            path = unique("slow")
            VAULT.write(path, {"password": users["erin"]})
            o = self.org()
            provider = o.vault_provider(VAULT.address, VAULT.token)
            agent = o.agent(f"{slow.host}/team/slow:v1")
            secret = o.secret(slow.host, "erin", name="slow-vault", provider_id=provider["id"],
                              remote_path=f"secret/{path}/password")
            o.attach(secret, agent)
            workload = o.start(agent)
            self.wait_for_ingest()
            VAULT.write(path, {"password": WRONG})
            self.assertEqual(o.get_workload(workload["id"])["status"], "starting",
                             "the pull ended before the rotation: the test proves nothing")
            stored = content_blobs(self.content_dir)
            self.assertTrue(any(d[7:] not in stored for d in pushed["layer_digests"]))
            done = wait_for_status(o.member, o.ctx, workload["id"], timeout=60)
            self.assertRunningWith(done, "main", secret, pushed)
            # The rotation did happen: the next start reads the new (wrong) value.
            self.assertPullFailed(o.run(agent), "main", pull_message(
                f"{slow.host}/team/slow:v1", "slow-vault", UNAUTHORIZED))

    def test_token_expiry_during_a_long_pull(self):
        # Tokens the registry accepts for 2 s; 12 throttled layers take two waves (~2.5 s
        # each), so the second wave needs a new token. "told": the client knows the 2 s
        # lifetime; "stale": the client is told 300 s and learns from the registry's 401.
        users = LONG_USERS
        regs = {variant: REG[f"long-{variant}"] for variant in ("told", "stale")}
        pushed = {v: r.push_image("team/long", "v1", [40 * 1024] * 12)
                  for v, r in regs.items()}
        regs["told"].issuer.lifetime = regs["told"].issuer.expires_in = 2
        regs["stale"].issuer.lifetime, regs["stale"].issuer.expires_in = 2, 300
        o = self.org()
        started = {}
        for variant, reg in regs.items():
            agent = o.agent(f"{reg.host}/team/long:v1")
            secret = o.secret(reg.host, "frank", users["frank"], name=f"long-{variant}")
            o.attach(secret, agent)
            started[variant] = (o.start(agent), secret)
        for variant, (workload, secret) in started.items():
            with self.subTest(variant=variant):
                done = wait_for_status(o.member, o.ctx, workload["id"], timeout=60)
                self.assertRunningWith(done, "main", secret, pushed[variant])
                issued = regs[variant].issuer.stats["issued"]
                self.assertGreaterEqual(issued, 2, "no token expired during the pull")

    def test_stop_during_a_slow_pull(self):
        # The stop arrives while the image is still downloading: the workload must end
        # stopped, never come back as starting or running.
        with rf.Registry(throttle_bytes_per_second=24 * 1024) as slow:
            slow.push_image("team/slow-stop", "v1", [32 * 1024] * 10)
            o = self.org()
            agent = o.agent(f"{slow.host}/team/slow-stop:v1")
            with open_stream(self.server, o.ctx) as stream:
                workload = o.start(agent)
                self.wait_for_ingest()
                resp = o.member.post(o.path(f"/workloads/{workload['id']}/stop"))
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json["status"], "stopping", resp)
                stream.wait_for(lambda e: e.type == "workload.status_changed"
                                and e.data["id"] == workload["id"]
                                and e.data["status"] in ("stopped", "running", "failed"),
                                timeout=30)
                time.sleep(0.5)  # anything the runner still writes after that
                events = stream.workload_events(workload["id"])
            final = o.get_workload(workload["id"])
        self.assertEqual(final["status"], "stopped", final)
        changes = [e.data["status"] for e in events if e.type == "workload.status_changed"]
        self.assertEqual(changes, ["starting", "stopping", "stopped"])
        seen_stopping = False
        for e in events:
            seen_stopping |= e.data["status"] == "stopping"
            if seen_stopping:
                self.assertIn(e.data["status"], ("stopping", "stopped"),
                              f"{e.type} went back to {e.data['status']}")
        for c in final["containers"]:
            self.assertEqual(c["status"], "terminated", c)
