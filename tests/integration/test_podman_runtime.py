"""The `docker` runtime against Podman's Docker-compatible service (Debian's podman, run by
tests/fixtures/podman_fixture.py in a temporary directory): the credential each engine pull
uses (right, wrong, fall-through), the cached-image theft case (KEP-2535 class), no password in
the engine's image list, inspect output or agynd's log, and a start error reported as
RunContainerError with the engine's message. The lifecycle tests (runs, logs, stop, exit code)
need containers to start under Podman: setUpModule checks that once and they are skipped, naming
the engine's error, where the machine does not allow it.
"""
import base64
import json
import time
import unittest

from agyn_testlib import Server
from runner_helpers import Org, container, registry_fixture, unique, wait_for_status

rf = registry_fixture
import docker_fixture as df  # noqa: E402  (tests/fixtures is on sys.path via runner_helpers)
import podman_fixture as pf  # noqa: E402

USERS = {"alice": "alice-pw-90d3a1", "bob": "bob-pw-90d3b2"}
WRONG = "wrong-pw-90d3ff"
PASSWORDS = set(USERS.values()) | {WRONG}
ENGINE = None
REG = None
IMG = {}
START_ERROR = None  # the engine's message when no container can start here


def setUpModule():
    why = pf.available()
    if why:
        raise unittest.SkipTest(why)
    try:
        start_engine_and_images()
    except BaseException:
        tearDownModule()  # unittest does not call it when setUpModule fails
        raise


def start_engine_and_images():
    global ENGINE, REG, START_ERROR
    REG = rf.Registry(auth="htpasswd", users=USERS).start()
    # Podman, unlike dockerd, does not treat loopback registries as plain HTTP by itself.
    ENGINE = pf.Podman(insecure_registries=[REG.host]).start()
    creds = "alice:" + USERS["alice"]
    images = {
        "hello": ("/bin/sh", "-c", "echo hello-from-podman; sleep 300"),
        "fresh": ("/bin/sh", "-c", "echo fresh; sleep 300"),  # only the right-credential test
        "private": ("/bin/sh", "-c", "exit 0"),  # only ever asked for with a wrong password
        "exit3": ("/bin/sh", "-c", "echo bye; exit 3"),
        "done": ("/bin/sh", "-c", "echo done"),
        "probe": ("/bin/sh", "-c", "exit 0"),
    }
    for name, cmd in images.items():
        df.push_busybox(REG.direct_host, "team/" + name, "v1", creds=creds, cmd=cmd)
        IMG[name] = f"{REG.host}/team/{name}:v1"
    # Can a container start under Podman here? Pull a probe image (not one the tests use) with
    # alice's credential and start it once.
    auth = base64.urlsafe_b64encode(json.dumps(
        {"username": "alice", "password": USERS["alice"], "serveraddress": REG.host}).encode())
    conn = df._UnixConnection(ENGINE.socket, 60)
    try:
        conn.request("POST", f"/v1.41/images/create?fromImage={REG.host}/team/probe&tag=v1",
                     headers={"X-Registry-Auth": auth.decode()})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200 or b'"error"' in body:
        raise RuntimeError(f"probe pull through Podman failed: {resp.status} {body[-500:]!r}")
    START_ERROR = ENGINE.start_error(IMG["probe"])


def tearDownModule():
    if REG:
        REG.stop()
    if ENGINE:
        ENGINE.close()


def needs_running_containers(test):
    def run(self):
        if START_ERROR:
            self.skipTest("no container can start under Podman on this machine: "
                          + START_ERROR)
        return test(self)
    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


class PodmanRuntimeTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=[
            "--runtime", "docker", "--docker-host", ENGINE.host, "--docker-network", "none",
            "--stop-grace", "2s", "--pull-backoff-initial", "200ms", "--pull-backoff-max",
            "800ms", "--start-grace", "20s"])

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

    def engine_images(self):
        """Every repo tag and repo digest in Podman's image store."""
        names = set()
        for image in ENGINE.get("/images/json?all=1"):
            names.update(image.get("RepoTags") or [])
            names.update(image.get("RepoDigests") or [])
        return names

    def assert_started_or_start_error(self, w):
        """With containers allowed to start: the workload runs. Without: it fails at start with
        the engine's own message, after the pull succeeded."""
        main = container(w, "main")
        self.assertNotIn(main["reason"], ("ErrImagePull", "ImagePullBackOff"), w)
        if START_ERROR:
            self.assertEqual(w["status"], "failed", w)
            self.assertEqual(w["failure_reason"], "container_start_failed", w)
            self.assertEqual(main["reason"], "RunContainerError", w)
            self.assertIn("rlimit", main["message"], w)
        else:
            self.assertIn(w["status"], ("running", "succeeded"), w)

    # --- credentials -------------------------------------------------------------------------

    def test_right_credential_is_pulled_by_podman(self):
        self.assertFalse([n for n in self.engine_images() if "/team/fresh" in n])
        org = self.org()
        w = org.run(self.agent_with(org, "fresh"), ("running", "failed"))
        main = container(w, "main")
        self.assertTrue(main["image_digest"].startswith("sha256:"), w)
        self.assertIn(f"{REG.host}/team/fresh@{main['image_digest']}", self.engine_images())
        self.assert_started_or_start_error(w)
        if w["status"] == "running":
            self.stop(org, w)

    def test_wrong_credential_fails_like_the_seed(self):
        org = self.org()
        secret = org.secret(REG.host, "alice", WRONG, name=unique("wrong"))
        agent = org.agent(IMG["private"])
        org.attach(secret, agent)
        w = org.run(agent, ("running", "failed"))
        self.assertEqual(w["status"], "failed", w)
        self.assertEqual(w["failure_reason"], "image_pull_failed")
        main = container(w, "main")
        self.assertIn(main["reason"], ("ErrImagePull", "ImagePullBackOff"))
        self.assertIn(f'image pull secret "{secret["name"]}"', main["message"])
        self.assertIn("unauthorized", main["message"].lower())
        self.assertFalse([n for n in self.engine_images() if "/team/private" in n])
        self.assertEqual([c for c in ENGINE.containers()
                          if c["Labels"]["io.agyn.workload"] == w["id"]], [])

    def test_fall_through_from_wrong_to_right(self):
        org = self.org()
        agent = org.agent(IMG["done"])
        wrong = org.secret(REG.host, "alice", WRONG, name=unique("a-wrong"))
        right = org.secret(REG.host, "bob", USERS["bob"], name=unique("b-right"))
        org.attach(wrong, agent)
        org.attach(right, agent)
        w = org.run(agent, ("succeeded", "failed"))
        main = container(w, "main")
        self.assertEqual(main["credential"]["image_pull_secret_id"], right["id"], w)
        self.assertIn(f"{REG.host}/team/done@{main['image_digest']}", self.engine_images())
        self.assert_started_or_start_error(w)
        if not START_ERROR:
            self.assertEqual((w["status"], main["exit_code"], main["reason"]),
                             ("succeeded", 0, "Completed"), w)

    def test_cached_image_is_not_stolen(self):
        owner = self.org()
        w = owner.run(self.agent_with(owner, "done"), ("succeeded", "failed"))
        main = container(w, "main")
        self.assertIn(f"{REG.host}/team/done@{main['image_digest']}", self.engine_images())
        # The image is in Podman's store now; another organization without the secret, an
        # agent of the same organization without one, and one with a wrong one all fail.
        thief = self.org()
        stolen = thief.run(thief.agent(IMG["done"]), ("running", "succeeded", "failed"))
        self.assertEqual((stolen["status"], stolen["failure_reason"]),
                         ("failed", "image_pull_failed"), stolen)
        bare = owner.run(owner.agent(IMG["done"]), ("running", "succeeded", "failed"))
        self.assertEqual((bare["status"], bare["failure_reason"]),
                         ("failed", "image_pull_failed"), bare)
        wrong = thief.run(self.agent_with(thief, "done", password=WRONG),
                          ("running", "succeeded", "failed"))
        self.assertEqual((wrong["status"], wrong["failure_reason"]),
                         ("failed", "image_pull_failed"), wrong)
        for stopped in (stolen, bare, wrong):
            self.assertEqual([c for c in ENGINE.containers()
                              if c["Labels"]["io.agyn.workload"] == stopped["id"]], [])

    # --- lifecycle (needs containers to start) -----------------------------------------------

    def logs(self, org, w, name, query=""):
        return org.member.raw(
            "GET", org.path(f"/workloads/{w['id']}/containers/{name}/logs{query}"), timeout=30)

    def stop(self, org, w):
        resp = org.member.post(org.path(f"/workloads/{w['id']}/stop"))
        self.assertEqual(resp.status, 200, resp)
        done = wait_for_status(org.member, org.ctx, w["id"], "stopped", timeout=30)
        self.assertEqual([c for c in ENGINE.containers()
                          if c["Labels"]["io.agyn.workload"] == w["id"]], [])
        return done

    @needs_running_containers
    def test_runs_logs_and_stops(self):
        org = self.org()
        w = org.run(self.agent_with(org, "hello"), ("running", "failed"))
        self.assertEqual(w["status"], "running", w)
        main = container(w, "main")
        self.assertEqual(main["status"], "running")
        inspect = ENGINE.get(f"/containers/{main['container_id']}/json")
        self.assertTrue(inspect["State"]["Running"])
        self.assertEqual(inspect["Config"]["Labels"]["io.agyn.organization"], org.ctx.id)
        deadline = time.time() + 15
        body = ""
        while time.time() < deadline and "hello-from-podman" not in body:
            body = self.logs(org, w, main["name"]).body
            time.sleep(0.1)
        self.assertIn("hello-from-podman", body)
        done = self.stop(org, w)
        self.assertEqual(container(done, "main")["reason"], "Stopped")

    @needs_running_containers
    def test_exit_code(self):
        org = self.org()
        w = org.run(self.agent_with(org, "exit3"), ("succeeded", "failed"))
        self.assertEqual((w["status"], w["failure_reason"]), ("failed", "container_failed"), w)
        main = container(w, "main")
        self.assertEqual((main["status"], main["exit_code"], main["reason"]),
                         ("terminated", 3, "Error"))
        self.assertIn("bye", self.logs(org, w, main["name"]).body)

    # --- secrets -----------------------------------------------------------------------------

    def test_zz_no_password_anywhere(self):
        dumps = [json.dumps(ENGINE.get("/images/json?all=1"))]
        for image in ENGINE.get("/images/json?all=1"):
            dumps.append(json.dumps(ENGINE.get(f"/images/{image['Id']}/json")))
        for c in ENGINE.get("/containers/json?all=1"):
            dumps.append(json.dumps(ENGINE.get(f"/containers/{c['Id']}/json")))
        dumps.append(self.server.logs())
        dumps.append(ENGINE.log_tail())
        for password in PASSWORDS:
            for text in dumps:
                self.assertNotIn(password, text)
        self.assertGreater(len(dumps), 3)


class PodmanStartErrorTest(unittest.TestCase):
    """A second Podman service that keeps Podman's default RLIMIT_NOFILE, which this machine's
    sandbox refuses ("error setting rlimit type 7: operation not permitted"), wherever that is
    so: the workload fails at start with RunContainerError and the engine's message verbatim."""

    def test_start_error_names_the_engine_message(self):
        engine = pf.Podman(insecure_registries=[REG.host], clear_ulimits=False).start()
        server = None
        try:
            server = Server(extra_args=[
                "--runtime", "docker", "--docker-host", engine.host, "--docker-network",
                "none", "--start-grace", "20s"])
            org = Org(self, server)
            agent = org.agent(IMG["done"])
            org.attach(org.secret(REG.host, "alice", USERS["alice"]), agent)
            w = org.run(agent, ("running", "succeeded", "failed"))
            main = container(w, "main")
            if w["status"] == "succeeded":
                self.skipTest("Podman's default ulimits are allowed on this machine")
            self.assertEqual((w["status"], w["failure_reason"], main["reason"]),
                             ("failed", "container_start_failed", "RunContainerError"), w)
            self.assertIn("error setting rlimit type 7: operation not permitted",
                          main["message"])
        finally:
            if server:
                server.close()
            engine.close()


if __name__ == "__main__":
    unittest.main()
