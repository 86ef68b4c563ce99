"""The `docker` runtime against a real engine: dockerd from Debian's docker.io in a temporary
directory (tests/fixtures/docker_fixture.py), runnable busybox images pushed to the htpasswd
docker-registry. Covers the credential each container's engine pull uses (right, wrong,
fall-through, MCP/hook with their own), the cached-image theft case (KEP-2535 class), pods
(MCP and hook reach the agent on localhost), exit codes, stop, the logs endpoint, agynd
restarted while containers run (adopted), the engine stopped and started, restart policies
(on-failure with CrashLoopBackOff and restart_count, always, never), command/args/env reaching the
container, how fast an engine event reaches the SSE stream, and that no password reaches the
engine's inspect output, image list, env, labels, logs or agynd's log.
"""
import datetime
import json
import os
import subprocess
import threading
import time
import unittest
import urllib.parse

from agyn_testlib import Server
from runner_helpers import (Org, container, open_stream, registry_fixture, unique,
                            wait_for_status)

rf = registry_fixture
import docker_fixture as df  # noqa: E402  (tests/fixtures is on sys.path via runner_helpers)

USERS = {"alice": "alice-pw-d0c4e1", "bob": "bob-pw-77aa02"}
WRONG = "wrong-pw-5e5e5e"
PASSWORDS = set(USERS.values()) | {WRONG}
ENGINE = None
REG = None
IMG = {}


def setUpModule():
    global ENGINE, REG
    why = df.available()
    if why:
        raise unittest.SkipTest(why)
    ENGINE = df.Dockerd().start()
    REG = rf.Registry(auth="htpasswd", users=USERS).start()
    creds = "alice:" + USERS["alice"]
    images = {
        "hello": ("/bin/sh", "-c", "echo hello-from-agent; echo to-stderr >&2; sleep 300"),
        "exit3": ("/bin/sh", "-c", "echo bye; exit 3"),
        "done": ("/bin/sh", "-c", "echo done"),
        "server": ("/bin/sh", "-c", "while true; do echo pong | nc -l -p 7070; done"),
        "client": ("/bin/sh", "-c", "sleep 0.3; for i in 1 2 3 4 5 6 7 8 9 10; do "
                   "r=$(echo ping | nc 127.0.0.1 7070) && echo got-$r && break; sleep 0.3; "
                   "done; sleep 300"),
        "sleeper": ("/bin/sh", "-c", "trap 'echo got-term; exit 0' TERM; "
                    "while true; do sleep 0.1; done"),
    }
    for name, cmd in images.items():
        df.push_busybox(REG.direct_host, "team/" + name, "v1", creds=creds, cmd=cmd)
        IMG[name] = f"{REG.host}/team/{name}:v1"


def tearDownModule():
    if REG:
        REG.stop()
    if ENGINE:
        ENGINE.close()


class DockerRuntimeTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=[
            "--runtime", "docker", "--docker-host", ENGINE.host, "--docker-network", "none",
            "--stop-grace", "2s", "--pull-backoff-initial", "200ms", "--pull-backoff-max",
            "800ms", "--start-grace", "20s", "--crash-backoff-initial", "300ms",
            "--crash-backoff-max", "600ms"])

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.close()

    def org(self):
        return Org(self, self.server)

    def agent_with(self, org, image, password=USERS["alice"], user="alice"):
        agent = org.agent(IMG[image])
        if password:
            org.attach(org.secret(REG.host, user, password), agent)
        return agent

    def logs(self, org, workload, name, query="", timeout=30):
        return org.member.raw(
            "GET", org.path(f"/workloads/{workload['id']}/containers/{name}/logs{query}"),
            timeout=timeout)

    def wait_logs(self, org, workload, name, text, timeout=15):
        deadline = time.time() + timeout
        body = ""
        while time.time() < deadline:
            resp = self.logs(org, workload, name)
            body = resp.body
            if text in body:
                return body
            time.sleep(0.1)
        self.fail(f"{text!r} not in the logs of {name}: {body!r}")

    def engine_container(self, workload, name):
        for c in ENGINE.containers():
            labels = c["Labels"]
            if labels["io.agyn.workload"] == workload["id"] and labels["io.agyn.container"] == name:
                return c
        return None

    # --- credentials -------------------------------------------------------------------------

    def test_right_credential_runs_and_logs(self):
        org = self.org()
        agent = self.agent_with(org, "hello")
        w = org.run(agent, ("running", "failed"))
        self.assertEqual(w["status"], "running", w)
        main = container(w, "main")
        self.assertEqual(main["status"], "running")
        self.assertTrue(main["image_digest"].startswith("sha256:"))
        text = self.wait_logs(org, w, main["name"], "hello-from-agent")
        self.assertIn("to-stderr", text)
        c = self.engine_container(w, main["name"])
        self.assertEqual(c["Names"][0], f"/agyn-{w['id'][:12]}-{main['name']}")
        self.assertIn("@" + main["image_digest"], c["Image"])
        inspect = ENGINE.get(f"/containers/{c['Id']}/json")
        self.assertIn("no-new-privileges:true", inspect["HostConfig"]["SecurityOpt"])
        self.assertFalse(inspect["HostConfig"]["Privileged"])
        self.assertFalse(inspect["Mounts"])
        self.assertEqual(inspect["HostConfig"]["NetworkMode"], "none")
        self.assertEqual(inspect["Config"]["Labels"]["io.agyn.organization"], org.ctx.id)
        # tail and timestamps
        resp = self.logs(org, w, main["name"], "?tail=1&timestamps=true")
        self.assertEqual(resp.status, 200)
        self.assertEqual(len(resp.body.strip().splitlines()), 1, resp.body)
        self.assertRegex(resp.body, r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(self.logs(org, w, main["name"], "?tail=-2").status, 400)
        self.assertEqual(self.logs(org, w, "nope").status, 404)
        # The CLI prints the same stream.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_API_URL=f"http://127.0.0.1:{self.server.port}",
                   AGYN_TOKEN=org.member.token)
        cli_bin = os.environ.get("AGYN_CLI_BIN") or os.path.join(
            os.path.dirname(os.environ["AGYND_BIN"]), "agyn")
        cli = subprocess.run([cli_bin, "--org", org.ctx.id, "workloads", "logs", w["id"],
                              "--tail", "5"], capture_output=True, text=True, env=env,
                             timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("hello-from-agent", cli.stdout)
        self.stop(org, w)

    def test_wrong_credential_fails_like_the_seed(self):
        org = self.org()
        agent = self.agent_with(org, "hello", password=WRONG)
        w = org.run(agent, ("running", "failed"))
        self.assertEqual(w["status"], "failed", w)
        self.assertEqual(w["failure_reason"], "image_pull_failed")
        main = container(w, "main")
        self.assertIn(main["reason"], ("ErrImagePull", "ImagePullBackOff"))
        self.assertIn("unauthorized", main["message"].lower())
        self.assertIsNone(self.engine_container(w, main["name"]))

    def test_fall_through_from_wrong_to_right(self):
        org = self.org()
        agent = org.agent(IMG["done"])
        wrong = org.secret(REG.host, "alice", WRONG, name=unique("a-wrong"))
        right = org.secret(REG.host, "alice", USERS["alice"], name=unique("b-right"))
        org.attach(wrong, agent)
        org.attach(right, agent)
        w = org.run(agent, ("succeeded", "failed"))
        self.assertEqual(w["status"], "succeeded", w)
        main = container(w, "main")
        self.assertEqual(main["credential"]["image_pull_secret_id"], right["id"])
        self.assertEqual(main["exit_code"], 0)
        self.assertEqual(main["reason"], "Completed")

    def test_cached_image_is_not_stolen(self):
        owner = self.org()
        w = owner.run(self.agent_with(owner, "done"), ("succeeded", "failed"))
        self.assertEqual(w["status"], "succeeded", w)
        # Same image now in the engine's cache; another organization without the secret and
        # an agent of the same organization without one must both fail.
        thief = self.org()
        stolen = thief.run(thief.agent(IMG["done"]), ("running", "succeeded", "failed"))
        self.assertEqual(stolen["status"], "failed", stolen)
        self.assertEqual(stolen["failure_reason"], "image_pull_failed")
        bare = owner.run(owner.agent(IMG["done"]), ("running", "succeeded", "failed"))
        self.assertEqual(bare["failure_reason"], "image_pull_failed", bare)
        wrong = self.agent_with(thief, "done", password=WRONG)
        self.assertEqual(thief.run(wrong, ("running", "succeeded", "failed"))["status"],
                         "failed")

    # --- pods, lifecycle ---------------------------------------------------------------------

    def test_mcp_and_hook_reach_the_agent_on_localhost(self):
        org = self.org()
        agent = self.agent_with(org, "server")
        mcp = org.mcp(agent, IMG["client"])
        hook = org.hook(agent, IMG["client"])
        # Each with its own credential (bob's); the agent's does not apply to them.
        bob = org.secret(REG.host, "bob", USERS["bob"])
        org.attach(bob, mcp, "mcp_id")
        org.attach(bob, hook, "hook_id")
        w = org.run(agent, ("running", "failed"))
        self.assertEqual(w["status"], "running", w)
        for role in ("mcp", "hook"):
            c = container(w, role)
            self.assertEqual(c["credential"]["image_pull_secret_id"], bob["id"])
            self.wait_logs(org, w, c["name"], "got-pong")
            inspect = ENGINE.get(f"/containers/{c['container_id']}/json")
            self.assertTrue(inspect["HostConfig"]["NetworkMode"].startswith("container:"))
        self.stop(org, w)

    def test_exit_codes(self):
        org = self.org()
        w = org.run(self.agent_with(org, "exit3"), ("succeeded", "failed"))
        self.assertEqual(w["status"], "failed", w)
        self.assertEqual(w["failure_reason"], "container_failed")
        main = container(w, "main")
        self.assertEqual((main["status"], main["exit_code"], main["reason"]),
                         ("terminated", 3, "Error"))
        self.assertIn("bye", self.logs(org, w, main["name"]).body)

    def stop(self, org, w):
        resp = org.member.post(org.path(f"/workloads/{w['id']}/stop"))
        self.assertEqual(resp.status, 200, resp)
        done = wait_for_status(org.member, org.ctx, w["id"], "stopped", timeout=30)
        for c in done["containers"]:
            self.assertIsNone(self.engine_container(w, c["name"]))
        return done

    def test_stop_with_grace_then_removed(self):
        org = self.org()
        w = org.run(self.agent_with(org, "sleeper"), ("running", "failed"))
        self.assertEqual(w["status"], "running", w)
        main = container(w, "main")
        followed = {}

        def follow():
            followed["resp"] = self.logs(org, w, main["name"], "?follow=true", timeout=30)

        reader = threading.Thread(target=follow)
        reader.start()
        time.sleep(0.5)
        started = time.time()
        done = self.stop(org, w)
        self.assertLess(time.time() - started, 10)
        self.assertEqual(container(done, "main")["reason"], "Stopped")
        reader.join(30)
        # The follow ended with the container, and saw its answer to SIGTERM.
        self.assertFalse(reader.is_alive())
        self.assertIn("got-term", followed["resp"].body)

    def test_follow_streams_until_the_container_ends(self):
        org = self.org()
        w = org.start(self.agent_with(org, "exit3"))
        w = wait_for_status(org.member, org.ctx, w["id"], ("running", "failed"), timeout=30)
        main = container(w, "main")
        resp = self.logs(org, w, main["name"], "?follow=true", timeout=20)
        self.assertEqual(resp.status, 200)
        self.assertIn("bye", resp.body)


    # --- restart policy ----------------------------------------------------------------------

    def watch_main(self, org, w, until, timeout=20):
        """Polls the workload until until(main container) holds; returns (workload, the
        workload statuses and main container reasons and messages seen meanwhile)."""
        deadline = time.time() + timeout
        seen = {"status": set(), "reason": set(), "message": []}
        while time.time() < deadline:
            cur = org.get_workload(w["id"])
            main = container(cur, "main")
            seen["status"].add(cur["status"])
            seen["reason"].add(main["reason"])
            if main["message"] and main["message"] not in seen["message"]:
                seen["message"].append(main["message"])
            if until(main):
                return cur, seen
            time.sleep(0.03)
        self.fail(f"main container never satisfied the condition: {cur} (seen {seen})")

    def test_restart_on_failure_crash_loop(self):
        org = self.org()
        w = org.run(self.agent_with(org, "exit3"), ("running", "failed"),
                    restart_policy="on-failure")
        self.assertEqual(w["restart_policy"], "on-failure")
        self.assertEqual(w["status"], "running", w)
        cur, seen = self.watch_main(org, w, lambda c: c["restart_count"] >= 3)
        # The workload stays running while its main container crash-loops.
        self.assertEqual(seen["status"], {"running"}, seen)
        self.assertIn("CrashLoopBackOff", seen["reason"])
        backoffs = [m for m in seen["message"] if m.startswith("back-off")]
        # 300ms, doubling to the 600ms maximum.
        self.assertTrue(any("back-off 300ms" in m for m in backoffs), backoffs)
        self.assertTrue(any("back-off 600ms" in m for m in backoffs), backoffs)
        self.assertFalse(any("back-off 1200ms" in m or "back-off 1.2s" in m for m in backoffs))
        self.assertIn("exited with code 3", backoffs[0])
        main = container(cur, "main")
        self.assertEqual(main["exit_code"], 3)
        # The same container ran each time: its log holds every run's output.
        self.assertGreaterEqual(self.logs(org, w, main["name"]).body.count("bye"), 3)
        done = self.stop(org, w)
        self.assertGreaterEqual(container(done, "main")["restart_count"], 3)

    def test_restart_always_restarts_a_completed_container(self):
        org = self.org()
        w = org.run(self.agent_with(org, "done"), ("running", "succeeded", "failed"),
                    restart_policy="always")
        self.assertEqual(w["status"], "running", w)
        cur, seen = self.watch_main(org, w, lambda c: c["restart_count"] >= 1)
        self.assertEqual(seen["status"], {"running"}, seen)
        self.assertIn("CrashLoopBackOff", seen["reason"])
        self.assertEqual(container(cur, "main")["exit_code"], 0)
        self.stop(org, w)

    def test_restart_never_and_on_failure_after_success(self):
        org = self.org()
        agent = self.agent_with(org, "done")
        for policy in ("never", "on-failure"):
            w = org.run(agent, ("succeeded", "failed"), restart_policy=policy)
            self.assertEqual((w["status"], w["restart_policy"]), ("succeeded", policy), w)
            self.assertEqual(container(w, "main")["restart_count"], 0)
        w = org.run(self.agent_with(org, "exit3"), ("succeeded", "failed"))
        self.assertEqual((w["status"], w["restart_policy"]), ("failed", "never"), w)
        self.assertEqual(container(w, "main")["restart_count"], 0)
        bad = org.member.post(org.path("/workloads"),
                              {"agent_id": agent["id"], "restart_policy": "sometimes"})
        self.assertEqual(bad.status, 422, bad)
        self.assertEqual(bad.json["error"]["field"], "restart_policy")

    # --- command, args, env ------------------------------------------------------------------

    def test_command_args_env_reach_the_container(self):
        org = self.org()
        agent = self.agent_with(org, "done")
        resp = org.owner.patch(org.path(f"/agents/{agent['id']}"), {
            "command": ["/bin/sh", "-c"],
            "args": ['echo "run-$GREETING-$1"; sleep 300', "sh", "ARG1"],
            "env": {"GREETING": "hi there"}})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["args"][2], "ARG1")
        mcp = org.mcp(agent, IMG["done"], command=["/bin/sh", "-c", "echo mcp-$ROLE; sleep 300"],
                      env={"ROLE": "sidecar"})
        hook = org.hook(agent, IMG["done"])  # nothing set: the image's own command
        for part, column in ((mcp, "mcp_id"), (hook, "hook_id")):
            org.attach(org.secret(REG.host, "alice", USERS["alice"]), part, column)
        w = org.run(agent, ("running", "failed", "succeeded"))
        self.assertEqual(w["status"], "running", w)
        main = container(w, "main")
        self.assertEqual(main["env"], {"GREETING": "hi there"})
        self.wait_logs(org, w, main["name"], "run-hi there-ARG1")
        self.assertNotIn("done", self.logs(org, w, main["name"]).body)
        self.wait_logs(org, w, container(w, "mcp")["name"], "mcp-sidecar")
        self.wait_logs(org, w, container(w, "hook")["name"], "done")
        inspect = ENGINE.get(f"/containers/{main['container_id']}/json")
        self.assertEqual(inspect["Config"]["Entrypoint"], ["/bin/sh", "-c"])
        self.assertIn("GREETING=hi there", inspect["Config"]["Env"])
        self.stop(org, w)

    # --- latency -----------------------------------------------------------------------------

    @staticmethod
    def engine_time(text):
        """Docker's RFC 3339 time with nanoseconds, as a Unix time."""
        head, _, frac = text.rstrip("Z").partition(".")
        base = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return base + (float("0." + frac) if frac else 0.0)

    def test_engine_event_reaches_sse_fast(self):
        """From the container's end (the engine's FinishedAt, and the return of a stop sent to
        the engine directly) to the SSE event that reports it."""
        org = self.org()
        agent = self.agent_with(org, "sleeper")
        exiting = self.agent_with(org, "exit3")
        figures = {"die_event": [], "finished_at": [], "engine_stop": []}
        since = int(time.time()) - 1
        received = {}  # engine container id -> when the SSE event arrived
        with open_stream(self.server, org.ctx) as stream:
            for _ in range(3):
                w = org.run(exiting, ("failed", "succeeded"))
                ended = stream.wait_for(
                    lambda e: e.type == "workload.status_changed" and e.data.get("id") == w["id"]
                    and e.data.get("status") == "failed", what="the failed workload")
                main = container(w, "main")
                finished = self.engine_time(
                    ENGINE.get(f"/containers/{main['container_id']}/json")["State"]["FinishedAt"])
                figures["finished_at"].append(ended.received_at - finished)
                received[main["container_id"]] = ended.received_at
                w = org.run(agent, ("running", "failed"))
                main = container(w, "main")
                ENGINE.request("POST", f"/containers/{main['container_id']}/kill?signal=KILL")
                returned = time.time()
                ended = stream.wait_for(
                    lambda e: e.type == "workload.status_changed" and e.data.get("id") == w["id"]
                    and e.data.get("status") in ("failed", "succeeded"), what="the end")
                finished = self.engine_time(
                    ENGINE.get(f"/containers/{main['container_id']}/json")["State"]["FinishedAt"])
                figures["finished_at"].append(ended.received_at - finished)
                figures["engine_stop"].append(ended.received_at - returned)
                received[main["container_id"]] = ended.received_at
        # The engine's own time of each die event (timeNano) to the SSE event: agynd's part.
        time.sleep(1.1)
        filters = json.dumps({"event": ["die"], "type": ["container"]})
        status, body = ENGINE.request(
            "GET", f"/events?since={since}&until={int(time.time())}&filters="
            + urllib.parse.quote(filters))
        self.assertEqual(status, 200, body)
        for line in body.decode().splitlines():
            event = json.loads(line)
            container_id = event.get("Actor", {}).get("ID")
            if container_id in received:
                figures["die_event"].append(received[container_id] - event["timeNano"] / 1e9)
        self.assertEqual(len(figures["die_event"]), 6, figures)
        report = {k: sorted(round(v * 1000, 1) for v in vs) for k, vs in figures.items()}
        print(f"\nengine event to SSE, ms: {report}", flush=True)
        # agynd's part (the engine's die event to the SSE event) is the 100 ms promise: the
        # figures are printed (24-52 ms on a quiet run); beside other suites on a shared 2-core
        # machine with a sanitizer build the assertion only guards against polling (seconds).
        self.assertLess(sorted(figures["die_event"])[3], 1.0, report)
        self.assertLess(sorted(figures["engine_stop"])[1], 1.0, report)

    # --- restarts ----------------------------------------------------------------------------

    def test_agynd_restart_adopts_running_containers(self):
        org = self.org()
        w = org.run(self.agent_with(org, "hello"), ("running", "failed"))
        main = container(w, "main")
        before = ENGINE.get(f"/containers/{main['container_id']}/json")["State"]["StartedAt"]
        self.server.proc.kill()
        self.server.proc.wait()
        orphan = ENGINE.request("POST", "/containers/create?name=agyn-orphan-x", {
            "Image": ENGINE.get(f"/containers/{main['container_id']}/json")["Image"],
            "Labels": {"io.agyn.workload": "00000000-0000-4000-8000-000000000000",
                       "io.agyn.container": "x"}, "HostConfig": {"NetworkMode": "none"}})
        self.assertEqual(orphan[0], 201, orphan)
        self.server.start()
        time.sleep(1.0)
        again = org.get_workload(w["id"])
        self.assertEqual(again["status"], "running", again)
        after = ENGINE.get(f"/containers/{main['container_id']}/json")["State"]
        self.assertTrue(after["Running"])
        self.assertEqual(after["StartedAt"], before)  # adopted, not restarted
        names = [c["Names"][0] for c in ENGINE.containers()]
        self.assertNotIn("/agyn-orphan-x", names)
        # A container that vanished while agynd was away: ContainerMissing.
        self.server.proc.kill()
        self.server.proc.wait()
        ENGINE.request("DELETE", f"/containers/{main['container_id']}?force=1")
        self.server.start()
        gone = wait_for_status(org.member, org.ctx, w["id"], "failed", timeout=15)
        self.assertEqual(container(gone, "main")["reason"], "ContainerMissing")

    def test_engine_stopped_and_started(self):
        org = self.org()
        ENGINE.stop()
        try:
            ready = org.member.raw("GET", "/readyz")
            self.assertIn(ready.status, (502, 503), ready)
            self.assertIn("container engine", ready.json["error"]["message"])
            w = org.start(self.agent_with(org, "done"))
            deadline = time.time() + 10
            while time.time() < deadline:
                cur = org.get_workload(w["id"])
                if container(cur, "main")["reason"] == "EngineUnavailable":
                    break
                time.sleep(0.1)
            self.assertEqual(container(cur, "main")["reason"], "EngineUnavailable", cur)
            self.assertEqual(cur["status"], "starting")
        finally:
            ENGINE.start()
        done = wait_for_status(org.member, org.ctx, w["id"], ("succeeded", "failed"), timeout=30)
        self.assertEqual(done["status"], "succeeded", done)
        self.assertEqual(org.member.raw("GET", "/readyz").status, 200)

    # --- secrets -----------------------------------------------------------------------------

    def test_zz_no_password_anywhere(self):
        dumps = [json.dumps(ENGINE.get("/images/json?all=1"))]
        for c in ENGINE.get("/containers/json?all=1"):
            dumps.append(json.dumps(ENGINE.get(f"/containers/{c['Id']}/json")))
            status, body = ENGINE.request(
                "GET", f"/containers/{c['Id']}/logs?stdout=1&stderr=1")
            dumps.append(body.decode("latin-1"))
        dumps.append(self.server.logs())
        dumps.append(ENGINE.log_tail())
        for password in PASSWORDS:
            for text in dumps:
                self.assertNotIn(password, text)
        self.assertGreater(len(dumps), 3)


if __name__ == "__main__":
    unittest.main()
