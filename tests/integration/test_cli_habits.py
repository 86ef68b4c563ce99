"""test_cli_habits.py — the habits of kubectl and gh in `agyn`, and agynd's operator basics
(issue 15): login with contexts saved 0600 under $XDG_CONFIG_HOME, version and --version on both
binaries, shell completion, -o yaml and -o name, ls/rm aliases and singular nouns, names
instead of ids in tables, provider credential flags that cannot be taken for the API token,
`agynd backup` while serving, a taken port named in the error, and no warning for a client that
went away. Real agynd on loopback; the CLI from AGYN_CLI_BIN.
"""
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import tempfile
import time

import yaml

from agyn_testlib import AGYND, Server, backend_independent
from test_cli import AGYN, CliTestCase

VERSION = re.compile(r"^agynd? \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}|unknown)\)$")


class Habits(CliTestCase):
    owner = None

    def setUp(self):
        if Habits.owner is None:
            Habits.org_id, Habits.owner = self.new_owner("habits")

    @backend_independent
    def test_version_everywhere(self):
        for argv in ([AGYN, "--version"], [AGYN, "version"], [AGYND, "--version"],
                     [AGYND, "version"]):
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            self.assertRegex(out.strip(), VERSION, argv)

    def test_login_saves_a_private_context_used_by_later_runs(self):
        home = tempfile.mkdtemp(prefix="agyn-xdg-")
        env = {"XDG_CONFIG_HOME": home}
        bad = self.agyn("login", "--api-url", self.url, "--token-stdin", stdin="agyn_wrong\n",
                        env=env)
        self.assertEqual(bad.returncode, 1, bad.stderr)
        self.assertFalse(os.path.exists(os.path.join(home, "agyn", "config.json")))
        self.ok("login", "--api-url", self.url, "--token-stdin", "--context", "work",
                stdin=self.owner + "\n", env=env)
        path = os.path.join(home, "agyn", "config.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        with open(path) as f:
            saved = json.load(f)
        self.assertEqual(saved["current_context"], "work")
        self.assertEqual(saved["contexts"]["work"]["api_url"], self.url)
        # No AGYN_API_URL, no AGYN_TOKEN: the saved context answers.
        env_no_url = dict(env, AGYN_API_URL="")
        self.ok("agents", "create", "--name", "via-login", "--image", "a.io/x:1",
                env=env_no_url)
        self.assertIn("via-login", self.ok("agents", "ls", env=env_no_url).stdout)
        self.assertEqual(self.ok("context", "current", env=env).stdout, "work\n")
        self.assertIn("work", self.ok("context", "list", env=env).stdout)
        self.assertEqual(self.agyn("context", "use", "nope", env=env).returncode, 1)
        # The saved token is never sent to another server.
        other = self.agyn("agents", "ls", env=dict(env, AGYN_API_URL="http://127.0.0.1:9"))
        self.assertEqual(other.returncode, 2)
        self.assertIn("no API token", other.stderr)

    def test_yaml_name_aliases_and_singular_nouns(self):
        self.ok("agent", "create", "--name", "yaml-one", "--image", "a.io/y:1", token=self.owner)
        as_json = json.loads(self.ok("agents", "list", "-o", "json", token=self.owner).stdout)
        as_yaml = yaml.safe_load(self.ok("agent", "ls", "-o", "yaml", token=self.owner).stdout)
        self.assertEqual(as_json, as_yaml)
        names = self.ok("agents", "ls", "-o", "name", token=self.owner).stdout.split()
        self.assertIn("yaml-one", names)
        self.assertEqual(self.ok("agent", "get", "yaml-one", "-o", "name",
                                 token=self.owner).stdout, "yaml-one\n")
        self.ok("agent", "rm", "yaml-one", token=self.owner)
        self.assertNotIn("yaml-one", self.ok("agents", "ls", "-o", "name",
                                             token=self.owner).stdout.split())
        bad = self.agyn("agents", "ls", "-o", "xml", token=self.owner)
        self.assertEqual(bad.returncode, 2)

    def test_tables_show_names_not_ids(self):
        self.ok("agents", "create", "--name", "named-agent", "--image", "a.io/n:1",
                token=self.owner)
        self.ok("workloads", "start", "--agent", "named-agent", token=self.owner)
        rows = self.table(self.ok("workloads", "list", "--agent", "named-agent",
                                  token=self.owner).stdout)
        self.assertEqual({r["AGENT"] for r in rows}, {"named-agent"})

    def test_provider_token_never_taken_for_the_api_token(self):
        leaked = "root-vault-" + os.urandom(6).hex()
        proc = self.agyn("secret-providers", "create", "--name", "v1", "--type", "vault",
                         "--address", "http://127.0.0.1:1", "--token", leaked, token=self.owner)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--vault-token-stdin", proc.stderr)
        self.assertNotIn(leaked, proc.stderr + proc.stdout)
        self.ok("secret-providers", "create", "--name", "v2", "--type", "vault", "--address",
                "http://127.0.0.1:1", "--vault-token-stdin", stdin=leaked + "\n",
                token=self.owner)
        listed = self.ok("providers", "ls", "-o", "name", token=self.owner).stdout.split()
        self.assertEqual([n for n in listed if n.startswith("v")], ["v2"])
        self.assertNotIn(leaked, self.server.logs())

    def test_update_remote_path_keeps_the_provider(self):
        self.ok("providers", "create", "--name", "keep-vault", "--type", "vault", "--address",
                "http://127.0.0.1:1", "--vault-token-stdin", stdin="t\n", token=self.owner)
        self.ok("ips", "create", "--name", "remote-ips", "--registry", "r.example.com",
                "--username", "u", "--provider", "keep-vault", "--remote-path", "kv/app/a",
                token=self.owner)
        before = json.loads(self.ok("ips", "get", "remote-ips", "-o", "json",
                                    token=self.owner).stdout)
        self.ok("ips", "update", "remote-ips", "--remote-path", "kv/app/b", token=self.owner)
        after = json.loads(self.ok("ips", "get", "remote-ips", "-o", "json",
                                   token=self.owner).stdout)
        self.assertEqual(after["remote_path"], "kv/app/b")
        self.assertEqual(after["provider_id"], before["provider_id"])
        self.ok("ips", "create", "--name", "inline-ips", "--registry", "i.example.com",
                "--username", "u", "--password-stdin", stdin="pw\n", token=self.owner)
        refused = self.agyn("ips", "update", "inline-ips", "--remote-path", "kv/app/c",
                            token=self.owner)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("--remote-path needs --provider", refused.stderr)

    def test_events_follow_is_a_table(self):
        self.ok("agents", "create", "--name", "evented", "--image", "a.io/e:1", token=self.owner)
        self.ok("workloads", "start", "--agent", "evented", token=self.owner)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_API_URL=self.url, AGYN_TOKEN=self.owner)
        proc = subprocess.Popen([AGYN, "events", "follow", "--last-event-id", "0"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "EVENT", "OBJECT", "STATUS", "DETAIL"])
        self.assertTrue(any("workload." in line for line in lines[1:]), out)
        self.assertFalse(any(line.startswith(("data:", "event:", "id:")) for line in lines), out)

    def test_import_resolves_credential_helpers_per_entry(self):
        bindir = tempfile.mkdtemp(prefix="agyn-helpers-")
        helper = os.path.join(bindir, "docker-credential-agyntest")
        with open(helper, "w") as f:
            f.write("#!/bin/sh\nread server\n"
                    "case $server in\n"
                    "  good.example.com) printf '{\"ServerURL\":\"%s\",\"Username\":\"robot\","
                    "\"Secret\":\"helper-pw-1\"}' \"$server\" ;;\n"
                    "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
                    "esac\n")
        os.chmod(helper, 0o755)
        config = {"auths": {"store.example.com": {}},
                  "credsStore": "desktop",
                  "credHelpers": {"good.example.com": "agyntest",
                                  "missing.example.com": "agyntest"}}
        path = os.path.join(bindir, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        env = {"PATH": bindir + os.pathsep + os.environ["PATH"]}
        proc = self.agyn("ips", "import", path, token=self.owner, env=env)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("good.example.com", proc.stdout)
        self.assertIn("store.example.com: docker-credential-desktop is not installed",
                      proc.stderr)
        self.assertIn("missing.example.com: docker-credential-agyntest get failed: "
                      "credentials not found", proc.stderr)
        self.assertIn("Imported 1 of 3 entries.", proc.stderr)
        self.assertNotIn("helper-pw-1", proc.stdout + proc.stderr)
        imported = json.loads(self.ok("ips", "get", "good.example.com", "-o", "json",
                                      token=self.owner).stdout)
        self.assertEqual(imported["username"], "robot")

    def test_reimport_with_update_existing_is_idempotent(self):
        import base64
        tmp = tempfile.mkdtemp(prefix="agyn-import-")
        path = os.path.join(tmp, "config.json")

        def write(password):
            auth = base64.b64encode(f"ci:{password}".encode()).decode()
            with open(path, "w") as f:
                json.dump({"auths": {"again.example.com": {"auth": auth}}}, f)

        write("first-pw")
        self.ok("ips", "import", path, token=self.owner)
        before = json.loads(self.ok("ips", "get", "again.example.com", "-o", "json",
                                    token=self.owner).stdout)
        plain = self.agyn("ips", "import", path, token=self.owner)
        self.assertEqual(plain.returncode, 1)  # exists: reported, nothing changed
        write("second-pw")
        again = self.ok("ips", "import", path, "--update-existing", token=self.owner)
        self.assertIn("Imported 1 of 1 entries (existing ones updated).", again.stderr)
        after = json.loads(self.ok("ips", "get", "again.example.com", "-o", "json",
                                   token=self.owner).stdout)
        self.assertEqual(after["id"], before["id"])
        self.assertNotEqual(after["password_updated_at"], before["password_updated_at"])
        names = self.ok("ips", "ls", "-o", "name", token=self.owner).stdout.split()
        self.assertEqual(names.count("again.example.com"), 1)

    @backend_independent
    def test_completion_scripts(self):
        bash = self.ok("completion", "bash").stdout
        self.assertIn("image-pull-secrets|ips", bash)
        self.assertIn("import verify", bash)
        subprocess.run(["bash", "-n"], input=bash, text=True, check=True)
        self.assertIn("bashcompinit", self.ok("completion", "zsh").stdout)
        self.assertIn("complete -c agyn", self.ok("completion", "fish").stdout)
        self.assertEqual(self.agyn("completion", "tcsh").returncode, 2)


class Operations(CliTestCase):
    def test_backup_while_serving(self):
        self.new_owner("backed-up")
        target = os.path.join(self.server.tmp, "backup.db")
        if self.server.database_args:  # PostgreSQL: pg_dump's job, and the URL is not echoed
            proc = subprocess.run([AGYND, "backup", "--data-dir", self.server.data_dir, "--to",
                                   target], capture_output=True, text=True, env=self.server.env)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("pg_dump", proc.stderr)
            self.assertNotIn(self.server.database_url, proc.stderr)
            self.assertFalse(os.path.exists(target))
            return
        proc = subprocess.run([AGYND, "backup", "--data-dir", self.server.data_dir, "--to",
                               target], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o600)
        with sqlite3.connect(target) as db:
            names = [r[0] for r in db.execute("SELECT name FROM organizations")]
        self.assertIn("backed-up", names)
        again = subprocess.run([AGYND, "backup", "--data-dir", self.server.data_dir, "--to",
                                target], capture_output=True, text=True)
        self.assertEqual(again.returncode, 1)
        self.assertIn("backup.db", again.stderr)

    def test_taken_port_is_named(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = subprocess.run([AGYND, "serve", "--data-dir", self.server.data_dir,
                                   "--listen", f"127.0.0.1:{port}"], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"port {port}", proc.stderr)
        self.assertNotIn("port 0", proc.stderr)

    def test_closed_event_stream_is_not_a_warning(self):
        org_id, owner = self.new_owner("streams")
        before = self.server.logs().count("level=warn")
        for _ in range(3):
            conn = socket.create_connection(("127.0.0.1", self.server.port))
            conn.sendall(f"GET /api/v1/organizations/{org_id}/events HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {owner}\r\n\r\n".encode())
            conn.recv(1024)
            conn.close()
        self.server.admin().post(f"/api/v1/organizations/{org_id}/agents",
                                 {"name": "wake", "image": "a.io/w:1"})
        time.sleep(2.5)
        self.assertEqual(self.server.logs().count("level=warn"), before, self.server.logs())
