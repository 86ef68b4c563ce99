"""test_readme_tour.py — the README's tour runs as printed, and `make demo` (scripts/demo.sh)
shows the failure and then the running workload; with a Docker engine, the workload's log line
(a temporary dockerd of tests/fixtures/docker_fixture.py), without one, why that part is skipped.

The tour's commands are the ```sh block between <!-- tour:begin --> and <!-- tour:end --> of
README.md (scripts/readme_tour.py extracts them without changing a character). They run in one
bash with `set -euo pipefail`, from a directory whose var/ is a fresh agynd data directory, with
the private registry of the demo (scripts/demo_registry.py: docker-registry with htpasswd,
busybox image built offline). Only the addresses come from the environment, as the tour allows:
AGYN_API_URL (the tour defaults to :8080) and DEMO_REGISTRY (default 127.0.0.1:5000).
"""
import os
import subprocess
import sys
import unittest

from agyn_testlib import AGYND, SOURCE_DIR, Server

AGYN = os.path.abspath(os.environ.get("AGYN_CLI_BIN", os.path.join(os.path.dirname(AGYND), "agyn")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
import readme_tour  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures"))
import docker_fixture  # noqa: E402

README = os.path.join(SOURCE_DIR, "README.md")


def start_demo_registry():
    proc = subprocess.Popen([sys.executable, os.path.join(SOURCE_DIR, "scripts", "demo_registry.py"),
                             "--port", "0", "--exit-on-stdin-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("READY "):
            return proc, line.split()[1]
    proc.wait()
    raise RuntimeError(f"demo_registry.py exited with {proc.returncode}")


def stop(proc):
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()


class ReadmeTour(unittest.TestCase):
    def test_tour_as_printed_reaches_running(self):
        with open(README) as f:
            text = f.read()
        commands = readme_tour.commands(text)
        self.assertTrue(any("--password-stdin" in c for c in commands))
        registry_proc, registry = start_demo_registry()
        self.addCleanup(stop, registry_proc)
        server = Server(extra_args=["--pull-backoff-initial", "1s"])  # started, fresh data dir
        self.addCleanup(server.close)
        with open(os.path.join(server.data_dir, "admin-token"), "w") as f:
            f.write(server.admin_token + "\n")
        os.symlink(server.data_dir, os.path.join(server.tmp, "var"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(PATH=os.path.dirname(AGYN) + os.pathsep + env.get("PATH", ""),
                   AGYN_API_URL=f"http://127.0.0.1:{server.port}", DEMO_REGISTRY=registry)
        proc = subprocess.run(["bash", "-c", readme_tour.script(text)], cwd=server.tmp, env=env,
                              capture_output=True, text=True, timeout=180)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, out)
        for command in commands:  # each printed before it ran
            self.assertIn("$ " + command, proc.stdout)
        self.assertIn("image_pull_failed", out)
        self.assertIn("ImagePullBackOff", out)
        self.assertIn("unauthorized: authentication required", out)
        self.assertNotIn("demo-password", out.replace("echo demo-password", ""))
        # The end state, asked of the API: the last workload of the tour's agent is running.
        client = server.admin()
        orgs = client.get("/api/v1/organizations").json["items"]
        org = next(o for o in orgs if o["name"] == "acme")
        workloads = client.get(f"/api/v1/organizations/{org['id']}/workloads").json["items"]
        statuses = sorted((w["created_at"], w["status"]) for w in workloads)
        self.assertEqual([s for _, s in statuses], ["failed", "running"])

    def run_demo(self, docker_host):
        env = dict(os.environ, AGYN_BIN_DIR=os.path.dirname(os.path.abspath(AGYND)),
                   DOCKER_HOST=docker_host)
        proc = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "demo.sh")], env=env,
                              capture_output=True, text=True, timeout=240)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, out)
        failed = out.index("failure_reason:  image_pull_failed")
        self.assertIn("ImagePullBackOff", out)
        self.assertGreater(out.index("status:          running"), failed)
        self.assertIn("== Done", out)
        return out

    def test_make_demo_shows_failure_then_running(self):
        out = self.run_demo("unix:///nonexistent/docker.sock")
        self.assertIn("Docker runtime: skipped (no Docker engine socket at "
                      "/nonexistent/docker.sock; set DOCKER_HOST)", out)
        self.assertNotIn("hello from the agyn demo", out)

    @unittest.skipIf(docker_fixture.available(), "needs dockerd and busybox-static")
    def test_make_demo_with_a_docker_engine_prints_the_log_line(self):
        engine = docker_fixture.Dockerd().start()
        self.addCleanup(engine.close)
        out = self.run_demo(engine.host)
        logs = out.index("$ agyn --org acme workloads logs ")
        self.assertGreater(out.index("hello from the agyn demo", logs), logs)
        # The demo stopped its workload: no container of it is left in the engine.
        self.assertEqual(engine.containers(), [])


if __name__ == "__main__":
    unittest.main()
