"""End-to-end tests of terraform-provider-agyn with the real Terraform CLI against agynd.

The provider binary is AGYN_TF_PROVIDER_BIN or terraform-provider-agyn next to AGYND_BIN. Terraform
loads it through a CLI config with dev_overrides (no `terraform init`, no network). Covered:
the seed document's inline and remote-backed image pull secret examples verbatim, plan / apply /
no-change plan / refresh without drift, a changed password updating in place, a Vault secret
provider (tests/fixtures/vault_fixture.py), write-only passwords, `terraform import` of every
resource type, destroy leaving nothing behind (checked through the API), and plan-time
validation errors pointing at the attribute (invalid registry, two password sources, two
attachment targets). Skipped, loudly, only when no `terraform` binary is installed.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import agyn_testlib as lib

TERRAFORM = os.environ.get("TERRAFORM_BIN") or shutil.which("terraform")
PROVIDER = os.environ.get("AGYN_TF_PROVIDER_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(lib.AGYND)), "terraform-provider-agyn")

if not TERRAFORM:
    sys.stderr.write("\n" + "!" * 78 + "\n!! test_terraform: SKIPPED — no `terraform` binary on PATH "
                     "(set TERRAFORM_BIN).\n" + "!" * 78 + "\n")

MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"

TERRAFORM_BLOCK = """terraform {
  required_providers {
    agyn = {
      source = "agynio/agyn"
    }
  }
}

provider "agyn" {}

variable "ghcr_token" {
  type      = string
  sensitive = true
}
"""

# The seed's examples, verbatim (docs: image-pull-secrets, "With Terraform").
SEED_INLINE = """resource "agyn_image_pull_secret" "ghcr" {
organization_id = agyn_organization.acme.id
name = "ghcr-private"
registry = "ghcr.io"
username = "agyn-ci"
password = var.ghcr_token
}
"""
SEED_REMOTE = """resource "agyn_image_pull_secret" "ghcr" {
organization_id = agyn_organization.acme.id
name = "ghcr-private"
registry = "ghcr.io"
username = "agyn-ci"
password_secret_id = agyn_secret.ghcr_token.id
}
"""
SEED_ATTACHMENT = """resource "agyn_agent_image_pull_secret_attachment" "ghcr_on_support" {
agent_id = agyn_agent.support.id
image_pull_secret_id = agyn_image_pull_secret.ghcr.id
}
"""


def org_and_agent(org_name):
    return f"""
resource "agyn_organization" "acme" {{
  name = "{org_name}"
}}

resource "agyn_agent" "support" {{
  organization_id = agyn_organization.acme.id
  name            = "support"
  image           = "ghcr.io/acme/support:1.0"
}}
"""


class Vault:
    """tests/fixtures/vault_fixture.py in a subprocess (KV v2 under mount "secret")."""

    def __init__(self, token):
        self.token = token
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(lib.FIXTURES, "vault_fixture.py"), "--port", "0",
             "--token", token], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"vault_fixture did not start: {line}")
        self.address = f"http://127.0.0.1:{int(line[1])}"

    def write(self, path, data):
        request = urllib.request.Request(
            f"{self.address}/v1/secret/data/{path}", method="POST",
            data=json.dumps({"data": data}).encode(),
            headers={"X-Vault-Token": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


@unittest.skipUnless(TERRAFORM, "no terraform binary on PATH (set TERRAFORM_BIN)")
class TerraformCase(lib.ServerTestCase):
    """agynd, the Vault stand-in and a Terraform CLI configuration using the built provider;
    helpers only (test_terraform_habits reuses them without running this file's tests again)."""

    @classmethod
    def setUpClass(cls):
        if not os.access(PROVIDER, os.X_OK):
            raise AssertionError(f"provider binary not found at {PROVIDER} (build the "
                                 "terraform-provider-agyn target or set AGYN_TF_PROVIDER_BIN)")
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="agyn-tf-")
        cls.cli_config = os.path.join(cls.tmp, "terraform.tfrc")
        with open(cls.cli_config, "w") as f:
            f.write('provider_installation {\n  dev_overrides {\n'
                    f'    "agynio/agyn" = "{os.path.dirname(os.path.abspath(PROVIDER))}"\n'
                    '  }\n  direct {}\n}\n')
        cls.vault = Vault("vault-test-token")
        cls.vault.write("ci/ghcr", {"password": "from-vault-1"})

    @classmethod
    def tearDownClass(cls):
        cls.vault.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # -- helpers ------------------------------------------------------------------------------

    def workdir(self, name, config):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        self.write_config(path, config)
        return path

    @staticmethod
    def write_config(path, config):
        with open(os.path.join(path, "main.tf"), "w") as f:
            f.write(config)

    def tf(self, path, *args, expect=0, token=None, variables=None, extra_env=None):
        env = dict(os.environ)
        env.update({
            "TF_CLI_CONFIG_FILE": self.cli_config,
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "AGYN_API_URL": f"http://127.0.0.1:{self.server.port}",
            "AGYN_API_TOKEN": token or self.server.admin_token,
            "TF_VAR_ghcr_token": "ghcr-token-1",
        })
        env.pop("TF_LOG", None)
        for key, value in (variables or {}).items():
            env[f"TF_VAR_{key}"] = value
        env.update(extra_env or {})
        words = 2 if args[0] == "state" else 1
        proc = subprocess.run([TERRAFORM, *args[:words], "-no-color", *args[words:]], cwd=path,
                              env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=180)
        output = proc.stdout + proc.stderr
        if expect is not None:
            short = "\n".join(line[:300] for line in output.splitlines())
            self.assertEqual(proc.returncode, expect,
                             f"terraform {' '.join(args)} exited {proc.returncode}:\n{short}")
        return output

    @staticmethod
    def state_ids(path):
        """{address: id} from the local state file (no terraform process needed)."""
        with open(os.path.join(path, "terraform.tfstate")) as f:
            state = json.load(f)
        return {f"{r['type']}.{r['name']}": r["instances"][0]["attributes"]["id"]
                for r in state["resources"] if r["mode"] == "managed"}

    def state_id(self, path, address):
        ids = self.state_ids(path)
        self.assertIn(address, ids)
        return ids[address]

    def find_org(self, name):
        orgs = self.server.admin().get("/api/v1/organizations?page_size=100")
        self.assertEqual(orgs.status, 200, orgs)
        for org in orgs.json["items"]:
            if org["name"] == name:
                return org["id"]
        self.fail(f"organization {name} not found")

    def items(self, org_id, collection):
        resp = self.server.admin().get(f"/api/v1/organizations/{org_id}/{collection}"
                                       "?page_size=100")
        self.assertEqual(resp.status, 200, resp)
        return resp.json["items"]

    def assert_nothing_left(self, org_id, destroy_output):
        # The organization itself is destroyed last; with it, everything inside is gone too.
        org = self.server.admin().get(f"/api/v1/organizations/{org_id}")
        self.assertEqual(org.status, 404, org)
        self.assertNotIn("Organization not deleted", destroy_output)
        self.assertNotIn(org_id, [o["id"] for o in self.server.admin().get(
            "/api/v1/organizations?page_size=100").json["items"]])
        for collection in ["image-pull-secret-attachments", "image-pull-secrets", "secrets",
                           "secret-providers", "hooks", "mcps", "agents"]:
            resp = self.server.admin().get(f"/api/v1/organizations/{org_id}/{collection}")
            self.assertEqual(resp.status, 404, resp)

    def assert_no_changes(self, path):
        self.tf(path, "plan", "-detailed-exitcode")
        # A refresh finds no drift. (Its -detailed-exitcode is unreliable in Terraform itself,
        # hashicorp/terraform#36403, so the rendered result is checked instead.)
        out = self.tf(path, "plan", "-refresh-only", expect=0)
        self.assertIn("No changes.", out)


class TerraformProviderTest(TerraformCase):
    # -- the seed's examples ------------------------------------------------------------------

    def test_seed_inline_then_remote_backed(self):
        config = TERRAFORM_BLOCK + org_and_agent("acme-seed") + SEED_INLINE + SEED_ATTACHMENT
        path = self.workdir("seed", config)

        out = self.tf(path, "plan", "-detailed-exitcode", expect=2)
        self.assertIn("Plan: 4 to add, 0 to change, 0 to destroy", out)
        self.tf(path, "apply", "-auto-approve")
        org_id = self.find_org("acme-seed")
        [secret] = self.items(org_id, "image-pull-secrets")
        self.assertEqual((secret["name"], secret["registry"], secret["username"],
                          secret["password_source"]),
                         ("ghcr-private", "ghcr.io", "agyn-ci", "inline"))
        [agent] = self.items(org_id, "agents")
        [attachment] = self.items(org_id, "image-pull-secret-attachments")
        self.assertEqual((attachment["agent_id"], attachment["image_pull_secret_id"]),
                         (agent["id"], secret["id"]))
        self.assertEqual(self.state_id(path, "agyn_image_pull_secret.ghcr"), secret["id"])
        state = open(os.path.join(path, "terraform.tfstate")).read()
        self.assertIn('"password": "ghcr-token-1"', state)  # sensitive, kept as configured
        self.assert_no_changes(path)

        # A changed password is an in-place update (PATCH), not a replacement.
        rotated = {"ghcr_token": "ghcr-token-2"}
        out = self.tf(path, "plan", "-detailed-exitcode", expect=2, variables=rotated)
        self.assertIn("agyn_image_pull_secret.ghcr will be updated in-place", out)
        self.assertIn("Plan: 0 to add, 1 to change, 0 to destroy", out)
        self.assertNotIn("must be replaced", out)
        self.tf(path, "apply", "-auto-approve", variables=rotated)
        [after] = self.items(org_id, "image-pull-secrets")
        self.assertEqual(after["id"], secret["id"])
        self.assertNotEqual(after["password_updated_at"], secret["password_updated_at"])
        self.tf(path, "plan", "-detailed-exitcode", variables=rotated)
        # Without AutoMTLS (TF_DISABLE_PLUGIN_TLS) the plugin serves plaintext HTTP/2.
        self.tf(path, "plan", "-detailed-exitcode", variables=rotated,
                extra_env={"TF_DISABLE_PLUGIN_TLS": "1"})

        # The remote-backed example: the same image pull secret now takes its password from an
        # agyn_secret, switched in place.
        remote = (TERRAFORM_BLOCK + org_and_agent("acme-seed") + """
resource "agyn_secret" "ghcr_token" {
  organization_id = agyn_organization.acme.id
  name            = "ghcr-token"
  value           = var.ghcr_token
}
""" + SEED_REMOTE + SEED_ATTACHMENT)
        self.write_config(path, remote)
        out = self.tf(path, "plan", "-detailed-exitcode", expect=2)
        self.assertIn("Plan: 1 to add, 1 to change, 0 to destroy", out)
        self.tf(path, "apply", "-auto-approve")
        [secret_obj] = self.items(org_id, "secrets")
        [after] = self.items(org_id, "image-pull-secrets")
        self.assertEqual((after["id"], after["password_source"], after["password_secret_id"]),
                         (secret["id"], "secret", secret_obj["id"]))
        self.assertEqual(secret_obj["value_source"], "inline")
        self.assert_no_changes(path)

        out = self.tf(path, "destroy", "-auto-approve")
        self.assertIn("Destroy complete! Resources: 5 destroyed.", out)
        self.assert_nothing_left(org_id, out)

    # -- every resource type, Vault, write-only, import ---------------------------------------

    def full_config(self, org_name):
        return TERRAFORM_BLOCK + org_and_agent(org_name) + f"""
resource "agyn_mcp" "files" {{
  agent_id = agyn_agent.support.id
  name     = "files"
  image    = "ghcr.io/acme/files:1.0"
}}

resource "agyn_hook" "started" {{
  organization_id = agyn_organization.acme.id
  agent_id        = agyn_agent.support.id
  event           = "agent.started"
  image           = "ghcr.io/acme/hook:1.0"
  description     = "runs on start"
}}

resource "agyn_secret_provider" "vault" {{
  organization_id = agyn_organization.acme.id
  name            = "vault"
  type            = "vault"
  vault {{
    address = "{self.vault.address}"
    token   = "{self.vault.token}"
  }}
}}

resource "agyn_secret" "ghcr_token" {{
  organization_id = agyn_organization.acme.id
  name            = "ghcr-token"
  description     = "GHCR token kept in Vault"
  provider_id     = agyn_secret_provider.vault.id
  remote_path     = "secret/ci/ghcr/password"
}}

{SEED_REMOTE}
resource "agyn_image_pull_secret" "vaulted" {{
  organization_id = agyn_organization.acme.id
  name            = "vaulted"
  registry        = "HTTPS://Registry.Example.COM:5000/Team/"
  username        = "bot"
  provider_id     = agyn_secret_provider.vault.id
  remote_path     = "secret/ci/ghcr/password"
}}

resource "agyn_image_pull_secret" "write_only" {{
  organization_id     = agyn_organization.acme.id
  name                = "write-only"
  registry            = "docker.io"
  username            = "bot"
  password_wo         = "never-in-state-1"
  password_wo_version = 1
}}

{SEED_ATTACHMENT}
resource "agyn_image_pull_secret_attachment" "on_mcp" {{
  mcp_id               = agyn_mcp.files.id
  image_pull_secret_id = agyn_image_pull_secret.vaulted.id
}}

resource "agyn_image_pull_secret_attachment" "on_hook" {{
  hook_id              = agyn_hook.started.id
  image_pull_secret_id = agyn_image_pull_secret.write_only.id
}}
"""

    def test_vault_remote_every_resource_and_import(self):
        path = self.workdir("full", self.full_config("acme-full"))
        self.tf(path, "apply", "-auto-approve")
        org_id = self.find_org("acme-full")
        self.assert_no_changes(path)

        [provider] = self.items(org_id, "secret-providers")
        self.assertEqual((provider["type"], provider["config"]["address"]),
                         ("vault", self.vault.address))
        check = self.server.admin().post(
            f"/api/v1/organizations/{org_id}/secret-providers/{provider['id']}/test")
        self.assertEqual(check.status, 200, check)
        self.assertTrue(check.json["ok"], check)
        [secret] = self.items(org_id, "secrets")
        self.assertEqual((secret["value_source"], secret["provider_id"], secret["remote_path"]),
                         ("remote", provider["id"], "secret/ci/ghcr/password"))
        by_name = {s["name"]: s for s in self.items(org_id, "image-pull-secrets")}
        self.assertEqual(by_name["ghcr-private"]["password_secret_id"], secret["id"])
        self.assertEqual((by_name["vaulted"]["password_source"], by_name["vaulted"]["registry"]),
                         ("remote", "registry.example.com:5000/team"))
        self.assertEqual(by_name["write-only"]["password_source"], "inline")
        self.assertEqual(len(self.items(org_id, "image-pull-secret-attachments")), 3)
        state = open(os.path.join(path, "terraform.tfstate")).read()
        self.assertNotIn("never-in-state-1", state)
        # The registry keeps its configured spelling in state (no perpetual diff).
        self.assertIn("HTTPS://Registry.Example.COM:5000/Team/", state)

        # A new write-only version sends the password again, in place.
        self.write_config(path, self.full_config("acme-full").replace(
            '"never-in-state-1"\n  password_wo_version = 1', '"never-in-state-2"\n'
            '  password_wo_version = 2'))
        before = by_name["write-only"]["password_updated_at"]
        out = self.tf(path, "apply", "-auto-approve")
        self.assertIn("Resources: 0 added, 1 changed, 0 destroyed", out)
        after = {s["name"]: s for s in self.items(org_id, "image-pull-secrets")}
        self.assertNotEqual(after["write-only"]["password_updated_at"], before)

        # terraform import of every resource type, by bare id and by "<org>/<id>".
        addresses = ["agyn_organization.acme", "agyn_agent.support", "agyn_mcp.files",
                     "agyn_hook.started", "agyn_secret_provider.vault", "agyn_secret.ghcr_token",
                     "agyn_image_pull_secret.vaulted",
                     "agyn_agent_image_pull_secret_attachment.ghcr_on_support",
                     "agyn_image_pull_secret_attachment.on_mcp"]
        ids = self.state_ids(path)
        self.tf(path, "state", "rm", *addresses)
        self.assertEqual(set(self.state_ids(path)) & set(addresses), set())
        for i, address in enumerate(addresses):
            import_id = ids[address] if i % 2 == 0 else f"{org_id}/{ids[address]}"
            out = self.tf(path, "import", address, import_id)
            self.assertIn("Import successful", out)
        self.assertEqual(self.state_ids(path), ids)
        # Imported objects match the configuration except values the API never returns
        # (the Vault token) and the registry spelling: in-place updates only.
        out = self.tf(path, "plan", "-detailed-exitcode", expect=None)
        self.assertNotIn("must be replaced", out)
        if "No changes." not in out:
            self.assertRegex(out, r"Plan: 0 to add, \d+ to change, 0 to destroy")
        self.tf(path, "apply", "-auto-approve")
        self.assert_no_changes(path)

        # An object deleted behind Terraform's back is planned again.
        hook_id = self.state_id(path, "agyn_hook.started")
        gone = self.server.admin().delete(f"/api/v1/organizations/{org_id}/hooks/{hook_id}")
        self.assertEqual(gone.status, 204, gone)
        out = self.tf(path, "plan", "-detailed-exitcode", expect=2)
        self.assertIn("agyn_hook.started will be created", out)

        out = self.tf(path, "destroy", "-auto-approve")
        self.assert_nothing_left(org_id, out)

    def test_command_args_env(self):
        run = """
resource "agyn_mcp" "files" {
  agent_id = agyn_agent.support.id
  name     = "files"
  image    = "ghcr.io/acme/files:1.0"
  command  = ["/bin/files-server"]
  args     = ["--port", "7070"]
  env      = { LOG_LEVEL = "debug", ROOT = "/data" }
}

resource "agyn_hook" "started" {
  agent_id = agyn_agent.support.id
  event    = "agent.started"
  image    = "ghcr.io/acme/hook:1.0"
  env      = { ONCE = "1" }
}
"""
        config = TERRAFORM_BLOCK + org_and_agent("acme-run") + run
        path = self.workdir("run-spec", config)
        self.tf(path, "apply", "-auto-approve")
        org_id = self.find_org("acme-run")
        mcp = self.items(org_id, "mcps")[0]
        self.assertEqual((mcp["command"], mcp["args"], mcp["env"]),
                         (["/bin/files-server"], ["--port", "7070"],
                          {"LOG_LEVEL": "debug", "ROOT": "/data"}))
        hook = self.items(org_id, "hooks")[0]
        self.assertEqual((hook["command"], hook["args"], hook["env"]), (None, None, {"ONCE": "1"}))
        self.assert_no_changes(path)
        # Changed in place; removed attributes go back to the image's own (null).
        config = config.replace('"--port", "7070"', '"--port", "8080"').replace(
            '  env      = { ONCE = "1" }\n', "")
        self.write_config(path, config)
        out = self.tf(path, "apply", "-auto-approve")
        self.assertIn("2 changed, 0 destroyed", out)
        self.assertEqual(self.items(org_id, "mcps")[0]["args"], ["--port", "8080"])
        self.assertIsNone(self.items(org_id, "hooks")[0]["env"])
        self.assert_no_changes(path)
        # Drift made through the API is found and put back.
        agent = self.items(org_id, "agents")[0]
        self.server.admin().patch(f"/api/v1/organizations/{org_id}/agents/{agent['id']}",
                                  {"env": {"INJECTED": "x"}})
        out = self.tf(path, "apply", "-auto-approve")
        self.assertIn("1 changed", out)
        self.assertIsNone(self.items(org_id, "agents")[0]["env"])
        self.tf(path, "destroy", "-auto-approve")

    def test_import_unknown_id_fails(self):
        path = self.workdir("import-missing", TERRAFORM_BLOCK + org_and_agent("acme-missing"))
        out = self.tf(path, "import", "agyn_agent.support",
                      "11111111-2222-4333-8444-555555555555", expect=1)
        self.assertIn("Cannot import non-existent remote object", out)
        out = self.tf(path, "import", "agyn_agent.support", "not-a-uuid", expect=1)
        self.assertIn("Invalid import ID", out)

    # -- plan-time validation -----------------------------------------------------------------

    @lib.backend_independent
    def test_plan_time_validation(self):
        """Invalid configurations fail at plan time, before anything is created, each with a
        diagnostic on the offending attribute (Terraform quotes that attribute's line)."""
        config = TERRAFORM_BLOCK + org_and_agent("acme-invalid") + SEED_INLINE + """
resource "agyn_image_pull_secret" "bad_registry" {
  organization_id = agyn_organization.acme.id
  name            = "bad-registry"
  registry        = "https://ghcr.io/Foo Bar"
  username        = "agyn-ci"
  password        = "x"
}

resource "agyn_image_pull_secret" "two_sources" {
  organization_id    = agyn_organization.acme.id
  name               = "two-sources"
  registry           = "ghcr.io"
  username           = "agyn-ci"
  password           = "x"
  password_secret_id = "6f1c3b9e-1d2a-4c5b-8e7f-0a1b2c3d4e5f"
}

resource "agyn_image_pull_secret" "no_source" {
  organization_id = agyn_organization.acme.id
  name            = "no-source"
  registry        = "ghcr.io"
  username        = "agyn-ci"
}

resource "agyn_mcp" "files" {
  agent_id = agyn_agent.support.id
  name     = "files"
  image    = "ghcr.io/acme/files:1.0"
}

resource "agyn_image_pull_secret_attachment" "both" {
  agent_id             = agyn_agent.support.id
  mcp_id               = agyn_mcp.files.id
  image_pull_secret_id = agyn_image_pull_secret.ghcr.id
}

resource "agyn_secret_provider" "no_block" {
  organization_id = agyn_organization.acme.id
  name            = "no-block"
  type            = "vault"
}

resource "agyn_agent" "huge_description" {
  organization_id = agyn_organization.acme.id
  name            = "huge"
  image           = "ghcr.io/acme/huge:1.0"
  description     = "HUGE"
}

resource "agyn_agent" "bad_image" {
  organization_id = agyn_organization.acme.id
  name            = "bad-image"
  image           = "Not A/Valid:Image"
}
"""
        # A 5 MiB value: the plugin's gRPC requests exceed the 4 MiB gRPC default.
        path = self.workdir("invalid", config.replace("HUGE", "d" * (5 * 1024 * 1024)))
        out = self.tf(path, "plan", expect=1)
        self.assertNotIn("Plan:", out)
        short = "\n".join(line[:200] for line in out.splitlines())
        blocks = ["Error: " + b for b in out.split("Error: ")[1:]]
        expected = [
            ("Invalid registry", 'registry        = "https://ghcr.io/Foo Bar"', "whitespace"),
            ("Invalid password source", 'password_secret_id = "6f1c3b9e', "Only one of"),
            ("Invalid password source", 'resource "agyn_image_pull_secret" "no_source"',
             "must be set"),
            ("Invalid attachment target", "mcp_id               = agyn_mcp.files.id",
             "both agent_id and mcp_id"),
            ("Missing provider settings", 'resource "agyn_secret_provider" "no_block"',
             "vault block is required"),
            ("Invalid image", 'image           = "Not A/Valid:Image"', "image"),
            ("Invalid description", 'description     = "ddd', "at most 4096 bytes"),
        ]
        for summary, source_line, detail in expected:
            matching = [b for b in blocks if b.startswith(f"Error: {summary}\n")
                        and source_line in b and detail in " ".join(b.split())]
            self.assertEqual(len(matching), 1, f"{summary} / {source_line}:\n{short}")
        self.assertEqual(len(blocks), len(expected), short)
        # Nothing reached the API.
        orgs = self.server.admin().get("/api/v1/organizations?page_size=100").json["items"]
        self.assertNotIn("acme-invalid", [o["name"] for o in orgs])

    def test_api_error_names_the_attribute(self):
        path = self.workdir("api-error", TERRAFORM_BLOCK + org_and_agent("acme-api-error") + """
resource "agyn_image_pull_secret" "one" {
  organization_id = agyn_organization.acme.id
  name            = "same-name"
  registry        = "ghcr.io"
  username        = "agyn-ci"
  password        = "x"
}

resource "agyn_image_pull_secret" "two" {
  organization_id = agyn_organization.acme.id
  name            = "same-name"
  registry        = "quay.io"
  username        = "agyn-ci"
  password        = "y"
  depends_on      = [agyn_image_pull_secret.one]
}
""")
        out = self.tf(path, "apply", "-auto-approve", expect=1)
        self.assertIn("Error: Unable to create agyn_image_pull_secret", out)
        self.assertIn('an image pull secret named "same-name" already exists', out)
        error = out[out.index("Error: Unable to create"):]
        self.assertIn('name            = "same-name"', error)
        org_id = self.find_org("acme-api-error")
        out = self.tf(path, "destroy", "-auto-approve")
        self.assert_nothing_left(org_id, out)

    # -- the plugin binary itself -------------------------------------------------------------

    @lib.backend_independent
    def test_handshake_line_port_range_and_parent_exit(self):
        cert_dir = os.path.join(self.tmp, "client-cert")
        os.makedirs(cert_dir, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/O=HashiCorp/CN=localhost", "-keyout", os.path.join(cert_dir, "key.pem"),
                        "-out", os.path.join(cert_dir, "cert.pem")],
                       check=True, capture_output=True)
        port = lib.free_port()
        env = dict(os.environ, TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE,
                   PLUGIN_PROTOCOL_VERSIONS="5,6", PLUGIN_MIN_PORT=str(port),
                   PLUGIN_MAX_PORT=str(port + 5),
                   PLUGIN_CLIENT_CERT=open(os.path.join(cert_dir, "cert.pem")).read())
        # The plugin is started by a shell that exits at once: the plugin must notice its
        # parent is gone and exit too.
        shell = subprocess.Popen(["sh", "-c", f'"{PROVIDER}" & echo "pid $!"; sleep 1'], env=env,
                                 stdout=subprocess.PIPE, text=True)
        pid = int(shell.stdout.readline().split()[1])
        line = shell.stdout.readline().strip()
        shell.wait(timeout=10)
        shell.stdout.close()
        parts = line.split("|")
        self.assertEqual(parts[:3], ["1", "6", "tcp"], line)
        host, _, listen_port = parts[3].partition(":")
        self.assertEqual(host, "127.0.0.1")
        self.assertTrue(port <= int(listen_port) <= port + 5, line)
        self.assertEqual(parts[4], "grpc")
        self.assertNotIn("=", parts[5])  # base64 without padding
        der = base64.b64decode(parts[5] + "=" * (-len(parts[5]) % 4))
        text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"],
                              input=der, capture_output=True, check=True).stdout.decode()
        self.assertIn("DNS:localhost", text)
        self.assertIn("CA:TRUE", text)
        for _ in range(100):
            if not os.path.exists(f"/proc/{pid}") or \
                    open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            self.fail("the plugin kept running after its parent exited")

    @lib.backend_independent
    def test_binary_refuses_to_run_outside_terraform(self):
        env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MAGIC_COOKIE"}
        proc = subprocess.run([PROVIDER], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("This binary is a plugin", proc.stderr)


if __name__ == "__main__":
    unittest.main()
