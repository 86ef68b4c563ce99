"""terraform-provider-agyn behaving as HashiCorp's providers do: AGYN_TOKEN and a configure-time
check of URL and token, force_destroy on organizations, a refresh that finds no drift exits 0
with -detailed-exitcode every time, drift when a password is rotated through the API.
Uses the real Terraform CLI against agynd, like test_terraform (whose helpers it reuses)."""
import os
import subprocess
import unittest

import agyn_testlib as lib
import test_terraform as tft

SECRET_CONFIG = tft.TERRAFORM_BLOCK + tft.org_and_agent("{org}") + tft.SEED_INLINE


class TerraformHabits(tft.TerraformCase):

    def config(self, org):
        return SECRET_CONFIG.replace("{org}", org)

    def test_agyn_token_and_configure_time_check(self):
        path = self.workdir("habits-token", self.config("habits-token"))
        # AGYN_TOKEN alone (the CLI's variable) is enough.
        env = {"AGYN_API_TOKEN": "", "AGYN_TOKEN": self.server.admin_token}
        out = self.tf(path, "plan", extra_env=env)
        self.assertIn("to add", out)
        # A bad token fails the plan, on api_token, before anything is planned.
        out = self.tf(path, "plan", expect=1,
                      extra_env={"AGYN_API_TOKEN": "", "AGYN_TOKEN": "agyn_" + "x" * 43})
        self.assertIn("Invalid API token", out)
        self.assertNotIn("to add", out)
        # A dead server: the URL is named.
        out = self.tf(path, "plan", expect=1,
                      extra_env={"AGYN_API_URL": "http://127.0.0.1:1"})
        self.assertIn("Cannot reach the agyn API", out)
        self.assertIn("http://127.0.0.1:1", out)
        self.assertNotIn("to add", out)

    def test_refresh_only_exits_0_every_time_and_rotation_is_drift(self):
        path = self.workdir("habits-refresh", self.config("habits-refresh"))
        self.tf(path, "apply", "-auto-approve")
        for _ in range(6):
            self.tf(path, "plan", "-refresh-only", "-detailed-exitcode", expect=0)
        self.tf(path, "plan", "-detailed-exitcode", expect=0)
        # Rotated through the API: password_updated_at moves, and the plan shows an update.
        org_id = self.find_org("habits-refresh")
        secret_id = self.state_id(path, "agyn_image_pull_secret.ghcr")
        resp = self.server.admin().patch(
            f"/api/v1/organizations/{org_id}/image-pull-secrets/{secret_id}",
            {"password": "rotated-outside"})
        self.assertEqual(resp.status, 200, resp)
        out = self.tf(path, "plan", "-detailed-exitcode", expect=2)
        self.assertIn("password_updated_at", out)
        self.assertIn("1 to change", out)
        self.tf(path, "apply", "-auto-approve")
        self.tf(path, "plan", "-detailed-exitcode", expect=0)
        self.tf(path, "destroy", "-auto-approve")

    def test_organization_refuses_destroy_with_unmanaged_objects(self):
        path = self.workdir("habits-force", self.config("habits-force"))
        self.tf(path, "apply", "-auto-approve")
        org_id = self.find_org("habits-force")
        made = self.server.admin().post(f"/api/v1/organizations/{org_id}/agents",
                                        {"name": "outsider", "image": "nginx"})
        self.assertEqual(made.status, 201, made)
        out = self.tf(path, "destroy", "-auto-approve", expect=1)
        self.assertIn("Organization not empty", out)
        self.assertIn("outsider", out)
        self.assertIn("force_destroy", out)
        self.assertEqual(self.server.admin().get(
            f"/api/v1/organizations/{org_id}/agents/{made.json['id']}").status, 200)
        self.write_config(path, self.config("habits-force").replace(
            'name = "habits-force"', 'name = "habits-force"\n  force_destroy = true'))
        self.tf(path, "apply", "-auto-approve")
        self.tf(path, "destroy", "-auto-approve")
        self.assertEqual(self.server.admin().get(f"/api/v1/organizations/{org_id}").status, 404)

    def wo_config(self, org, version):
        return tft.TERRAFORM_BLOCK + tft.org_and_agent(org) + f"""
resource "agyn_secret_provider" "vault" {{
  organization_id = agyn_organization.acme.id
  name            = "vault"
  type            = "vault"
  vault {{
    address          = "{self.vault.address}"
    token_wo         = "{self.vault.token}"
    token_wo_version = {version}
  }}
}}

resource "agyn_secret_provider" "aws" {{
  organization_id = agyn_organization.acme.id
  name            = "aws"
  type            = "aws-secrets-manager"
  aws_secrets_manager {{
    region                       = "us-east-1"
    access_key_id                = "AKIDEXAMPLE"
    secret_access_key_wo         = "aws-secret-never-in-state-{version}"
    secret_access_key_wo_version = {version}
    session_token_wo             = "aws-session-never-in-state-{version}"
    session_token_wo_version     = {version}
  }}
}}

resource "agyn_secret" "token" {{
  organization_id  = agyn_organization.acme.id
  name             = "registry-token"
  value_wo         = "value-never-in-state-{version}"
  value_wo_version = {version}
}}
"""

    def test_write_only_companions_for_every_secret_value(self):
        path = self.workdir("habits-wo", self.wo_config("habits-wo", 1))
        out = self.tf(path, "apply", "-auto-approve")
        never = ("value-never-in-state-1", "aws-secret-never-in-state-1",
                 "aws-session-never-in-state-1", self.vault.token)
        for secret in never:
            self.assertNotIn(secret, out)
        with open(os.path.join(path, "terraform.tfstate")) as f:
            state = f.read()
        for secret in never:
            self.assertNotIn(secret, state)
        org_id = self.find_org("habits-wo")
        providers = {p["name"]: p for p in self.items(org_id, "secret-providers")}
        check = self.server.admin().post(f"/api/v1/organizations/{org_id}/secret-providers/"
                                         f"{providers['vault']['id']}/test")
        self.assertTrue(check.json["ok"], check)  # the write-only token reached agyn
        [secret] = self.items(org_id, "secrets")
        self.assertEqual(secret["value_source"], "inline")
        # Both AWS credentials reached agyn, the session token write-only too.
        self.assertEqual(sorted(providers["aws"]["secret_fields_set"]),
                         ["secret_access_key", "session_token"])
        # No drift, and refresh-only says so with exit 0 every time: no resource has two
        # sensitive attributes, whose order Terraform would shuffle (hashicorp/terraform#36403).
        for _ in range(4):
            self.tf(path, "plan", "-refresh-only", "-detailed-exitcode", expect=0)
        self.tf(path, "plan", "-detailed-exitcode", expect=0)
        # A new version sends each value again, in place.
        self.write_config(path, self.wo_config("habits-wo", 2))
        out = self.tf(path, "apply", "-auto-approve")
        self.assertIn("0 added, 3 changed, 0 destroyed", out)
        with open(os.path.join(path, "terraform.tfstate")) as f:
            self.assertNotIn("value-never-in-state-2", f.read())
        self.tf(path, "plan", "-detailed-exitcode", expect=0)
        # Exactly one of the credential and its write-only companion.
        both = self.wo_config("habits-wo", 2).replace(
            'token_wo         =', 'token = "x"\n    token_wo         =')
        self.write_config(path, both)
        out = self.tf(path, "plan", expect=1)
        self.assertIn("Exactly one of token or token_wo", out)
        self.write_config(path, self.wo_config("habits-wo", 2))
        self.tf(path, "destroy", "-auto-approve")

    def test_filesystem_mirror_install_then_offline_init_with_lock_file(self):
        """scripts/install-terraform-provider.sh (what `make install-terraform-provider` runs)
        into a mirror; `terraform init` with only that mirror (no network, no dev_overrides)
        installs it, writes the lock file, warns about nothing, and plans."""
        mirror = os.path.join(self.tmp, "mirror")
        script = os.path.join(lib.SOURCE_DIR, "scripts", "install-terraform-provider.sh")
        done = subprocess.run([script, tft.PROVIDER, mirror], capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        version = subprocess.run([tft.PROVIDER, "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        cli_config = os.path.join(self.tmp, "mirror.tfrc")
        with open(cli_config, "w") as f:  # docs/terraform.md's configuration, verbatim
            f.write('provider_installation {\n'
                    '  filesystem_mirror {\n'
                    f'    path    = "{mirror}"\n'
                    '    include = ["registry.terraform.io/agynio/agyn"]\n'
                    '  }\n'
                    '  direct {\n'
                    '    exclude = ["registry.terraform.io/agynio/agyn"]\n'
                    '  }\n'
                    '}\n')
        path = self.workdir("habits-mirror", self.config("habits-mirror").replace(
            'source = "agynio/agyn"', f'source  = "agynio/agyn"\n      version = "~> {version}"'))
        env = {"TF_CLI_CONFIG_FILE": cli_config, "HOME": self.tmp}
        # The lock file first (its checksums from the mirror), as docs/terraform.md says.
        locked = subprocess.run([tft.TERRAFORM, "providers", "lock", f"-fs-mirror={mirror}"],
                                cwd=path, env=dict(os.environ, **env), capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(locked.returncode, 0, locked.stdout + locked.stderr)
        out = self.tf(path, "init", "-input=false", extra_env=env)
        self.assertIn(f"Installing agynio/agyn v{version}", out)
        self.assertNotIn("Warning", out)
        with open(os.path.join(path, ".terraform.lock.hcl")) as f:
            lock = f.read()
        self.assertIn('provider "registry.terraform.io/agynio/agyn"', lock)
        self.assertIn(f'version     = "{version}"', lock)
        out = self.tf(path, "plan", extra_env=env)
        self.assertNotIn("Warning", out)
        self.assertIn("3 to add", out)
        # Again, from the lock file.
        self.tf(path, "init", "-input=false", extra_env=env)

    def test_data_sources_look_up_by_name(self):
        org = self.server.admin().post("/api/v1/organizations", {"name": "habits-data"})
        self.assertEqual(org.status, 201, org)
        base = f"/api/v1/organizations/{org.json['id']}"
        agent = self.server.admin().post(base + "/agents",
                                         {"name": "support", "image": "nginx:1.25"})
        ips = self.server.admin().post(base + "/image-pull-secrets", {
            "name": "ghcr", "registry": "ghcr.io", "username": "bot", "password": "data-pw"})
        self.assertEqual((agent.status, ips.status), (201, 201))
        config = tft.TERRAFORM_BLOCK + """
data "agyn_organization" "acme" {
  name = "habits-data"
}

data "agyn_agent" "support" {
  organization_id = data.agyn_organization.acme.id
  name            = "support"
}

data "agyn_image_pull_secret" "ghcr" {
  organization_id = data.agyn_organization.acme.id
  name            = "ghcr"
}

resource "agyn_agent_image_pull_secret_attachment" "ghcr_on_support" {
  agent_id             = data.agyn_agent.support.id
  image_pull_secret_id = data.agyn_image_pull_secret.ghcr.id
}

output "agent_image" {
  value = data.agyn_agent.support.image
}

output "registry" {
  value = data.agyn_image_pull_secret.ghcr.registry
}
"""
        path = self.workdir("habits-data", config)
        out = self.tf(path, "apply", "-auto-approve")
        self.assertIn('agent_image = "nginx:1.25"', out)
        self.assertIn('registry = "ghcr.io"', out)
        self.assertNotIn("data-pw", out)
        attached = self.server.admin().get(base + "/image-pull-secret-attachments").json["items"]
        self.assertEqual([(a["agent_id"], a["image_pull_secret_id"]) for a in attached],
                         [(agent.json["id"], ips.json["id"])])
        self.tf(path, "plan", "-detailed-exitcode", expect=0)
        self.tf(path, "destroy", "-auto-approve")
        # A name that does not exist is a diagnostic on name.
        self.write_config(path, config.replace('name            = "support"',
                                               'name            = "nobody"'))
        out = self.tf(path, "plan", expect=1)
        self.assertIn('No agent named "nobody"', out)


def load_tests(loader, tests, pattern):
    """Only this file's tests, not the inherited ones of test_terraform."""
    names = sorted(n for n in vars(TerraformHabits) if n.startswith("test_"))
    return unittest.TestSuite(TerraformHabits(n) for n in names)


if __name__ == "__main__":
    unittest.main()
