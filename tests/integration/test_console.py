"""End-to-end tests of the Console: Node's test runner (tests/console/*.test.mjs) drives Debian's
chromium through playwright-core against a real agynd, a real htpasswd registry holding the
images, and the Vault stand-in.

This unittest (a) checks that node, npm, /usr/bin/chromium and tests/console/node_modules are
there (Node.js 20+ and npm come with the machine; `apt-get install -y chromium` and
`tests/console/install.sh` add the rest),
(b) starts the registry (with three images pushed), the Vault fixture (holding the registry
password at secret/ci/registry/password) and agynd with fast pull back-off, with an
organization and its owner and member tokens, and (c) runs `node --test tests/console/` with the
addresses and credentials in AGYN_* environment variables, failing when node fails.
Screenshots go to tests/artifacts/console/.

For working on the Console: `python3 tests/integration/test_console.py serve` starts the same
environment, prints the variables as `export` lines and waits for Ctrl-C; then
`node --test tests/console/` runs against it (AGYND_BIN picks the agynd binary).
"""
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agyn_testlib import FIXTURES, SOURCE_DIR, Server  # noqa: E402

sys.path.insert(0, FIXTURES)
import registry_fixture  # noqa: E402

CONSOLE_TESTS = os.path.join(SOURCE_DIR, "tests", "console")
ARTIFACTS = os.path.join(SOURCE_DIR, "tests", "artifacts", "console")
CHROMIUM = os.environ.get("AGYN_CHROMIUM", "/usr/bin/chromium")
REGISTRY_USER = "agyn-ci"
VAULT_PATH = "secret/ci/registry/password"


def missing_prerequisites():
    missing = []
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            missing.append(f"{tool} (Node.js 20 or later with npm; the machine image has them)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if not os.path.isdir(os.path.join(CONSOLE_TESTS, "node_modules", "playwright-core")):
        missing.append("tests/console/node_modules (run tests/console/install.sh)")
    return missing


class VaultFixture:
    """tests/fixtures/vault_fixture.py on a free port, with one KV v2 secret written."""

    def __init__(self):
        self.token = "vault-" + secrets.token_hex(12)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(FIXTURES, "vault_fixture.py"), "--port", "0",
             "--token", self.token], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                match = re.search(r"READY (\d+)", self.proc.stdout.readline())
                if match:
                    self.url = f"http://127.0.0.1:{match.group(1)}"
                    return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("vault_fixture.py did not start")

    def write(self, path, data):
        request = urllib.request.Request(
            f"{self.url}/v1/{path}", method="POST", data=json.dumps({"data": data}).encode(),
            headers={"X-Vault-Token": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class ConsoleEnvironment:
    """The registry, Vault and agynd the Node tests run against; .env holds their addresses."""

    def __init__(self):
        self.registry = self.vault = self.server = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        password = "pw-" + secrets.token_hex(10)
        self.registry = registry_fixture.Registry(auth="htpasswd", users={REGISTRY_USER: password})
        self.registry.start()
        images = {}
        for key, repo in (("AGENT", "acme/support-agent"), ("MCP", "acme/mcp-files"),
                          ("HOOK", "acme/hook-audit")):
            self.registry.push_image(repo, "1.0", layer_sizes=[2048])
            images[key] = f"{self.registry.host}/{repo}:1.0"
        self.vault = VaultFixture()
        mount, *rest = VAULT_PATH.split("/")
        self.vault.write(f"{mount}/data/{'/'.join(rest[:-1])}", {rest[-1]: password})
        self.server = Server(["--pull-backoff-initial", "200ms", "--start-grace", "3s"])
        org = self.server.new_org("acme")
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.env = {
            "AGYN_CONSOLE_URL": f"http://127.0.0.1:{self.server.port}",
            "AGYN_ADMIN_TOKEN": self.server.admin_token,
            "AGYN_ORG_ID": org.id,
            "AGYN_ORG_NAME": "acme",
            "AGYN_OWNER_TOKEN": org.owner.token,
            "AGYN_MEMBER_TOKEN": org.member.token,
            "AGYN_REGISTRY_HOST": self.registry.host,
            "AGYN_REGISTRY_USER": REGISTRY_USER,
            "AGYN_REGISTRY_PASSWORD": password,
            "AGYN_IMAGE_AGENT": images["AGENT"],
            "AGYN_IMAGE_MCP": images["MCP"],
            "AGYN_IMAGE_HOOK": images["HOOK"],
            "AGYN_VAULT_ADDR": self.vault.url,
            "AGYN_VAULT_TOKEN": self.vault.token,
            "AGYN_VAULT_PATH": VAULT_PATH,
            "AGYN_CHROMIUM": CHROMIUM,
            "AGYN_ARTIFACTS_DIR": ARTIFACTS,
        }

    def close(self):
        code, logs = 0, ""
        if self.server:
            logs = self.server.logs()
            code = self.server.close()
            self.server = None
        if self.vault:
            self.vault.stop()
            self.vault = None
        if self.registry:
            self.registry.stop()
            self.registry = None
        return code, logs


class ConsoleTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        missing = missing_prerequisites()
        if missing:
            raise AssertionError("the Console tests need: " + "; ".join(missing))
        cls.environment = ConsoleEnvironment()

    @classmethod
    def tearDownClass(cls):
        code, logs = cls.environment.close()
        if code != 0:
            raise AssertionError(f"agynd exited with {code} on SIGTERM:\n{logs[-4000:]}")
        if "ERROR: AddressSanitizer" in logs or "runtime error:" in logs:
            raise AssertionError("sanitizer report in agynd log:\n" + logs[-8000:])

    def test_console_end_to_end(self):
        env = dict(os.environ, **self.environment.env)
        env.pop("NODE_OPTIONS", None)
        result = subprocess.run(
            ["node", "--test", "--test-concurrency=1", "--test-reporter=spec", "tests/console/"], cwd=SOURCE_DIR, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=480)
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        self.assertEqual(result.returncode, 0, "node --test tests/console/ failed (output above); "
                                               f"screenshots in {ARTIFACTS}")
        self.assertRegex(result.stdout, r"(?m)^\S+ pass [1-9]")
        self.assertRegex(result.stdout, r"(?m)^\S+ fail 0$")


def serve():
    """Starts the environment and waits, for running `node --test tests/console/` by hand."""
    missing = missing_prerequisites()
    if missing:
        print("warning: missing " + "; ".join(missing), file=sys.stderr)
    environment = ConsoleEnvironment()

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        for key, value in environment.env.items():
            print(f"export {key}='{value}'")
        print(f"# agynd log: {environment.server.log_path}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        environment.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    else:
        unittest.main()
