"""Registries with short-lived credentials, black-box: image pull secrets whose password is an
Amazon ECR token (password_source "ecr": GetAuthorizationToken through an aws-secrets-manager
provider, against moto_server and against tests/fixtures/ecr_fixture.py for lifetimes, throttling
and 5xx that moto cannot give) and kubelet credential-provider plugins (password_source
"plugin", tests/fixtures/credential_plugin.py configured with a YAML CredentialProviderConfig),
pulling from htpasswd registries (tests/fixtures/registry_fixture.py) whose users are the ones
those tokens and plugins hand out.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from agyn_testlib import AGYND, FIXTURES, Client, ServerTestCase, free_port
from runner_helpers import Org, registry_fixture, unique, wait_for_status

sys.path.insert(0, FIXTURES)
import ecr_fixture  # noqa: E402

rf = registry_fixture

PLUGIN_PASSWORD = "plugin-pw-6d1e0c"
FIXTURE_TOKEN = "ecr-fixture-token-93b1f7"
SERVER_ARGS = ("--pull-backoff-initial", "200ms", "--pull-backoff-max", "500ms",
               "--start-grace", "4s", "--image-credential-provider-timeout", "3s")
# 3 s: a Python plugin's start on a loaded 2-core machine (ASan builds, parallel suites) can
# take more than 1 s, which made an answering plugin look hung.

REG = {}
MOTO = None
MOTO_ERROR = None
ECR = None
PLUGIN_DIR = tempfile.mkdtemp(prefix="agyn-plugins-")
PLUGIN_LOG = os.path.join(PLUGIN_DIR, "runs.log")


class Moto:
    """moto_server with IAM enforced after the set-up calls: an allowed user, a user denied
    ecr:GetAuthorizationToken, and a role the allowed user may assume."""

    SETUP_CALLS = 8

    def __init__(self):
        import boto3
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(self.SETUP_CALLS))
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.05)
        setup = dict(endpoint_url=self.url, region_name="us-east-1",
                     aws_access_key_id="AKIASETUPONLY", aws_secret_access_key="setup-only")
        iam = boto3.client("iam", **setup)
        allow_all = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        deny_ecr = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]})
        iam.create_user(UserName="agyn")
        iam.put_user_policy(UserName="agyn", PolicyName="all", PolicyDocument=allow_all)
        self.allowed = iam.create_access_key(UserName="agyn")["AccessKey"]
        iam.create_user(UserName="no-ecr")
        iam.put_user_policy(UserName="no-ecr", PolicyName="no-ecr", PolicyDocument=deny_ecr)
        self.denied = iam.create_access_key(UserName="no-ecr")["AccessKey"]
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="ecr-puller", AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName="ecr-puller", PolicyName="all", PolicyDocument=allow_all)
        self.role_arn = role["Arn"]
        # What moto's GetAuthorizationToken actually hands out ("AWS:<account>-auth-token").
        ecr = boto3.client("ecr", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id=self.allowed["AccessKeyId"],
                           aws_secret_access_key=self.allowed["SecretAccessKey"])
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        self.username, self.password = base64.b64decode(token).decode().split(":", 1)

    def config(self, key=None, **extra):
        key = key or self.allowed
        config = {"region": "us-east-1", "access_key_id": key["AccessKeyId"],
                  "secret_access_key": key["SecretAccessKey"], "endpoint_url": self.url,
                  "ecr_endpoint_url": self.url}
        config.update(extra)
        return config

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


PLUGINS = {
    # name: (matchImages, args after --log)
    "test-image": (None, ["--cache-key-type", "Image", "--cache-duration", "1h"]),
    "test-registry": (None, ["--cache-key-type", "Registry"]),
    "test-global": (None, ["--cache-key-type", "Global", "--cache-duration", "1h"]),
    "test-nocache": (None, ["--cache-key-type", "Image", "--cache-duration", "0s"]),
    "test-hang": (None, ["--mode", "hang"]),
    "test-fail": (None, ["--mode", "fail"]),
    "test-badjson": (None, ["--mode", "badjson"]),
    "test-stray": (None, ["--mode", "stray"]),
    "test-elsewhere": (["*.dkr.ecr.*.amazonaws.com"], []),
}


def write_plugin_config():
    """A YAML CredentialProviderConfig as the kubelet docs write it; every plugin is the same
    script under its own name, told what to do by its args."""
    script = os.path.join(FIXTURES, "credential_plugin.py")
    lines = ["apiVersion: kubelet.config.k8s.io/v1", "kind: CredentialProviderConfig",
             "providers:"]
    for name, (globs, args) in PLUGINS.items():
        # Ports are compared as written (no globs in ports): each registry is listed.
        globs = globs or [REG["fix"].host, REG["fix2"].host]
        os.symlink(script, os.path.join(PLUGIN_DIR, name))
        args = ["--log", PLUGIN_LOG, "--username", "plug", "--password", PLUGIN_PASSWORD] + args
        if name == "test-global":
            args += ["--auth-key", REG["fix"].host, "--auth-key", REG["fix2"].host]
        lines += [f"  - name: {name}",
                  "    matchImages:"] + [f'      - "{glob}"' for glob in globs] + [
                  "    defaultCacheDuration: 12h",
                  "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
                  "    args:"] + [f"      - {json.dumps(arg)}" for arg in args] + [
                  "    env:", "      - name: AWS_PROFILE", "        value: test"]
    path = os.path.join(PLUGIN_DIR, "config.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def setUpModule():
    global MOTO, MOTO_ERROR, ECR, CONFIG
    try:
        try:
            MOTO = Moto()
        except Exception as e:  # moto_server or boto3 missing: the moto tests are skipped
            MOTO_ERROR = f"{type(e).__name__}: {e}"
        if MOTO:
            REG["moto"] = rf.Registry(auth="htpasswd",
                                      users={MOTO.username: MOTO.password}).start()
            REG["moto"].push_image("team/app", "v1", [2000])
        REG["fix"] = rf.Registry(auth="htpasswd",
                                 users={"AWS": FIXTURE_TOKEN, "plug": PLUGIN_PASSWORD}).start()
        REG["fix2"] = rf.Registry(auth="htpasswd", users={"plug": PLUGIN_PASSWORD}).start()
        for name in "abcdefgh":
            REG["fix"].push_image(f"team/{name}", "v1", [1500])
        REG["fix2"].push_image("team/g", "v1", [1500])
        ECR = ecr_fixture.EcrStandIn(password=FIXTURE_TOKEN).start()
        CONFIG = write_plugin_config()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for reg in REG.values():
        reg.stop()
    REG.clear()
    if MOTO:
        MOTO.stop()
    if ECR:
        ECR.stop()


def plugin_runs():
    try:
        with open(PLUGIN_LOG) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


class ShortLivedCase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server_args = SERVER_ARGS + ("--image-credential-provider-config", CONFIG,
                                         "--image-credential-provider-bin-dir", PLUGIN_DIR)
        super().setUpClass()

    def setUp(self):
        self.org = Org(self, self.server)

    def provider(self, config):
        resp = self.org.owner.post(self.org.path("/secret-providers"), {
            "name": unique("aws"), "type": "aws-secrets-manager", "config": config})
        self.assertEqual(resp.status, 201, resp)
        return resp.json

    def short_lived_secret(self, registry, **source):
        body = {"name": unique("ips"), "registry": registry}
        body.update(source)
        resp = self.org.owner.post(self.org.path("/image-pull-secrets"), body)
        self.assertEqual(resp.status, 201, resp)
        self.assertNotIn("password", resp.json)
        return resp.json

    def agent_with(self, secret, image):
        agent = self.org.agent(image)
        self.org.attach(secret, agent)
        return agent

    def assertRunning(self, workload):
        self.assertEqual(workload["status"], "running", workload)

    def assertFailedWith(self, workload, *fragments):
        self.assertEqual(workload["status"], "failed", workload)
        for fragment in fragments:
            self.assertIn(fragment, workload["failure_message"])
        for secret in (PLUGIN_PASSWORD, FIXTURE_TOKEN):
            self.assertNotIn(secret, json.dumps(workload))


class EcrTest(ShortLivedCase):
    def need_moto(self):
        if MOTO is None:
            self.skipTest(f"moto_server/boto3 unavailable: {MOTO_ERROR}")

    def test_ecr_token_from_moto_runs(self):
        """moto's token arrives already expired: it still serves the start that asked for it
        (uncached), each start asks again, and verify logs in with it."""
        self.need_moto()
        provider = self.provider(MOTO.config())
        secret = self.short_lived_secret(REG["moto"].host, password_source="ecr",
                                         provider_id=provider["id"])
        self.assertEqual(secret["password_source"], "ecr")
        self.assertEqual(secret["username"], "AWS")
        self.assertEqual(secret["provider_id"], provider["id"])
        agent = self.agent_with(secret, f"{REG['moto'].host}/team/app:v1")
        self.assertRunning(self.org.run(agent))
        self.assertRunning(self.org.run(agent))
        verify = self.org.member.post(self.org.path(f"/image-pull-secrets/{secret['id']}/verify"))
        self.assertEqual(verify.status, 200, verify)
        self.assertTrue(verify.json["ok"], verify)

    def test_ecr_through_an_assumed_role(self):
        self.need_moto()
        provider = self.provider(MOTO.config(role_arn=MOTO.role_arn, sts_endpoint_url=MOTO.url))
        secret = self.short_lived_secret(REG["moto"].host, password_source="ecr",
                                         provider_id=provider["id"])
        agent = self.agent_with(secret, f"{REG['moto'].host}/team/app:v1")
        self.assertRunning(self.org.run(agent))

    def test_access_denied_is_permanent_and_named(self):
        self.need_moto()
        provider = self.provider(MOTO.config(key=MOTO.denied))
        secret = self.short_lived_secret(REG["moto"].host, password_source="ecr",
                                         provider_id=provider["id"])
        agent = self.agent_with(secret, f"{REG['moto'].host}/team/app:v1")
        started = time.time()
        workload = self.org.run(agent)
        self.assertFailedWith(workload, "GetAuthorizationToken", "AccessDenied")
        self.assertNotIn("unreachable for now", workload["failure_message"])
        self.assertLess(time.time() - started, 3.5, "a permanent error waits for no grace")
        self.assertNotIn(MOTO.denied["SecretAccessKey"], json.dumps(workload))

    def fixture_provider(self):
        return self.provider({"region": "us-east-1", "access_key_id": "AKIAFIXTURE",
                              "secret_access_key": "fixture-secret-key-0b7d",
                              "ecr_endpoint_url": ECR.url})

    def test_cached_token_is_refreshed_before_expiry(self):
        """A token living 10 minutes and 2.5 s is served from the cache for 2.5 s (a burst
        of starts makes one call), then fetched again."""
        ECR.lifetime = 600 + 2.5
        provider = self.fixture_provider()
        secret = self.short_lived_secret(REG["fix"].host, password_source="ecr",
                                         provider_id=provider["id"])
        agents = [self.agent_with(secret, f"{REG['fix'].host}/team/{name}:v1")
                  for name in "abc"]
        before = ECR.calls
        workloads = [self.org.start(agent) for agent in agents]
        for workload in workloads:
            self.assertRunning(wait_for_status(self.org.member, self.org.ctx, workload["id"]))
        self.assertEqual(ECR.calls - before, 1, "one call for the burst")
        time.sleep(2.7)
        self.assertRunning(self.org.run(agents[0]))
        self.assertEqual(ECR.calls - before, 2, "the token was refreshed")
        ECR.lifetime = 12 * 3600

    def test_throttling_and_5xx_are_retried(self):
        provider = self.fixture_provider()
        secret = self.short_lived_secret(REG["fix"].host, password_source="ecr",
                                         provider_id=provider["id"])
        agent = self.agent_with(secret, f"{REG['fix'].host}/team/d:v1")
        before = ECR.calls
        ECR.queue(["throttle", "unavailable"])
        self.assertRunning(self.org.run(agent))
        self.assertEqual(ECR.calls - before, 3)

    def test_api_rules(self):
        provider = self.fixture_provider()
        host = REG["fix"].host
        cases = [
            ({"password_source": "ecr"}, "provider_id"),
            ({"password_source": "ecr", "provider_id": provider["id"], "username": "AWS"},
             "username"),
            ({"password_source": "ecr", "provider_id": provider["id"], "remote_path": "x"},
             "remote_path"),
            ({"password_source": "ecr", "provider_id": provider["id"], "password": "p"},
             "password"),
            ({"password_source": "s3"}, "password_source"),
            ({"password_source": "secret", "username": "u", "password": "p"},
             "password_source"),
        ]
        for extra, field in cases:
            body = {"name": unique("ips"), "registry": host, **extra}
            self.assertError(self.org.owner.post(self.org.path("/image-pull-secrets"), body),
                             422, field)
        vault = self.org.vault_provider("https://vault.example.com", "t")
        self.assertError(self.org.owner.post(self.org.path("/image-pull-secrets"), {
            "name": unique("ips"), "registry": host, "password_source": "ecr",
            "provider_id": vault["id"]}), 422, "provider_id")
        # Leaving ECR for an inline password needs a username again; back to ECR drops it.
        secret = self.short_lived_secret(host, password_source="ecr", provider_id=provider["id"])
        path = self.org.path(f"/image-pull-secrets/{secret['id']}")
        self.assertError(self.org.owner.patch(path, {"username": "x"}), 422, "username")
        changed = self.org.owner.patch(path, {"password": "p", "username": "alice"})
        self.assertEqual(changed.status, 200, changed)
        self.assertEqual(changed.json["password_source"], "inline")
        back = self.org.owner.patch(path, {"password_source": "ecr", "provider_id": provider["id"]})
        self.assertEqual(back.status, 200, back)
        self.assertEqual((back.json["username"], back.json["password_source"]), ("AWS", "ecr"))


class PluginTest(ShortLivedCase):
    def plugin_secret(self, name, registry=None):
        return self.short_lived_secret(registry or REG["fix"].host, password_source="plugin",
                                       plugin=name)

    def runs_for(self, image_prefix):
        return [line for line in plugin_runs() if line.startswith(image_prefix)]

    def test_tenants_see_names_only_and_cannot_name_an_executable(self):
        listed = self.org.member.get("/api/v1/credential-provider-plugins")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(sorted(p["name"] for p in listed.json["items"]), sorted(PLUGINS))
        self.assertEqual(set(listed.json["items"][0]), {"name"})
        self.assertNotIn(PLUGIN_DIR, str(listed.body))
        self.assertEqual(self.server.admin().get("/api/v1/credential-provider-plugins").status,
                         200)
        self.assertError(Client(self.server.port).get("/api/v1/credential-provider-plugins"), 401)
        host = REG["fix"].host
        for plugin in ("/bin/sh", "../../bin/sh", "credential_plugin.py", "sh -c id",
                       "test-image --mode fail", ""):
            self.assertError(self.org.owner.post(self.org.path("/image-pull-secrets"), {
                "name": unique("ips"), "registry": host, "password_source": "plugin",
                "plugin": plugin}), 422, "plugin")
        self.assertError(self.org.owner.post(self.org.path("/image-pull-secrets"), {
            "name": unique("ips"), "registry": host, "username": "u", "password": "p",
            "plugin": "test-image"}), 422, "plugin")
        self.assertError(self.org.owner.post(self.org.path("/image-pull-secrets"), {
            "name": unique("ips"), "registry": host, "password_source": "plugin",
            "plugin": "test-image", "username": "u"}), 422, "username")
        secret = self.plugin_secret("test-image")
        self.assertEqual((secret["password_source"], secret["plugin"]), ("plugin", "test-image"))
        self.assertError(self.org.owner.patch(self.org.path(f"/image-pull-secrets/{secret['id']}"),
                                              {"password_source": "plugin", "plugin": "/bin/sh"}),
                         422, "plugin")

    def test_cache_key_type_image(self):
        secret = self.plugin_secret("test-image")
        host = REG["fix"].host
        a = self.agent_with(secret, f"{host}/team/a:v1")
        b = self.agent_with(secret, f"{host}/team/b:v1")
        before = len(plugin_runs())
        self.assertRunning(self.org.run(a))
        self.assertRunning(self.org.run(b))
        self.assertRunning(self.org.run(a))
        runs = plugin_runs()[before:]
        self.assertEqual(sorted(runs), [f"{host}/team/a", f"{host}/team/b"], runs)

    def test_cache_key_type_registry_with_default_duration(self):
        secret = self.plugin_secret("test-registry")
        host = REG["fix"].host
        before = len(plugin_runs())
        for name in "ce":
            self.assertRunning(self.org.run(self.agent_with(secret, f"{host}/team/{name}:v1")))
        self.assertEqual(len(plugin_runs()) - before, 1, plugin_runs()[before:])

    def test_cache_key_type_global(self):
        before = len(plugin_runs())
        for reg, repo in (("fix", "f"), ("fix2", "g")):
            secret = self.plugin_secret("test-global", REG[reg].host)
            self.assertRunning(self.org.run(self.agent_with(
                secret, f"{REG[reg].host}/team/{repo}:v1")))
        self.assertEqual(len(plugin_runs()) - before, 1, plugin_runs()[before:])

    def test_zero_cache_duration_runs_every_time(self):
        secret = self.plugin_secret("test-nocache")
        agent = self.agent_with(secret, f"{REG['fix'].host}/team/h:v1")
        before = len(plugin_runs())
        self.assertRunning(self.org.run(agent))
        self.assertRunning(self.org.run(agent))
        self.assertEqual(len(plugin_runs()) - before, 2)

    def failing(self, plugin):
        secret = self.plugin_secret(plugin)
        return self.org.run(self.agent_with(secret, f"{REG['fix'].host}/team/a:v1"), timeout=30)

    def test_plugin_that_hangs_is_killed(self):
        started = time.time()
        workload = self.failing("test-hang")
        self.assertFailedWith(workload, 'plugin "test-hang" did not answer within 3s',
                              "process group was killed",
                              "waiting for the metadata service...")
        self.assertLess(time.time() - started, 15)
        # The killed plugin left nothing behind.
        leftover = subprocess.run(["pgrep", "-f", "credential_plugin.py --log"],
                                  capture_output=True, text=True).stdout.split()
        self.assertEqual(leftover, [])

    def test_plugin_that_exits_non_zero(self):
        workload = self.failing("test-fail")
        self.assertFailedWith(workload, 'plugin "test-fail" exited with status 3',
                              "error: no AWS credentials in the environment?[31m")

    def test_plugin_that_prints_invalid_json(self):
        workload = self.failing("test-badjson")
        self.assertFailedWith(workload, 'plugin "test-badjson" wrote invalid JSON on stdout')

    def test_plugin_that_answers_something_else(self):
        workload = self.failing("test-stray")
        self.assertFailedWith(workload, "something other than a CredentialProviderResponse")

    def test_plugin_must_match_the_image(self):
        before = len(plugin_runs())
        workload = self.failing("test-elsewhere")
        self.assertFailedWith(workload, 'plugin "test-elsewhere" does not serve image')
        self.assertEqual(len(plugin_runs()), before, "not run at all")


class CliTest(ShortLivedCase):
    """agyn image-pull-secrets create --ecr-provider / --plugin."""

    def agyn(self, *args):
        cli = os.environ.get("AGYN_CLI_BIN", os.path.join(os.path.dirname(AGYND), "agyn"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_API_URL=f"http://127.0.0.1:{self.server.port}",
                   AGYN_TOKEN=self.org.owner.token)
        return subprocess.run([cli, "--org", self.org.ctx.id, "-o", "json", *args],
                              capture_output=True, text=True, env=env, timeout=60)

    def test_cli_creates_short_lived_secrets(self):
        provider = self.provider({"region": "us-east-1", "access_key_id": "AKIACLI",
                                  "secret_access_key": "cli-secret-key-77aa",
                                  "ecr_endpoint_url": ECR.url})
        ecr = self.agyn("image-pull-secrets", "create", "--name", unique("ecr"), "--registry",
                        REG["fix"].host, "--ecr-provider", provider["name"])
        self.assertEqual(ecr.returncode, 0, ecr.stderr)
        self.assertEqual(json.loads(ecr.stdout)["password_source"], "ecr")
        plugin = self.agyn("image-pull-secrets", "create", "--name", unique("plug"),
                           "--registry", REG["fix"].host, "--plugin", "test-image")
        self.assertEqual(plugin.returncode, 0, plugin.stderr)
        self.assertEqual(json.loads(plugin.stdout)["plugin"], "test-image")
        both = self.agyn("image-pull-secrets", "create", "--name", unique("x"), "--registry",
                         REG["fix"].host, "--plugin", "test-image", "--username", "u")
        self.assertNotEqual(both.returncode, 0)
        self.assertIn("--username cannot be used with --plugin", both.stderr)
        unknown = self.agyn("image-pull-secrets", "create", "--name", unique("x"), "--registry",
                            REG["fix"].host, "--plugin", "/bin/sh")
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn("plugin", unknown.stderr)


class PluginConfigTest(unittest.TestCase):
    """agynd serve refuses a bad CredentialProviderConfig with the field named."""

    def serve(self, config_text, bin_dir=PLUGIN_DIR):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([AGYND, "init", "--data-dir", tmp + "/d"], check=True,
                           capture_output=True)
            path = os.path.join(tmp, "c.json")
            with open(path, "w") as f:
                f.write(config_text)
            return subprocess.run(
                [AGYND, "serve", "--data-dir", tmp + "/d", "--listen", f"127.0.0.1:{free_port()}",
                 "--image-credential-provider-config", path,
                 "--image-credential-provider-bin-dir", bin_dir],
                capture_output=True, text=True, timeout=30)

    def test_bad_configs(self):
        good = {"name": "test-image", "matchImages": ["*.example.com"],
                "defaultCacheDuration": "1h",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1"}
        cases = [
            ({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "CredentialProviderConfig",
              "providers": [good]}, "config.apiVersion must be"),
            ({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig",
              "providers": [dict(good, name="../bin/sh")]}, "providers[0].name must be a file"),
            ({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig",
              "providers": [dict(good, name="missing")]}, "is not an executable file"),
            ({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig",
              "providers": [dict(good, matchImages=[])]}, "providers[0].matchImages must list"),
            ({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig",
              "providers": [dict(good, defaultCacheDuration="soon")]},
             "providers[0].defaultCacheDuration"),
            ({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig",
              "providers": [dict(good, extra=1)]}, 'unknown field "extra"'),
        ]
        for config, fragment in cases:
            result = self.serve(json.dumps(config))
            self.assertEqual(result.returncode, 2, result)
            self.assertIn(fragment, result.stderr)
        result = self.serve("providers: [unclosed")
        self.assertEqual(result.returncode, 2, result)
        self.assertIn("line", result.stderr)


if __name__ == "__main__":
    unittest.main()
