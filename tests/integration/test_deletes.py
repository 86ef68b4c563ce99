"""Deletes never surprise: an organization that holds anything, or an agent with MCP servers,
hooks or attachments, is refused (409 naming what would go) unless cascade is asked for —
through the CLI's --cascade / --yes, which then prints what it removed."""
import json
import unittest

import test_cli


class CascadingDeletes(test_cli.CliTestCase):

    def setUp(self):
        self.admin = self.server.admin_token

    def make_agent_with_parts(self, org, owner):
        self.ok("agents", "create", "--name", "support", "--image", "nginx", token=owner)
        self.ok("mcps", "create", "--agent", "support", "--name", "files", "--image", "nginx",
                token=owner)
        self.ok("hooks", "create", "--agent", "support", "--event", "after_run", "--image",
                "nginx", token=owner)
        self.ok("ips", "create", "--name", "ghcr", "--registry", "ghcr.io", "--username", "u",
                "--password-stdin", token=owner, stdin=test_cli.password("cascade-pw"))
        self.ok("attachments", "attach", "--secret", "ghcr", "--agent", "support", token=owner)
        self.ok("attachments", "attach", "--secret", "ghcr", "--mcp", "files", token=owner)

    def test_agent_delete_is_refused_then_cascades_with_what_it_removed(self):
        _, owner = self.new_owner("cascade-agent")
        self.make_agent_with_parts("cascade-agent", owner)
        refused = self.agyn("agents", "delete", "support", token=owner)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("agent \"support\" is not empty", refused.stderr)
        self.assertIn("1 mcp (\"files\")", refused.stderr)
        self.assertIn("1 hook (\"after_run\")", refused.stderr)
        self.assertIn("2 image_pull_secret_attachments", refused.stderr)
        self.assertIn("--cascade", refused.stderr)
        # Nothing went.
        self.assertEqual(len(self.json_of("mcps", "list", token=owner)["items"]), 1)
        self.assertEqual(len(self.json_of("attachments", "list", token=owner)["items"]), 2)

        done = self.ok("agents", "delete", "support", "--yes", token=owner)
        self.assertIn("deleted", done.stdout)
        self.assertIn("removed 1 mcp: files", done.stdout)
        self.assertIn("removed 1 hook: after_run", done.stdout)
        self.assertIn("removed 2 image_pull_secret_attachments", done.stdout)
        self.assertEqual(self.json_of("mcps", "list", token=owner)["items"], [])
        self.assertEqual(self.json_of("attachments", "list", token=owner)["items"], [])
        # The image pull secret itself is not the agent's: it stays.
        self.assertEqual(len(self.json_of("ips", "list", token=owner)["items"]), 1)

        # An agent without parts deletes at once, in JSON with an empty "removed".
        self.ok("agents", "create", "--name", "bare", "--image", "nginx", token=owner)
        bare = self.json_of("agents", "delete", "bare", token=owner)
        self.assertEqual((bare["deleted"], bare["removed"]), (True, []))

    def test_organization_delete_is_refused_then_cascades(self):
        org_id, owner = self.new_owner("cascade-org")
        self.make_agent_with_parts("cascade-org", owner)
        refused = self.agyn("organizations", "delete", "cascade-org", token=self.admin)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("organization \"cascade-org\" is not empty", refused.stderr)
        self.assertIn("1 agent (\"support\")", refused.stderr)
        self.assertIn("1 image_pull_secret (\"ghcr\")", refused.stderr)
        self.assertEqual(len(self.json_of("agents", "list", token=owner)["items"]), 1)

        done = self.json_of("organizations", "delete", "cascade-org", "--cascade",
                            token=self.admin)
        self.assertEqual(done["id"], org_id)
        kinds = {entry["kind"]: entry for entry in done["removed"]}
        self.assertEqual(kinds["agent"]["names"], ["support"])
        self.assertEqual(kinds["image_pull_secret_attachment"]["count"], 2)
        gone = self.agyn("agents", "list", token=owner)
        self.assertEqual(gone.returncode, 1)

        # An empty organization: no flag needed.
        self.json_of("organizations", "create", "cascade-empty", token=self.admin)
        self.ok("organizations", "delete", "cascade-empty", token=self.admin)

    def test_another_organizations_workloads_are_not_counted_or_named(self):
        # Workloads are claimed across organizations by the runner, so the store does not
        # confine them to one: the contents of an organization must filter them itself.
        busy, idle = self.server.new_org("busy-tenant"), self.server.new_org("idle-tenant")
        agent = busy.owner.post(busy.path("/agents"), {"name": "a", "image": "127.0.0.1:1/x:1"})
        workload = busy.owner.post(busy.path("/workloads"), {"agent_id": agent.json["id"]})
        self.assertEqual(workload.status, 201, workload)
        gone = self.server.admin().delete(f"/api/v1/organizations/{idle.id}")
        self.assertEqual(gone.status, 204, gone)
        self.assertNotIn(workload.json["id"], gone.body)
        refused = self.server.admin().delete(f"/api/v1/organizations/{busy.id}")
        self.assertEqual(refused.status, 409, refused)
        [counted] = [c for c in refused.json["error"]["contents"] if c["kind"] == "workload"]
        self.assertEqual(counted["names"], [workload.json["id"]])


if __name__ == "__main__":
    unittest.main()
