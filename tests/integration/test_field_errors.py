"""Every field error of a request body at once: a 422 keeps error.field/message (the first
field's, as before) and lists them all in error.errors, one per field, in the order of the
fields; the CLI prints one line per field. (The Console's side is tests/console/first-five.)"""
import unittest

import test_cli


class FieldErrors(test_cli.CliTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.org = cls.server.new_org("field-errors")

    def errors_of(self, resp):
        self.assertEqual(resp.status, 422, resp)
        error = resp.json["error"]
        self.assertEqual(error["code"], "unprocessable_entity")
        listed = error.get("errors", [])
        if listed:  # compatibility: the top level is the first of the list
            self.assertEqual((error["field"], error["message"]),
                             (listed[0]["field"], listed[0]["message"]))
        return [(e["field"], e["message"]) for e in listed]

    def test_agent_create_lists_every_field(self):
        resp = self.org.owner.post(self.org.path("/agents"), {
            "name": "", "image": "NOT AN IMAGE", "description": 5, "bogus": 1,
            "env": {"1BAD": "x"}})
        errors = self.errors_of(resp)
        self.assertEqual([f for f, _ in errors], ["bogus", "name", "image", "description", "env"])
        self.assertEqual(errors[0][1], 'unknown field "bogus"')
        self.assertEqual(errors[1][1], "name must not be empty")
        self.assertIn("image", errors[2][1])
        self.assertEqual(errors[3][1], "description must be a string")
        # Nothing was created.
        self.assertEqual(self.org.owner.get(self.org.path("/agents")).json["items"], [])

    def test_one_error_per_field_and_a_single_error_unchanged(self):
        # image "" fails as empty, not also as "not a valid reference".
        resp = self.org.owner.post(self.org.path("/agents"), {"name": "a", "image": ""})
        self.assertEqual(self.errors_of(resp), [("image", "image must not be empty")])
        # A PATCH checks only what it is given.
        made = self.org.owner.post(self.org.path("/agents"), {"name": "ok", "image": "nginx"})
        self.assertEqual(made.status, 201, made)
        resp = self.org.owner.patch(self.org.path(f"/agents/{made.json['id']}"),
                                    {"name": "x" * 200, "image": "Bad Image"})
        self.assertEqual([f for f, _ in self.errors_of(resp)], ["name", "image"])

    def test_image_pull_secret_secret_token_and_provider_bodies(self):
        resp = self.org.owner.post(self.org.path("/image-pull-secrets"), {
            "name": "x" * 200, "registry": "not a registry!", "username": "a:b"})
        self.assertEqual([f for f, _ in self.errors_of(resp)],
                         ["name", "registry", "username", "password"])
        resp = self.org.owner.post(self.org.path("/secrets"), {"name": 7, "description": 8})
        self.assertEqual([f for f, _ in self.errors_of(resp)][:2], ["name", "description"])
        resp = self.server.admin().post(self.org.path("/tokens"), {"name": "", "role": "god"})
        self.assertEqual(self.errors_of(resp), [
            ("name", "name must not be empty"), ("role", 'role must be "owner" or "member"')])
        resp = self.org.owner.post(self.org.path("/secret-providers"),
                                   {"name": "", "type": "vault"})
        self.assertEqual([f for f, _ in self.errors_of(resp)], ["name", "config"])
        resp = self.org.owner.post(self.org.path("/mcps"), {
            "agent_id": "nope", "name": "", "image": "Bad Image"})
        self.assertEqual([f for f, _ in self.errors_of(resp)], ["agent_id", "name", "image"])

    def test_errors_that_are_not_field_errors_are_unchanged(self):
        resp = self.org.owner.raw("POST", self.org.path("/agents"), body=b"[1]",
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(resp.status, 400, resp)
        self.assertNotIn("errors", resp.json["error"])

    def test_cli_prints_one_line_per_field(self):
        proc = self.agyn("agents", "create", "--name", "x" * 200, "--image", "Bad Image",
                         "--org", self.org.id, token=self.server.admin_token)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 2, proc.stderr)
        self.assertTrue(lines[0].startswith("agyn: name: name must be at most 128 bytes"), lines)
        self.assertTrue(lines[1].startswith("agyn: image: "), lines)


if __name__ == "__main__":
    unittest.main()
