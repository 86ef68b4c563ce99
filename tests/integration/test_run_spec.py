"""What a container runs: the optional command, args and env of agents, MCP servers and hooks
(create, patch, get, list; field-named 422s for bad types and sizes), copied into each container
of a started workload, and the workload's restart_policy. The engine side (they reach the
container) is in test_docker_runtime.py.
"""
import json
import os
import subprocess
import unittest

from agyn_testlib import ServerTestCase
from runner_helpers import Org, container

IMAGE = "127.0.0.1:9/team/app:v1"  # never pulled here: the workload's plan is what is checked
RUN = {"command": ["/bin/sh", "-c"], "args": ["echo $A", "x y"], "env": {"A": "b c", "_Z9": ""}}


class RunSpecTest(ServerTestCase):
    def setUp(self):
        self.org = Org(self, self.server)

    def test_agent_round_trip_patch_and_clear(self):
        org = self.org
        agent = org.agent(IMAGE, **RUN)
        for key, value in RUN.items():
            self.assertEqual(agent[key], value)
        got = org.member.get(org.path(f"/agents/{agent['id']}")).json
        self.assertEqual({k: got[k] for k in RUN}, RUN)
        listed = org.member.get(org.path("/agents")).json["items"]
        self.assertEqual(listed[0]["env"], RUN["env"])  # a JSON value in lists too
        bare = org.agent(IMAGE)
        self.assertEqual((bare["command"], bare["args"], bare["env"]), (None, None, None))
        # PATCH changes only what it names; null clears.
        resp = org.owner.patch(org.path(f"/agents/{agent['id']}"), {"env": {"A": "new"}})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual((resp.json["env"], resp.json["command"]), ({"A": "new"}, RUN["command"]))
        resp = org.owner.patch(org.path(f"/agents/{agent['id']}"), {"command": None})
        self.assertEqual(resp.status, 200, resp)
        self.assertIsNone(resp.json["command"])
        self.assertEqual(resp.json["args"], RUN["args"])
        # Empty lists are kept as given (an empty entrypoint is the engine's business).
        resp = org.owner.patch(org.path(f"/agents/{agent['id']}"), {"args": []})
        self.assertEqual(resp.json["args"], [])

    def test_bad_values_are_422_naming_the_field(self):
        org = self.org
        agent = org.agent(IMAGE)
        cases = [
            ({"command": "/bin/sh -c"}, "command"),
            ({"command": {"a": "b"}}, "command"),
            ({"args": ["ok", 1]}, "args[1]"),
            ({"args": [None]}, "args[0]"),
            ({"args": ["a\u0000b"]}, "args[0]"),
            ({"args": ["x" * 4097]}, "args[0]"),
            ({"args": ["a"] * 257}, "args"),
            ({"env": ["A=b"]}, "env"),
            ({"env": {"A": 1}}, "env.A"),
            ({"env": {"A": None}}, "env.A"),
            ({"env": {"1A": "x"}}, "env"),
            ({"env": {"A-B": "x"}}, "env"),
            ({"env": {"": "x"}}, "env"),
            ({"env": {f"V{i}": "x" for i in range(257)}}, "env"),
            ({"args": ["y" * 4000] * 20}, "command"),  # 80 KB in all: more than 64 KiB
        ]
        for body, field in cases:
            with self.subTest(field=field, body=str(body)[:60]):
                resp = org.owner.patch(org.path(f"/agents/{agent['id']}"), body)
                self.assertError(resp, 422, field)
                resp = org.owner.post(org.path("/agents"),
                                      {"name": "n-" + field.replace("[", "").replace("]", "")
                                       .replace(".", ""), "image": IMAGE, **body})
                self.assertError(resp, 422, field)
                resp = org.owner.post(org.path("/mcps"), {"agent_id": agent["id"], "name": "m",
                                                          "image": IMAGE, **body})
                self.assertError(resp, 422, field)
        # Nothing was stored by the refused requests.
        self.assertIsNone(org.member.get(org.path(f"/agents/{agent['id']}")).json["command"])
        # Members read them but cannot change them.
        resp = org.member.patch(org.path(f"/agents/{agent['id']}"), {"command": ["x"]})
        self.assertEqual(resp.status, 403, resp)

    def test_workload_containers_carry_them_and_restart_policy(self):
        org = self.org
        agent = org.agent(IMAGE, **RUN)
        mcp = org.mcp(agent, IMAGE, command=["serve"], env={"PORT": "7070"})
        hook = org.hook(agent, IMAGE, args=["--once"])
        self.assertEqual(org.member.get(org.path(f"/mcps/{mcp['id']}")).json["env"],
                         {"PORT": "7070"})
        resp = org.owner.patch(org.path(f"/hooks/{hook['id']}"), {"env": {"H": "1"}})
        self.assertEqual((resp.status, resp.json["args"]), (200, ["--once"]), resp)
        w = org.start(agent)
        self.assertEqual(w["restart_policy"], "never")
        main = container(w, "main")
        self.assertEqual({k: main[k] for k in RUN}, RUN)
        self.assertEqual(main["restart_count"], 0)
        side = container(w, "mcp")
        self.assertEqual((side["command"], side["args"], side["env"]),
                         (["serve"], None, {"PORT": "7070"}))
        h = container(w, "hook")
        self.assertEqual((h["command"], h["args"], h["env"]), (None, ["--once"], {"H": "1"}))
        w = org.start(agent, restart_policy="on-failure")
        self.assertEqual(w["restart_policy"], "on-failure")
        got = org.get_workload(w["id"])
        self.assertEqual(got["restart_policy"], "on-failure")
        for bad in ("sometimes", "", 1, ["always"]):
            resp = org.member.post(org.path("/workloads"),
                                   {"agent_id": agent["id"], "restart_policy": bad})
            self.assertError(resp, 422, "restart_policy")

    def cli(self, token, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_API_URL=f"http://127.0.0.1:{self.server.port}", AGYN_TOKEN=token)
        binary = os.environ.get("AGYN_CLI_BIN") or os.path.join(
            os.path.dirname(os.environ["AGYND_BIN"]), "agyn")
        return subprocess.run([binary, "--org", self.org.ctx.id, "-o", "json", *args],
                              capture_output=True, text=True, env=env, timeout=30)

    def test_cli_flags(self):
        owner = self.org.owner.token
        made = self.cli(owner, "agents", "create", "--name", "cli-agent", "--image", IMAGE,
                        "--command", "/bin/sh", "--command", "-c", "--arg", "echo $A",
                        "--arg", "x", "--env", "A=b=c", "--env", "EMPTY=")
        self.assertEqual(made.returncode, 0, made.stderr)
        agent = json.loads(made.stdout)
        self.assertEqual((agent["command"], agent["args"], agent["env"]),
                         (["/bin/sh", "-c"], ["echo $A", "x"], {"A": "b=c", "EMPTY": ""}))
        changed = self.cli(owner, "agents", "update", "cli-agent", "--no-command", "--env", "Z=1")
        self.assertEqual(changed.returncode, 0, changed.stderr)
        agent = json.loads(changed.stdout)
        self.assertEqual((agent["command"], agent["args"], agent["env"]),
                         (None, ["echo $A", "x"], {"Z": "1"}))
        mcp = self.cli(owner, "mcps", "create", "--agent", "cli-agent", "--name", "m1",
                       "--image", IMAGE, "--arg", "--port=1")
        self.assertEqual(mcp.returncode, 0, mcp.stderr)
        self.assertEqual(json.loads(mcp.stdout)["args"], ["--port=1"])
        bad = self.cli(owner, "agents", "update", "cli-agent", "--env", "novalue")
        self.assertEqual(bad.returncode, 2, bad)
        self.assertIn("KEY=VALUE", bad.stderr)
        bad = self.cli(owner, "agents", "update", "cli-agent", "--env", "1A=x")
        self.assertEqual(bad.returncode, 1, bad)
        self.assertIn("env names", bad.stderr)
        member = self.org.member.token
        started = self.cli(member, "workloads", "start", "--agent", "cli-agent",
                           "--restart-policy", "always")
        self.assertEqual(started.returncode, 0, started.stderr)
        self.assertEqual(json.loads(started.stdout)["restart_policy"], "always")
        bad = self.cli(member, "workloads", "start", "--agent", "cli-agent",
                       "--restart-policy", "sometimes")
        self.assertEqual(bad.returncode, 1, bad)
        self.assertIn("restart_policy", bad.stderr)


if __name__ == "__main__":
    unittest.main()
