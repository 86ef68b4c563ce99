"""Which attached image pull secrets apply to an image, and in which order: the API's answer
(GET .../{agents|mcps|hooks}/{id}/image-pull-secrets with matches_image and try_order, for the
resource's own image or ?image=) and the runner's order are the same rule
(credentials/pull_selection). Checked against a real htpasswd registry on loopback: with every
password wrong, the pull's failure message names the secrets in exactly the API's try_order.
"""
import unittest

from agyn_testlib import ServerTestCase, free_port
from runner_helpers import Org, container, registry_fixture as rf

USERS = {"alice": "alice-pw-selection-4d1e"}
WRONG = "not-the-password-selection-77b2"
REG = {}


def setUpModule():
    REG["ht"] = rf.Registry(auth="htpasswd", users=USERS).start()
    try:
        REG["ht"].push_image("team/app", "v1", [2000])
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for reg in REG.values():
        reg.stop()
    REG.clear()


class SelectionTest(ServerTestCase):
    server_args = ("--pull-backoff-initial", "200ms", "--pull-backoff-max", "400ms",
                   "--start-grace", "3s")

    def attached(self, o, part, target, image=None, client=None):
        query = "" if image is None else "?image=" + image.replace("[", "%5B").replace(
            "]", "%5D").replace(":", "%3A").replace("/", "%2F")
        resp = (client or o.member).get(o.path(f"/{part}/{target['id']}/image-pull-secrets"
                                               + query))
        self.assertEqual(resp.status, 200, resp)
        return [(item["name"], item["matches_image"], item["try_order"])
                for item in resp.json["items"]]

    def attach_all(self, o, secrets, target, column="agent_id"):
        for secret in secrets:
            o.attach(secret, target, column)

    def test_ipv6_ports_wildcards_and_specificity(self):
        o = Org(self, self.server)
        agent = o.agent("[::1]:6000/team/app:v1")
        secrets = [o.secret(registry, "u", WRONG, name=name) for name, registry in (
            ("v6-5000", "[::1]:5000"),           # another port: never the same registry
            ("v6-6000", "[::1]:6000"),
            ("v6-6000-team", "[::1]:6000/team"),
            ("v6-no-port", "[::1]"),              # no port matches only no port
            ("v6-6000-again", "[::1]:6000"),
            ("wild", "*.example.com"),
        )]
        self.attach_all(o, secrets, agent)
        self.assertEqual(self.attached(o, "agents", agent), [
            ("v6-5000", False, None), ("v6-6000", True, 2), ("v6-6000-team", True, 1),
            ("v6-no-port", False, None), ("v6-6000-again", True, 3), ("wild", False, None)])
        # Another image, given as ?image=: the wildcard now applies, nothing else.
        self.assertEqual(self.attached(o, "agents", agent, "app.example.com/x/y:v2"), [
            ("v6-5000", False, None), ("v6-6000", False, None), ("v6-6000-team", False, None),
            ("v6-no-port", False, None), ("v6-6000-again", False, None), ("wild", True, 1)])
        self.assertEqual([t[2] for t in self.attached(o, "agents", agent, "[::1]/team/a")],
                         [None, None, None, 1, None, None])

    def test_docker_hub_names_and_aliases(self):
        o = Org(self, self.server)
        agent = o.agent("nginx:1.25")
        secrets = [o.secret(registry, "u", WRONG, name=name) for name, registry in (
            ("hub", "https://index.docker.io/v1/"),
            ("hub-user-nginx", "docker.io/nginx"),   # the user "nginx", not library/nginx
            ("hub-library", "registry-1.docker.io/library"),
            ("hub-nginx", "docker.io/library/nginx"),
        )]
        self.attach_all(o, secrets, agent)
        self.assertEqual(self.attached(o, "agents", agent), [
            ("hub", True, 3), ("hub-user-nginx", False, None), ("hub-library", True, 2),
            ("hub-nginx", True, 1)])
        # "nginx/app" is the user nginx's app: the secret with that path comes first.
        self.assertEqual([t[2] for t in self.attached(o, "agents", agent, "nginx/app")],
                         [2, 1, None, None])

    def test_mcps_and_hooks_use_their_own_image(self):
        o = Org(self, self.server)
        agent = o.agent("ghcr.io/acme/agent:v1")
        mcp = o.mcp(agent, "quay.io/acme/mcp:v1")
        hook = o.hook(agent, "ghcr.io/other/hook:v1")
        ghcr = o.secret("ghcr.io", "u", WRONG, name="ghcr")
        ghcr_acme = o.secret("ghcr.io/acme", "u", WRONG, name="ghcr-acme")
        quay = o.secret("quay.io", "u", WRONG, name="quay")
        for target, column in ((mcp, "mcp_id"), (hook, "hook_id")):
            self.attach_all(o, [ghcr, ghcr_acme, quay], target, column)
        self.assertEqual(self.attached(o, "mcps", mcp), [
            ("ghcr", False, None), ("ghcr-acme", False, None), ("quay", True, 1)])
        self.assertEqual(self.attached(o, "hooks", hook), [
            ("ghcr", True, 1), ("ghcr-acme", False, None), ("quay", False, None)])
        self.assertEqual(self.attached(o, "hooks", hook, "ghcr.io/acme/x", client=o.owner), [
            ("ghcr", True, 2), ("ghcr-acme", True, 1), ("quay", False, None)])
        self.assertEqual(self.attached(o, "agents", agent), [])

    def test_bad_image_argument_and_other_organizations(self):
        o, other = Org(self, self.server), Org(self, self.server)
        agent = o.agent("ghcr.io/acme/agent:v1")
        for bad in ("Not An Image", "", "1.2.3/app", "a" * 600):
            with self.subTest(image=bad[:20]):
                resp = o.member.get(o.path(f"/agents/{agent['id']}/image-pull-secrets?image="
                                           + bad.replace(" ", "%20")))
                self.assertError(resp, 400, "image")
        self.assertError(other.member.get(other.path(
            f"/agents/{agent['id']}/image-pull-secrets")), 404)

    def test_runner_tries_secrets_in_the_api_order(self):
        o = Org(self, self.server)
        host = REG["ht"].host
        ref = f"{host}/team/app:v1"
        agent = o.agent(ref)
        other_port = f"127.0.0.1:{free_port()}"
        secrets = [o.secret(registry, "alice", WRONG, name=name) for name, registry in (
            ("plain", host), ("team", f"{host}/team"), ("other-port", other_port),
            ("team-app", f"{host}/team/app"), ("plain-again", host), ("other-repo",
                                                                      f"{host}/else"))]
        self.attach_all(o, secrets, agent)
        answer = self.attached(o, "agents", agent)
        self.assertEqual(answer, [
            ("plain", True, 3), ("team", True, 2), ("other-port", False, None),
            ("team-app", True, 1), ("plain-again", True, 4), ("other-repo", False, None)])
        expected = [name for name, _, order in sorted(
            (t for t in answer if t[2] is not None), key=lambda t: t[2])]

        workload = o.run(agent)
        self.assertEqual(workload["status"], "failed", workload)
        message = container(workload, "main")["message"]
        tried = [name for name in ("plain", "team", "other-port", "team-app", "plain-again",
                                   "other-repo")
                 if f'with image pull secret "{name}"' in message]
        self.assertEqual(sorted(tried, key=lambda n: message.index(f'secret "{n}"')), expected,
                         message)

        # With the right password on the last one tried, the pull gets there and uses it.
        right = o.secret(host, "alice", USERS["alice"], name="right")
        o.attach(right, agent)
        self.assertEqual(self.attached(o, "agents", agent)[-1], ("right", True, 5))
        workload = o.run(agent)
        self.assertEqual(workload["status"], "running", workload)
        self.assertEqual(container(workload, "main")["credential"]["name"], "right", workload)


if __name__ == "__main__":
    unittest.main()
