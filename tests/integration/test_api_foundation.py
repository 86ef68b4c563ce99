"""The server foundation, black-box: the agynd command line, public endpoints, authentication
and roles, organization isolation, agents / MCP servers / hooks, image validation, paging,
hostile input, graceful shutdown and the request log.

Route lists are read from src/api/routes.c, so routes added later are covered by the
organization-isolation and role checks without editing this file.
"""
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from agyn_testlib import AGYND, SOURCE_DIR, Client, Response, Server, ServerTestCase

MISSING = "00000000-0000-4000-8000-000000000000"  # a well-formed id no row ever has
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TOKEN_RE = re.compile(r"^agyn_[A-Za-z0-9_-]{43}$")
MAX_BODY = 1024 * 1024
DIGEST = "sha256:" + "0123456789abcdef" * 4
JSON = {"Content-Type": "application/json"}
ANY = "any status below 500"
OUTSIDE = "outside /api/: the Console or a JSON error, never API data"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def read_routes():
    """(method, pattern, access) for every entry of src/api/routes.c."""
    with open(os.path.join(SOURCE_DIR, "src", "api", "routes.c")) as f:
        text = f.read()
    org = re.search(r'#define ORG "([^"]+)"', text).group(1)
    routes = []
    for m in re.finditer(r'\{"([A-Z]+)",\s*(ORG)?\s*(?:"([^"]*)")?\s*,\s*\w+,\s*(ACCESS_\w+)',
                         text):
        method, has_org, rest, access = m.groups()
        routes.append((method, (org if has_org else "") + (rest or ""), access))
    return routes


def fill(pattern, org_id, ids=None):
    """The pattern with {org} = org_id and every other placeholder from ids (default MISSING)."""
    path = pattern.replace("{org}", org_id)
    return re.sub(r"\{(\w+)\}", lambda m: (ids or {}).get(m.group(1), MISSING), path)


def parse_http(data):
    """A Response from raw bytes of one HTTP/1.1 response (the first one, if several)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    length = headers.get("Content-Length")
    if length is not None and length.isdigit():
        body = body[:int(length)]
    return Response(status, headers, body.decode("utf-8", "replace"))


def raw_http(port, data, timeout=15):
    """Sends bytes as they are (for requests http.client refuses to build); reads to EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return parse_http(b"".join(chunks))


def raw_request(port, method, target, token=None, body=None, headers=()):
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close"]
    if token:
        lines.append(b"Authorization: Bearer " + token.encode())
    lines += [h.encode() if isinstance(h, str) else h for h in headers]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return raw_http(port, b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))


def accepted(pid, server_port, client_ports):
    """True when the process holds a socket for every one of these client connections (a
    connection still in the listen backlog has no file descriptor yet)."""
    owned = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            owned.add(link[8:-1])
    found = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            local_port = int(cols[1].split(":")[1], 16)
            remote_port = int(cols[2].split(":")[1], 16)
            if local_port == server_port and remote_port in client_ports and cols[9] in owned:
                found.add(remote_port)
    return found == set(client_ports)


def parse_logfmt(line):
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line)}


def wait_for(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------

class CommandLineTest(unittest.TestCase):
    def run_agynd(self, *args, **kwargs):
        return subprocess.run([AGYND, *args], capture_output=True, text=True, timeout=60,
                              **kwargs)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="agyn-cli-")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def test_top_level_help_lists_commands(self):
        for flag in ("--help", "-h"):
            result = self.run_agynd(flag)
            self.assertEqual(result.returncode, 0, result)
            for command in ("init", "serve", "keys"):
                self.assertRegex(result.stdout, rf"(?m)^\s+{command}\s", result.stdout)

    def test_command_help_describes_flags(self):
        expected = {
            "init": ["--data-dir", "--keyring-file", "--help"],
            "serve": ["--data-dir", "--listen", "--keyring-file", "--database", "--http-threads",
                      "--help"],
            "keys": ["list", "add", "remove", "--data-dir", "--keyring-file"],
        }
        for command, flags in expected.items():
            with self.subTest(command=command):
                result = self.run_agynd(command, "--help")
                self.assertEqual(result.returncode, 0, result)
                self.assertIn(f"agynd {command}", result.stdout)
                for flag in flags:
                    self.assertIn(flag, result.stdout, f"{command} --help does not describe {flag}")

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["serve", "--no-such-flag"], ["init", "--bogus"],
                     ["serve", "--http-threads", "0"]):
            with self.subTest(args=args):
                result = self.run_agynd(*args)
                self.assertEqual(result.returncode, 2, result)
                self.assertTrue(result.stderr.strip(), "a usage error must explain itself")
                self.assertEqual(result.stdout, "")

    def test_init_prints_only_the_token_and_keeps_files_private(self):
        data = os.path.join(self.tmp, "data")
        # A permissive umask in the caller must not make the data readable by others.
        result = self.run_agynd("init", "--data-dir", data, umask=0o022)
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(result.stdout.count("\n"), 1, result.stdout)
        self.assertRegex(result.stdout.strip(), TOKEN_RE)
        self.assertEqual(stat.S_IMODE(os.stat(data).st_mode), 0o700)
        names = []
        for root, dirs, files in os.walk(data):
            for name in dirs + files:
                path = os.path.join(root, name)
                names.append(name)
                mode = stat.S_IMODE(os.stat(path).st_mode)
                self.assertEqual(mode & 0o077, 0, f"{path} has mode {oct(mode)}")
        self.assertIn("agyn.db", names)
        self.assertIn("keyring.json", names)
        self.assertNotIn(result.stdout.strip(), result.stderr, "token repeated on stderr")

    def snapshot(self, root):
        state = {}
        for dirpath, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(dirpath, name)
                st = os.stat(path)
                digest = None
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                state[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns,
                                                      digest)
        return state

    def test_init_refuses_an_initialized_data_dir(self):
        data = os.path.join(self.tmp, "data")
        first = self.run_agynd("init", "--data-dir", data)
        self.assertEqual(first.returncode, 0, first)
        before = self.snapshot(data)
        again = self.run_agynd("init", "--data-dir", data)
        self.assertNotEqual(again.returncode, 0)
        self.assertEqual(again.stdout, "", "a refused init must not print a token")
        self.assertIn(data, again.stderr)
        self.assertIn("not empty", again.stderr)
        self.assertEqual(self.snapshot(data), before, "a refused init changed the data dir")

    def test_init_refuses_a_dir_with_unrelated_content(self):
        data = os.path.join(self.tmp, "other")
        os.mkdir(data, 0o755)
        with open(os.path.join(data, "notes.txt"), "w") as f:
            f.write("keep me\n")
        before = self.snapshot(data)
        result = self.run_agynd("init", "--data-dir", data)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, "")
        self.assertIn("refusing", result.stderr)
        self.assertEqual(self.snapshot(data), before)
        self.assertEqual(stat.S_IMODE(os.stat(data).st_mode), 0o755)


# --------------------------------------------------------------------------------------------
# The API, against one server
# --------------------------------------------------------------------------------------------

class ApiFoundationTest(ServerTestCase):
    tokens = set()  # every token value handed out, none of which may reach the log

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tokens = {cls.server.admin_token}
        cls.routes = read_routes()

    @classmethod
    def tearDownClass(cls):
        logs = cls.server.logs()
        super().tearDownClass()
        leaked = [t[:9] for t in cls.tokens if t in logs]
        if leaked:
            raise AssertionError(f"token values in the log (prefixes): {leaked}")
        fives = re.findall(r".*status=5\d\d.*", logs)
        if fives:
            raise AssertionError("the server answered 5xx:\n" + "\n".join(fives[:10]))

    # helpers ---------------------------------------------------------------------------------

    def org(self, prefix="org"):
        ctx = self.server.new_org(unique(prefix))
        self.tokens.update({ctx.owner.token, ctx.member.token})
        return ctx

    def anonymous(self):
        return Client(self.server.port)

    def create(self, ctx, kind, body, status=201):
        resp = ctx.owner.post(ctx.path(f"/{kind}"), body)
        self.assertEqual(resp.status, status, resp)
        return resp.json

    def agent(self, ctx, **fields):
        body = {"name": unique("agent"), "image": "nginx:1.25", **fields}
        return self.create(ctx, "agents", body)

    def mcp(self, ctx, agent_id, **fields):
        body = {"agent_id": agent_id, "name": unique("mcp"), "image": "ghcr.io/acme/mcp:v1",
                **fields}
        return self.create(ctx, "mcps", body)

    def hook(self, ctx, agent_id, **fields):
        body = {"agent_id": agent_id, "event": "before_run", "image": "ghcr.io/acme/hook:v1",
                **fields}
        return self.create(ctx, "hooks", body)

    def list_all(self, client, path):
        items, token = [], ""
        for _ in range(100):
            sep = "&" if "?" in path else "?"
            resp = client.get(f"{path}{sep}page_size=100&page_token={token}")
            self.assertEqual(resp.status, 200, resp)
            items += resp.json["items"]
            token = resp.json["next_page_token"]
            if not token:
                return items
        self.fail("paging did not end")

    def assertJsonError(self, resp, status=None):
        """Any 4xx (or the given status) with an {"error":{code,message}} JSON body."""
        if status is None:
            self.assertTrue(400 <= resp.status < 500, resp)
        else:
            self.assertEqual(resp.status, status, resp)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"),
                        resp.headers)
        self.assertError(resp, resp.status)
        self.assertIsInstance(resp.json["error"]["message"], str)
        self.assertTrue(resp.json["error"]["message"])

    def assertHealthy(self):
        resp = self.anonymous().get("/healthz")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.anonymous().get("/readyz").status, 200)

    # public endpoints ------------------------------------------------------------------------

    def test_health_endpoints_need_no_token(self):
        for path, status in (("/healthz", "ok"), ("/readyz", "ready")):
            for client in (self.anonymous(), self.anonymous().with_token("agyn_not-a-token")):
                resp = client.get(path)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json, {"status": status})
                self.assertEqual(resp.headers.get("Content-Type"), "application/json")
                self.assertRegex(resp.headers.get("X-Request-Id", ""), r"^[0-9a-f]{16}$")

    def test_openapi_document_lists_every_route(self):
        resp = self.anonymous().get("/api/v1/openapi.json")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"))
        doc = json.loads(resp.body)
        self.assertTrue(doc["openapi"].startswith("3."))
        self.assertIn("Error", doc["components"]["schemas"])
        documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item
                      if m in ("get", "post", "put", "patch", "delete")}
        served = {(m, p) for m, p, _ in self.routes}
        self.assertGreaterEqual(len(served), 25, "routes.c parsing broke")
        self.assertEqual(served - documented, set(), "routes missing from the OpenAPI document")
        self.assertEqual(documented - served, set(), "documented paths agynd does not serve")
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.assertTrue(op.get("responses"), f"{method} {path} has no responses")

    # authentication --------------------------------------------------------------------------

    def test_bad_credentials_are_401_json(self):
        ctx = self.org()
        good = self.server.admin_token
        unknown = "agyn_" + "A" * 43
        headers = {
            "no header": None,
            "empty": "",
            "scheme only": "Bearer",
            "empty token": "Bearer ",
            "wrong scheme": "Basic " + good,
            "token scheme": "Token " + good,
            "no scheme": good,
            "malformed": "Bearer not-a-token",
            "truncated": "Bearer " + good[:-1],
            "extended": "Bearer " + good + "x",
            "unknown": "Bearer " + unknown,
            "trailing junk": "Bearer " + good + " x",
        }
        paths = [("GET", "/api/v1/me"), ("GET", "/api/v1/organizations"),
                 ("POST", "/api/v1/organizations"), ("GET", ctx.path("/agents")),
                 ("POST", ctx.path("/agents")), ("GET", "/api/v1/no-such-route")]
        for label, header in headers.items():
            for method, path in paths:
                with self.subTest(label=label, method=method, path=path):
                    extra = {} if header is None else {"Authorization": header}
                    body = b'{"name":"x","image":"nginx"}' if method == "POST" else None
                    if body:
                        extra.update(JSON)
                    resp = self.anonymous().raw(method, path, body, extra)
                    self.assertJsonError(resp, 401)
                    self.assertEqual(resp.json["error"]["code"], "unauthenticated")
                    self.assertEqual(resp.headers.get("WWW-Authenticate"), "Bearer")
        # The scheme name is case-insensitive.
        resp = self.anonymous().raw("GET", "/api/v1/me",
                                    headers={"Authorization": "bearer " + good})
        self.assertEqual(resp.status, 200, resp)

    def test_revoked_token_is_401(self):
        ctx = self.org()
        made = ctx.owner.post(ctx.path("/tokens"), {"name": "ci", "role": "member"})
        self.assertEqual(made.status, 201, made)
        self.tokens.add(made.json["token"])
        client = ctx.owner.with_token(made.json["token"])
        self.assertEqual(client.get(ctx.path("/agents")).status, 200)
        self.assertError(ctx.member.delete(ctx.path(f"/tokens/{made.json['id']}")), 403)
        self.assertEqual(client.get(ctx.path("/agents")).status, 200, "a refused revoke revoked")
        resp = ctx.owner.delete(ctx.path(f"/tokens/{made.json['id']}"))
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.body, "")
        for path in ("/api/v1/me", ctx.path("/agents"), ctx.path("")):
            self.assertJsonError(client.get(path), 401)
        self.assertError(ctx.owner.delete(ctx.path(f"/tokens/{made.json['id']}")), 404,
                         field="id")
        ids = [t["id"] for t in self.list_all(ctx.owner, ctx.path("/tokens"))]
        self.assertNotIn(made.json["id"], ids)
        # An owner may revoke its own token; the next request with it is refused.
        own = ctx.owner.get("/api/v1/me").json["token_id"]
        self.assertEqual(ctx.owner.delete(ctx.path(f"/tokens/{own}")).status, 204)
        self.assertError(ctx.owner.get("/api/v1/me"), 401)

    def test_admin_creates_organizations_and_tokens(self):
        admin = self.server.admin()
        name = unique("org")
        org = admin.post("/api/v1/organizations", {"name": name})
        self.assertEqual(org.status, 201, org)
        self.assertRegex(org.json["id"], UUID_RE)
        self.assertEqual(org.json["name"], name)
        self.assertEqual(admin.get(f"/api/v1/organizations/{org.json['id']}").json, org.json)
        self.assertError(admin.post("/api/v1/organizations", {"name": name}), 409, field="name")
        for role in ("owner", "member"):
            tok = admin.post(f"/api/v1/organizations/{org.json['id']}/tokens",
                             {"name": f"t-{role}", "role": role})
            self.assertEqual(tok.status, 201, tok)
            self.tokens.add(tok.json["token"])
            self.assertRegex(tok.json["token"], TOKEN_RE)
            self.assertEqual(tok.json["role"], role)
            self.assertEqual(tok.json["organization_id"], org.json["id"])
            me = admin.with_token(tok.json["token"]).get("/api/v1/me")
            self.assertEqual(me.json["role"], role)
            self.assertEqual(me.json["organization_id"], org.json["id"])
            self.assertEqual(me.json["token_id"], tok.json["id"])
        for bad in ("admin", "OWNER", "", 5, None):
            self.assertError(admin.post(f"/api/v1/organizations/{org.json['id']}/tokens",
                                        {"name": "x", "role": bad}), 422, field="role")
        self.assertError(admin.post(f"/api/v1/organizations/{MISSING}/tokens",
                                    {"name": "x", "role": "owner"}), 404, field="organization_id")
        listed = [o["id"] for o in self.list_all(admin, "/api/v1/organizations")]
        self.assertIn(org.json["id"], listed)

    def test_only_the_admin_creates_organizations(self):
        ctx = self.org()
        for client in (ctx.owner, ctx.member):
            resp = client.post("/api/v1/organizations", {"name": unique("nope")})
            self.assertError(resp, 403, code="permission_denied")
            # A token of an organization lists only its own organization.
            orgs = client.get("/api/v1/organizations")
            self.assertEqual(orgs.status, 200, orgs)
            self.assertEqual([o["id"] for o in orgs.json["items"]], [ctx.id])
            self.assertEqual(orgs.json["next_page_token"], "")

    def test_owners_rename_and_only_the_admin_deletes_organizations(self):
        ctx = self.org()
        self.assertError(ctx.member.patch(ctx.base, {"name": unique("m")}), 403)
        renamed = unique("renamed")
        resp = ctx.owner.patch(ctx.base, {"name": renamed})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["name"], renamed)
        other = self.org()
        other_name = other.owner.get(other.base).json["name"]
        self.assertError(ctx.owner.patch(ctx.base, {"name": other_name}), 409, field="name")
        self.assertError(ctx.owner.patch(other.base, {"name": unique("x")}), 404)
        self.assertError(ctx.owner.patch(ctx.base, {"name": 5}), 422, field="name")
        agent = ctx.owner.post(ctx.path("/agents"), {"name": unique("a"), "image": "nginx"})
        self.assertEqual(agent.status, 201, agent)
        for client in (ctx.owner, ctx.member):
            self.assertError(client.delete(ctx.base), 403, code="permission_denied")
        admin = self.server.admin()
        self.assertEqual(admin.delete(ctx.base).status, 204)
        # Everything in it went with it, its tokens included; deleting again is a 404.
        self.assertError(admin.get(ctx.path("/agents")), 404, field="organization_id")
        self.assertError(ctx.owner.get("/api/v1/me"), 401)
        self.assertError(admin.delete(ctx.base), 404)
        self.assertEqual(other.owner.get(other.base).status, 200)

    def test_owner_creates_tokens_for_its_organization(self):
        ctx = self.org()
        made = ctx.owner.post(ctx.path("/tokens"), {"name": "deploy", "role": "owner"})
        self.assertEqual(made.status, 201, made)
        self.tokens.add(made.json["token"])
        self.assertEqual(set(made.json), {"id", "organization_id", "name", "role", "token",
                                          "token_prefix", "created_at", "updated_at"})
        new = ctx.owner.with_token(made.json["token"])
        self.assertEqual(new.get("/api/v1/me").json,
                         {"role": "owner", "organization_id": ctx.id, "token_id": made.json["id"]})
        made_agent = new.post(ctx.path("/agents"), {"name": unique("a"), "image": "nginx"})
        self.assertEqual(made_agent.status, 201, made_agent)
        self.assertEqual(made_agent.json["organization_id"], ctx.id)
        other = self.org()
        self.assertError(ctx.owner.post(other.path("/tokens"), {"name": "x", "role": "owner"}),
                         404, field="organization_id")

    def test_token_value_is_shown_only_on_create(self):
        ctx = self.org()
        made = ctx.owner.post(ctx.path("/tokens"), {"name": "once", "role": "member"})
        self.assertEqual(made.status, 201, made)
        value = made.json["token"]
        self.tokens.add(value)
        self.assertEqual(made.json["token_prefix"], value[:9])
        listing = ctx.owner.get(ctx.path("/tokens"))
        self.assertEqual(listing.status, 200, listing)
        self.assertNotIn(value, listing.body)
        self.assertNotIn(hashlib.sha256(value.encode()).hexdigest(), listing.body)
        self.assertEqual(len(listing.json["items"]), 3)  # owner, member, once
        for item in listing.json["items"]:
            self.assertNotIn("token", item)
            self.assertNotIn("token_hash", item)
            self.assertEqual(item["organization_id"], ctx.id)
        me = ctx.owner.with_token(value).get("/api/v1/me")
        self.assertNotIn(value, me.body)

    def test_me_describes_the_calling_token(self):
        ctx = self.org()
        admin = self.server.admin().get("/api/v1/me")
        self.assertEqual(admin.status, 200, admin)
        self.assertEqual(admin.json["role"], "admin")
        self.assertIsNone(admin.json["organization_id"])
        self.assertRegex(admin.json["token_id"], UUID_RE)
        for client, role in ((ctx.owner, "owner"), (ctx.member, "member")):
            me = client.get("/api/v1/me")
            self.assertEqual(me.status, 200, me)
            self.assertEqual(me.json["role"], role)
            self.assertEqual(me.json["organization_id"], ctx.id)
            self.assertRegex(me.json["token_id"], UUID_RE)
        self.assertJsonError(self.anonymous().get("/api/v1/me"), 401)

    # roles -----------------------------------------------------------------------------------

    def test_member_reads_but_cannot_write(self):
        ctx = self.org()
        agent = self.agent(ctx, description="keep")
        mcp = self.mcp(ctx, agent["id"])
        hook = self.hook(ctx, agent["id"])
        owner_token = ctx.owner.get("/api/v1/me").json["token_id"]
        denied = [
            ("POST", "/agents", {"name": "m", "image": "nginx"}),
            ("PATCH", f"/agents/{agent['id']}", {"description": "changed"}),
            ("DELETE", f"/agents/{agent['id']}", None),
            ("POST", "/mcps", {"agent_id": agent["id"], "name": "m", "image": "nginx"}),
            ("PATCH", f"/mcps/{mcp['id']}", {"description": "changed"}),
            ("DELETE", f"/mcps/{mcp['id']}", None),
            ("POST", "/hooks", {"agent_id": agent["id"], "event": "x", "image": "nginx"}),
            ("PATCH", f"/hooks/{hook['id']}", {"description": "changed"}),
            ("DELETE", f"/hooks/{hook['id']}", None),
            ("POST", "/tokens", {"name": "m", "role": "owner"}),
            ("GET", "/tokens", None),
            ("DELETE", f"/tokens/{owner_token}", None),
        ]
        for method, suffix, body in denied:
            with self.subTest(method=method, path=suffix):
                resp = ctx.member.call(method, ctx.path(suffix), body)
                self.assertError(resp, 403, code="permission_denied")
        for kind, row in (("agents", agent), ("mcps", mcp), ("hooks", hook)):
            got = ctx.member.get(ctx.path(f"/{kind}/{row['id']}"))
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.json, row, "a refused write changed the row")
            listed = ctx.member.get(ctx.path(f"/{kind}"))
            self.assertEqual(listed.status, 200, listed)
            self.assertEqual([i["id"] for i in listed.json["items"]], [row["id"]])
        self.assertEqual(ctx.member.get(ctx.path("")).json["id"], ctx.id)
        self.assertEqual(ctx.owner.get("/api/v1/me").status, 200, "owner token was revoked")

    def test_access_matrix_of_every_route(self):
        """Owner-only routes refuse members with 403; admin-only routes refuse both."""
        ctx = self.org()
        kinds = {r[2] for r in self.routes}
        self.assertTrue({"ACCESS_PUBLIC", "ACCESS_TOKEN", "ACCESS_ADMIN", "ACCESS_MEMBER",
                         "ACCESS_OWNER"} >= kinds, kinds)
        checked = 0
        for method, pattern, access in self.routes:
            path = fill(pattern, ctx.id)
            clients = {"ACCESS_OWNER": [("member", ctx.member)],
                       "ACCESS_ADMIN": [("owner", ctx.owner), ("member", ctx.member)]}
            for role, client in clients.get(access, []):
                with self.subTest(method=method, pattern=pattern, role=role):
                    body = {} if method in ("POST", "PATCH", "PUT") else None
                    self.assertError(client.call(method, path, body), 403)
                    checked += 1
        self.assertGreaterEqual(checked, 12)

    # organization isolation ------------------------------------------------------------------

    def test_other_organizations_routes_are_404(self):
        victim = self.org("victim")
        agent = self.agent(victim)
        mcp = self.mcp(victim, agent["id"])
        hook = self.hook(victim, agent["id"])
        token = victim.owner.get("/api/v1/me").json["token_id"]
        intruder = self.org("intruder")
        checked = 0
        for method, pattern, access in self.routes:
            if "{org}" not in pattern or access not in ("ACCESS_MEMBER", "ACCESS_OWNER"):
                continue
            if "/agents/" in pattern:
                ids = {"id": agent["id"]}
            elif "/mcps/" in pattern:
                ids = {"id": mcp["id"]}
            elif "/hooks/" in pattern:
                ids = {"id": hook["id"]}
            elif "/tokens/" in pattern:
                ids = {"id": token}
            else:
                ids = {}
            body = {"name": "x", "image": "nginx"} if method in ("POST", "PATCH", "PUT") else None
            nowhere = intruder.owner.call(method, fill(pattern, MISSING, ids), body)
            self.assertError(nowhere, 404, field="organization_id")
            for client in (intruder.owner, intruder.member):
                with self.subTest(method=method, pattern=pattern):
                    resp = client.call(method, fill(pattern, victim.id, ids), body)
                    self.assertError(resp, 404, field="organization_id")
                    self.assertEqual(resp.json, nowhere.json, "another organization is "
                                     "distinguishable from a missing one")
                    checked += 1
        self.assertGreaterEqual(checked, 2 * 19)  # two tokens x the 19 routes of the foundation
        # The admin sees a missing organization the same way.
        self.assertEqual(self.server.admin().get(f"/api/v1/organizations/{MISSING}").json,
                         intruder.owner.get(f"/api/v1/organizations/{MISSING}").json)
        # Nothing of the victim's was touched.
        for kind, row in (("agents", agent), ("mcps", mcp), ("hooks", hook)):
            self.assertEqual(victim.owner.get(victim.path(f"/{kind}/{row['id']}")).json, row)
        self.assertEqual(victim.owner.get("/api/v1/me").json["token_id"], token)

    def test_other_organizations_ids_under_own_path_are_404(self):
        victim = self.org("victim")
        agent = self.agent(victim)
        mcp = self.mcp(victim, agent["id"])
        hook = self.hook(victim, agent["id"])
        token = victim.owner.get("/api/v1/me").json["token_id"]
        intruder = self.org("intruder")
        own_agent = self.agent(intruder)
        cases = []
        for kind, row in (("agents", agent), ("mcps", mcp), ("hooks", hook)):
            cases += [("GET", kind, row["id"], None),
                      ("PATCH", kind, row["id"], {"description": "mine now"}),
                      ("DELETE", kind, row["id"], None)]
        cases.append(("DELETE", "tokens", token, None))
        for method, kind, foreign_id, body in cases:
            with self.subTest(method=method, kind=kind):
                missing = intruder.owner.call(method, intruder.path(f"/{kind}/{MISSING}"), body)
                resp = intruder.owner.call(method, intruder.path(f"/{kind}/{foreign_id}"), body)
                self.assertError(resp, 404, field="id")
                self.assertEqual(resp.body.replace(foreign_id, "ID"),
                                 missing.body.replace(MISSING, "ID"))
                if method == "GET":
                    member = intruder.member.get(intruder.path(f"/{kind}/{foreign_id}"))
                    self.assertError(member, 404, field="id")
        # Another organization's agent as the parent of an MCP server or hook.
        for kind, body in (("mcps", {"name": "steal", "image": "nginx"}),
                           ("hooks", {"event": "steal", "image": "nginx"})):
            with self.subTest(parent_of=kind):
                resp = intruder.owner.post(intruder.path(f"/{kind}"),
                                           {**body, "agent_id": agent["id"]})
                missing = intruder.owner.post(intruder.path(f"/{kind}"),
                                              {**body, "agent_id": MISSING})
                self.assertError(resp, 404, field="agent_id")
                self.assertEqual(resp.body.replace(agent["id"], "ID"),
                                 missing.body.replace(MISSING, "ID"))
                # Filtering by it finds nothing, as for an unknown agent.
                listed = intruder.owner.get(intruder.path(f"/{kind}?agent_id={agent['id']}"))
                self.assertEqual(listed.status, 200, listed)
                self.assertEqual(listed.json["items"], [])
            # Moving one's own part under the victim's agent is refused too.
            own = (self.mcp if kind == "mcps" else self.hook)(intruder, own_agent["id"])
            moved = intruder.owner.patch(intruder.path(f"/{kind}/{own['id']}"),
                                         {"agent_id": agent["id"]})
            self.assertEqual(moved.status // 100, 4, moved)
            self.assertNotIn(moved.status, (200, 403))
        for kind, row in (("agents", agent), ("mcps", mcp), ("hooks", hook)):
            self.assertEqual(victim.owner.get(victim.path(f"/{kind}/{row['id']}")).json, row)
        self.assertEqual(victim.owner.get(victim.path(f"/mcps?agent_id={agent['id']}"))
                         .json["items"], [mcp])

    # agents ----------------------------------------------------------------------------------

    def test_agent_lifecycle(self):
        ctx = self.org()
        made = self.create(ctx, "agents", {"name": "builder", "image": "ghcr.io/acme/agent:v1"})
        self.assertEqual(set(made), {"id", "organization_id", "name", "image", "description",
                                     "created_at", "updated_at", "command", "args", "env"})
        self.assertRegex(made["id"], UUID_RE)
        self.assertEqual((made["organization_id"], made["name"], made["image"],
                          made["description"]), (ctx.id, "builder", "ghcr.io/acme/agent:v1", ""))
        self.assertRegex(made["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        path = ctx.path(f"/agents/{made['id']}")
        self.assertEqual(ctx.owner.get(path).json, made)
        self.assertIn(made, ctx.owner.get(ctx.path("/agents")).json["items"])

        patched = ctx.owner.patch(path, {"description": "builds things"})
        self.assertEqual(patched.status, 200, patched)
        self.assertEqual(patched.json["description"], "builds things")
        self.assertEqual((patched.json["name"], patched.json["image"]),
                         (made["name"], made["image"]), "PATCH dropped fields it was not given")
        self.assertGreaterEqual(patched.json["updated_at"], made["updated_at"])
        self.assertEqual(patched.json["created_at"], made["created_at"])
        renamed = ctx.owner.patch(path, {"name": "builder-2", "image": "nginx"})
        self.assertEqual((renamed.json["name"], renamed.json["image"],
                          renamed.json["description"]), ("builder-2", "nginx", "builds things"))
        self.assertEqual(ctx.owner.patch(path, {}).json["name"], "builder-2")
        self.assertEqual(ctx.owner.patch(path, {"description": ""}).json["description"], "")
        self.assertEqual(ctx.owner.get(path).json["name"], "builder-2")

        self.assertError(ctx.owner.patch(path, {"id": MISSING}), 422, field="id")
        self.assertError(ctx.owner.patch(path, {"organization_id": MISSING}), 422,
                         field="organization_id")
        self.assertError(ctx.owner.patch(path, {"name": ""}), 422, field="name")
        self.assertError(ctx.owner.patch(ctx.path(f"/agents/{MISSING}"), {"name": "z"}), 404,
                         field="id")

        deleted = ctx.owner.delete(path)
        self.assertEqual(deleted.status, 204, deleted)
        self.assertEqual(deleted.body, "")
        self.assertError(ctx.owner.get(path), 404, field="id")
        self.assertError(ctx.owner.delete(path), 404, field="id")
        self.assertError(ctx.owner.patch(path, {"name": "ghost"}), 404, field="id")
        self.assertEqual(ctx.owner.get(ctx.path("/agents")).json["items"], [])

    def test_agent_names_are_unique_per_organization(self):
        ctx = self.org()
        first = self.agent(ctx, name="same")
        second = self.agent(ctx, name="other")
        dup = ctx.owner.post(ctx.path("/agents"), {"name": "same", "image": "nginx"})
        self.assertError(dup, 409, field="name", code="conflict")
        self.assertIn("same", dup.json["error"]["message"])
        clash = ctx.owner.patch(ctx.path(f"/agents/{second['id']}"), {"name": "same"})
        self.assertError(clash, 409, field="name")
        self.assertEqual(ctx.owner.get(ctx.path(f"/agents/{second['id']}")).json["name"], "other")
        # Renaming to its own name is no conflict; another organization may use the name.
        self.assertEqual(ctx.owner.patch(ctx.path(f"/agents/{first['id']}"),
                                         {"name": "same"}).status, 200)
        self.agent(self.org(), name="same")
        # The name frees up once the agent is gone.
        self.assertEqual(ctx.owner.delete(ctx.path(f"/agents/{first['id']}")).status, 204)
        self.agent(ctx, name="same")

    # MCP servers and hooks -------------------------------------------------------------------

    def check_part_lifecycle(self, kind, label, make):
        ctx = self.org()
        a1, a2 = self.agent(ctx), self.agent(ctx)
        one = make(ctx, a1["id"], description="first")
        two = make(ctx, a1["id"])
        three = make(ctx, a2["id"])
        self.assertEqual(set(one), {"id", "organization_id", "agent_id", label, "image",
                                    "description", "created_at", "updated_at", "command",
                                    "args", "env"})
        self.assertEqual((one["agent_id"], one["organization_id"], one["description"]),
                         (a1["id"], ctx.id, "first"))
        path = ctx.path(f"/{kind}/{one['id']}")
        self.assertEqual(ctx.owner.get(path).json, one)
        everything = ctx.owner.get(ctx.path(f"/{kind}")).json["items"]
        self.assertEqual([i["id"] for i in everything], [one["id"], two["id"], three["id"]])
        by_agent = ctx.owner.get(ctx.path(f"/{kind}?agent_id={a1['id']}")).json["items"]
        self.assertEqual([i["id"] for i in by_agent], [one["id"], two["id"]])
        by_other = ctx.owner.get(ctx.path(f"/{kind}?agent_id={a2['id']}")).json["items"]
        self.assertEqual(by_other, [three])
        self.assertEqual(ctx.owner.get(ctx.path(f"/{kind}?agent_id={MISSING}")).json["items"], [])
        self.assertError(ctx.owner.get(ctx.path(f"/{kind}?agent_id=nope")), 400,
                         field="agent_id")

        patched = ctx.owner.patch(path, {"image": "nginx:1.25"})
        self.assertEqual(patched.status, 200, patched)
        self.assertEqual((patched.json[label], patched.json["description"],
                          patched.json["agent_id"], patched.json["image"]),
                         (one[label], "first", a1["id"], "nginx:1.25"))
        same_agent = ctx.owner.patch(path, {"agent_id": a1["id"], "description": "d"})
        self.assertEqual(same_agent.status, 200, same_agent)
        moved = ctx.owner.patch(path, {"agent_id": a2["id"]})
        self.assertError(moved, 422, field="agent_id")
        self.assertError(ctx.owner.patch(path, {"agent_id": "not-a-uuid"}), 422,
                         field="agent_id")
        self.assertEqual(ctx.owner.get(path).json["agent_id"], a1["id"])

        base = {label: "valid-label", "image": "nginx"}
        self.assertError(ctx.owner.post(ctx.path(f"/{kind}"), {**base, "agent_id": MISSING}),
                         404, field="agent_id")
        self.assertError(ctx.owner.post(ctx.path(f"/{kind}"), {**base, "agent_id": "x"}),
                         422, field="agent_id")
        self.assertError(ctx.owner.post(ctx.path(f"/{kind}"), base), 422, field="agent_id")
        self.assertError(ctx.owner.post(ctx.path(f"/{kind}"), {**base, "agent_id": a1["id"],
                                                                "bogus": True}),
                         422, field="bogus")

        self.assertEqual(ctx.owner.delete(path).status, 204)
        self.assertError(ctx.owner.get(path), 404, field="id")
        self.assertError(ctx.owner.delete(path), 404, field="id")
        self.assertError(ctx.owner.patch(path, {"description": "x"}), 404, field="id")
        return ctx, a1, a2

    def test_mcp_lifecycle(self):
        ctx, a1, a2 = self.check_part_lifecycle("mcps", "name", self.mcp)
        taken = self.mcp(ctx, a1["id"], name="tools")
        dup = ctx.owner.post(ctx.path("/mcps"), {"agent_id": a1["id"], "name": "tools",
                                                 "image": "nginx"})
        self.assertError(dup, 409, field="name", code="conflict")
        self.mcp(ctx, a2["id"], name="tools")  # unique per agent, not per organization
        other = self.mcp(ctx, a1["id"], name="other")
        self.assertError(ctx.owner.patch(ctx.path(f"/mcps/{other['id']}"), {"name": "tools"}),
                         409, field="name")
        self.assertEqual(ctx.owner.get(ctx.path(f"/mcps/{taken['id']}")).json, taken)

    def test_hook_lifecycle(self):
        ctx, a1, _ = self.check_part_lifecycle("hooks", "event", self.hook)
        for event in ("", "Upper", "1st", "has space", "a" * 65, 5):
            with self.subTest(event=event):
                resp = ctx.owner.post(ctx.path("/hooks"), {"agent_id": a1["id"], "event": event,
                                                          "image": "nginx"})
                self.assertError(resp, 422, field="event")
        self.hook(ctx, a1["id"], event="after.run:v2-x_y")

    def test_deleting_an_agent_deletes_its_mcps_and_hooks(self):
        ctx = self.org()
        doomed, kept = self.agent(ctx), self.agent(ctx)
        gone = [("mcps", self.mcp(ctx, doomed["id"])["id"]),
                ("mcps", self.mcp(ctx, doomed["id"])["id"]),
                ("hooks", self.hook(ctx, doomed["id"])["id"]),
                ("hooks", self.hook(ctx, doomed["id"], event="after_run")["id"])]
        stays = [("mcps", self.mcp(ctx, kept["id"])["id"]),
                 ("hooks", self.hook(ctx, kept["id"])["id"])]
        self.assertEqual(ctx.owner.delete(ctx.path(f"/agents/{doomed['id']}")).status, 204)
        for kind, part_id in gone:
            self.assertError(ctx.owner.get(ctx.path(f"/{kind}/{part_id}")), 404, field="id")
        for kind, part_id in stays:
            self.assertEqual(ctx.owner.get(ctx.path(f"/{kind}/{part_id}")).status, 200)
            listed = ctx.owner.get(ctx.path(f"/{kind}")).json["items"]
            self.assertEqual([i["id"] for i in listed], [part_id])
            self.assertEqual(ctx.owner.get(ctx.path(f"/{kind}?agent_id={doomed['id']}"))
                             .json["items"], [])

    # images ----------------------------------------------------------------------------------

    VALID_IMAGES = [
        "nginx", "nginx:1.25", "nginx:latest", "docker.io/library/nginx", "library/nginx",
        "ghcr.io/acme/agent:v1", "ghcr.io/acme/agent@" + DIGEST,
        "localhost:5000/a/b@" + DIGEST, "localhost/a", "127.0.0.1:5000/team/agent:v1",
        "[::1]:5000/x", "registry.example.com:443/a/b/c/d:tag_1.0-rc", "a__b/c.d/e--f",
    ]
    INVALID_IMAGES = [
        "", "UPPER/case", "nginx:", "nginx@", "a@sha256:short", "a@sha256:" + "A" * 64,
        "a@md5:" + "0" * 32, "http://ghcr.io/x", "https://ghcr.io/x", "ngi nx", " nginx",
        "nginx ", "a" * 300, "ghcr.io/" + "a" * 300, "x:" + "t" * 200, "ngi\x07nx", "nginx\n",
        "nginx\t", "ngi\x7fnx", "ngïnx", "-nginx", "nginx/", "/nginx", "a//b", "a/-b",
        ":tag", "@" + DIGEST, "[::1/x", "host:99999/x", "0" * 64, "nginx:-tag",
    ]

    def test_valid_images_are_accepted(self):
        ctx = self.org()
        for image in self.VALID_IMAGES:
            with self.subTest(image=image):
                resp = ctx.owner.post(ctx.path("/agents"), {"name": unique("i"), "image": image})
                self.assertEqual(resp.status, 201, resp)
                self.assertEqual(resp.json["image"], image)

    def test_invalid_images_are_422(self):
        ctx = self.org()
        agent = self.agent(ctx)
        for image in self.INVALID_IMAGES:
            with self.subTest(image=image):
                resp = ctx.owner.post(ctx.path("/agents"), {"name": unique("i"), "image": image})
                self.assertError(resp, 422, field="image")
        for bad in (5, [], {}, True):
            self.assertError(ctx.owner.post(ctx.path("/agents"), {"name": "x", "image": bad}),
                             422, field="image")
        # The same validation guards MCP servers, hooks and PATCH.
        mcp = self.mcp(ctx, agent["id"])
        hook = self.hook(ctx, agent["id"])
        for kind, row, body in (("agents", agent, {"name": "n"}),
                                ("mcps", mcp, {"agent_id": agent["id"], "name": "n"}),
                                ("hooks", hook, {"agent_id": agent["id"], "event": "e"})):
            for image in ("UPPER/case", "http://ghcr.io/x", ""):
                with self.subTest(kind=kind, image=image):
                    self.assertError(ctx.owner.post(ctx.path(f"/{kind}"),
                                                    {**body, "image": image}), 422, field="image")
                    self.assertError(ctx.owner.patch(ctx.path(f"/{kind}/{row['id']}"),
                                                     {"image": image}), 422, field="image")
            self.assertEqual(ctx.owner.get(ctx.path(f"/{kind}/{row['id']}")).json, row)
        self.assertEqual(len(ctx.owner.get(ctx.path("/agents")).json["items"]), 1)

    # paging ----------------------------------------------------------------------------------

    def test_pagination(self):
        ctx = self.org("pages")
        created = [self.agent(ctx, name=f"agent-{i:03d}")["id"] for i in range(120)]
        for size in (50, 7, 100, 40, 1, None):
            with self.subTest(page_size=size):
                seen, token, pages = [], None, 0
                while True:
                    query = [] if size is None else [f"page_size={size}"]
                    if token is not None:
                        query.append(f"page_token={token}")
                    resp = ctx.member.get(ctx.path("/agents") + ("?" + "&".join(query)
                                                                  if query else ""))
                    self.assertEqual(resp.status, 200, resp)
                    self.assertEqual(set(resp.json), {"items", "next_page_token"})
                    items = resp.json["items"]
                    token = resp.json["next_page_token"]
                    pages += 1
                    self.assertLessEqual(len(items), size or 50)
                    seen += [i["id"] for i in items]
                    if token == "":
                        break
                    self.assertEqual(len(items), size or 50, "a short page must be the last")
                    self.assertLess(pages, 200)
                self.assertEqual(seen, created)
                self.assertEqual(pages, -(-120 // (size or 50)))
        for bad in ("0", "101", "-1", "abc", "", "1.5", "5x", "99999999999999999999", "%35%00"):
            with self.subTest(page_size=bad):
                self.assertError(ctx.owner.get(ctx.path(f"/agents?page_size={bad}")), 400,
                                 field="page_size")
        for bad in ("garbage", "p", "p0", "p-1", "px", "1", "p1.5", "p99999999999999999999999"):
            with self.subTest(page_token=bad):
                self.assertError(ctx.owner.get(ctx.path(f"/agents?page_token={bad}")), 400,
                                 field="page_token")
        self.assertEqual(ctx.owner.get(ctx.path("/agents?page_token=")).json["items"][0]["id"],
                         created[0])
        tokens = ctx.owner.get(ctx.path("/tokens?page_size=1"))
        self.assertEqual(len(tokens.json["items"]), 1)
        self.assertTrue(tokens.json["next_page_token"])
        self.assertError(self.server.admin().get("/api/v1/organizations?page_size=0"), 400,
                         field="page_size")

    # hostile input ---------------------------------------------------------------------------

    def test_bad_requests_are_4xx_json(self):
        ctx = self.org()
        agent = self.agent(ctx)
        agents = ctx.path("/agents")
        good = {"name": "ok", "image": "nginx"}

        def body(obj):
            return json.dumps(obj).encode()

        def j(text):
            return text.encode() if isinstance(text, str) else text

        # (label, method, path, body bytes, headers, status, field); ANY: no 5xx, JSON body.
        cases = [
            ("malformed JSON", "POST", agents, j('{"name":'), JSON, 400, None),
            ("trailing garbage", "POST", agents, j('{"name":"a","image":"nginx"} x'), JSON, 400,
             None),
            ("single quotes", "POST", agents, j("{'name':'a'}"), JSON, 400, None),
            ("array body", "POST", agents, j("[]"), JSON, 400, None),
            ("array of object", "POST", agents, body([good]), JSON, 400, None),
            ("string body", "POST", agents, j('"nginx"'), JSON, 400, None),
            ("number body", "POST", agents, j("5"), JSON, 400, None),
            ("null body", "POST", agents, j("null"), JSON, 400, None),
            ("true body", "POST", agents, j("true"), JSON, 400, None),
            ("name number", "POST", agents, body({**good, "name": 5}), JSON, 422, "name"),
            ("name null", "POST", agents, body({**good, "name": None}), JSON, 422, "name"),
            ("name empty", "POST", agents, body({**good, "name": ""}), JSON, 422, "name"),
            ("name spaces", "POST", agents, body({**good, "name": "   "}), JSON, 422, "name"),
            ("name too long", "POST", agents, body({**good, "name": "n" * 129}), JSON, 422,
             "name"),
            ("name control", "POST", agents, body({**good, "name": "a\x1bb"}), JSON, 422, "name"),
            ("name C1 control", "POST", agents, body({**good, "name": "a\x85b"}), JSON, 422,
             "name"),
            ("image array", "POST", agents, body({**good, "image": []}), JSON, 422, "image"),
            ("description object", "POST", agents, body({**good, "description": {}}), JSON, 422,
             "description"),
            ("description number", "PATCH", agents + "/" + agent["id"],
             body({"description": 1.5}), JSON, 422, "description"),
            ("missing name", "POST", agents, body({"image": "nginx"}), JSON, 422, "name"),
            ("missing image", "POST", agents, body({"name": "x"}), JSON, 422, "image"),
            ("empty object", "POST", agents, j("{}"), JSON, 422, "name"),
            ("unknown field", "POST", agents, body({**good, "colour": "red"}), JSON, 422,
             "colour"),
            ("unknown field on patch", "PATCH", agents + "/" + agent["id"], body({"x": 1}), JSON,
             422, "x"),
            ("unknown long non-ASCII field", "POST", agents, body({**good, "k" * 63 + "é": 1}),
             JSON, 422, None),
            ("duplicate keys", "POST", agents, j('{"name":"a","name":"b","image":"nginx"}'), JSON,
             400, None),
            ("escaped NUL", "POST", agents, j('{"name":"a\\u0000b","image":"nginx"}'), JSON, None,
             None),
            ("escaped NUL in image", "POST", agents, j('{"name":"a","image":"ngi\\u0000nx"}'),
             JSON, None, None),
            ("raw NUL byte", "POST", agents, b'{"name":"a\x00b","image":"nginx"}', JSON, 400,
             None),
            ("invalid UTF-8", "POST", agents, b'{"name":"a\xff\xfe","image":"nginx"}', JSON, 400,
             None),
            ("overlong UTF-8", "POST", agents, b'{"name":"\xc0\xaf","image":"nginx"}', JSON, 400,
             None),
            ("lone surrogate", "POST", agents, j('{"name":"\\ud800","image":"nginx"}'), JSON,
             400, None),
            ("deep arrays", "POST", agents, j("[" * 10000), JSON, 400, None),
            ("deep objects", "POST", agents, j('{"a":' * 10000), JSON, 400, None),
            ("deep nesting in a field", "POST", agents,
             j('{"name":"a","image":"nginx","description":' + "[" * 3000 + "]" * 3000 + "}"),
             JSON, None, None),
            ("text/plain", "POST", agents, body(good), {"Content-Type": "text/plain"}, 415,
             "Content-Type"),
            ("no content type", "POST", agents, body(good), {}, 415, "Content-Type"),
            ("json-ish type", "POST", agents, body(good), {"Content-Type": "application/jsonx"},
             415, None),
            ("form type", "POST", agents, j("name=a&image=nginx"),
             {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
            ("no body on POST", "POST", agents, None, {}, 400, None),
            ("empty body on POST", "POST", agents, b"", JSON, 400, None),
            ("no body on PATCH", "PATCH", agents + "/" + agent["id"], None, {}, 400, None),
            ("no body on token create", "POST", ctx.path("/tokens"), None, {}, 400, None),
            ("unknown agent id", "GET", agents + "/" + MISSING, None, {}, 404, "id"),
            ("unknown mcp id", "GET", ctx.path("/mcps/" + MISSING), None, {}, 404, "id"),
            ("unknown hook id", "DELETE", ctx.path("/hooks/" + MISSING), None, {}, 404, "id"),
            ("unknown token id", "DELETE", ctx.path("/tokens/" + MISSING), None, {}, 404, "id"),
            ("non-UUID id", "GET", agents + "/xyz", None, {}, 404, "id"),
            ("upper-case UUID", "GET", agents + "/" + agent["id"].upper(), None, {}, 404, "id"),
            ("UUID plus one", "GET", agents + "/" + agent["id"] + "0", None, {}, 404, "id"),
            ("UUID without dashes", "GET", agents + "/" + agent["id"].replace("-", ""), None, {},
             404, "id"),
            ("very long id", "GET", agents + "/" + "a" * 5000, None, {}, 404, "id"),
            ("non-UUID id on PATCH", "PATCH", agents + "/xyz", body({"name": "x"}), JSON, 404,
             "id"),
            ("non-UUID id on DELETE", "DELETE", ctx.path("/mcps/1"), None, {}, 404, "id"),
            ("non-UUID org", "GET", "/api/v1/organizations/acme/agents", None, {}, 404,
             "organization_id"),
            ("unknown org", "GET", f"/api/v1/organizations/{MISSING}", None, {}, 404,
             "organization_id"),
            ("dot-dot", "GET", "/api/v1/organizations/../organizations", None, {}, 404, None),
            ("dot-dot into org", "GET", f"{agents}/../../{ctx.id}", None, {}, 404, None),
            ("dot segment", "GET", "/api/v1/./organizations", None, {}, 404, None),
            ("double slash", "GET", "//api/v1/organizations", None, {}, OUTSIDE, None),
            ("inner double slash", "GET", "/api/v1//organizations", None, {}, 404, None),
            ("encoded dot-dot", "GET", "/api/v1/organizations/%2e%2e/organizations", None, {},
             404, None),
            ("encoded NUL", "GET", "/api/v1/me%00x", None, {}, 404, None),
            ("encoded NUL in id", "GET", f"{agents}/{agent['id']}%00", None, {}, 404, None),
            ("encoded invalid UTF-8", "GET", "/api/v1/nope%ff%fe", None, {}, 404, None),
            ("encoded invalid UTF-8 id", "GET", agents + "/%ff", None, {}, 404, "id"),
            ("backslash", "GET", "/api/v1\\organizations", None, {}, 404, None),
            ("trailing slash", "GET", "/api/v1/organizations/", None, {}, 404, None),
            ("trailing slash on id", "GET", f"{agents}/{agent['id']}/", None, {}, 404, None),
            ("long path", "GET", "/api/v1/" + "x" * 8000, None, {}, 404, None),
            ("many segments", "GET", "/api/v1" + "/a" * 2000, None, {}, 404, None),
            ("unknown route", "GET", "/api/v1/nope", None, {}, 404, None),
            ("unknown version", "GET", "/api/v2/organizations", None, {}, 404, None),
            ("root", "GET", "/", None, {}, OUTSIDE, None),
            ("below healthz", "GET", "/healthz/x", None, {}, OUTSIDE, None),
            ("sub-resource", "GET", f"{agents}/{agent['id']}/mcps", None, {}, 404, None),
            ("PUT collection", "PUT", "/api/v1/organizations", body(good), JSON, 405, None),
            ("DELETE collection", "DELETE", agents, None, {}, 405, None),
            ("POST item", "POST", f"{agents}/{agent['id']}", body(good), JSON, 405, None),
            ("PUT item", "PUT", f"{agents}/{agent['id']}", body(good), JSON, 405, None),
            ("POST healthz", "POST", "/healthz", None, {}, 405, None),
            ("OPTIONS", "OPTIONS", "/api/v1/me", None, {}, 405, None),
            ("made-up method", "FROB", "/api/v1/me", None, {}, 405, None),
            ("junk query", "GET", agents + "?%%%=&&&=x&a&=&b=%zz", None, {}, 200, None),
            ("query NUL", "GET", agents + "?page_size=5%00", None, {}, 400, "page_size"),
            ("query repeated", "GET", agents + "?page_size=1&page_size=abc", None, {}, ANY,
             None),
            ("query on item", "GET", f"{agents}/{agent['id']}?x=1", None, {}, 200, None),
            ("agent filter junk", "GET", ctx.path("/mcps?agent_id=%ff"), None, {}, 400,
             "agent_id"),
            ("query junk on POST", "POST", agents + "?%zz=%ff", body({"name": unique("q"),
                                                                      "image": "nginx"}),
             JSON, 201, None),
        ]
        for label, method, path, data, headers, status, field in cases:
            with self.subTest(label):
                resp = raw_request(self.server.port, method, path.encode("latin-1")
                                   if isinstance(path, str) else path, ctx.owner.token, data,
                                   [f"{k}: {v}" for k, v in headers.items()])
                if status is OUTSIDE:
                    self.assertLess(resp.status, 500, resp)
                    self.assertTrue(resp.json is None or "error" in resp.json, resp)
                    self.assertNotIn('"items"', resp.body)
                    continue
                if status is ANY:
                    self.assertLess(resp.status, 500, resp)
                    self.assertIsNotNone(resp.json, resp)
                    continue
                if status is not None and status < 300:
                    self.assertEqual(resp.status, status, resp)
                    continue
                self.assertJsonError(resp, status)
                if field is not None:
                    self.assertEqual(resp.json["error"].get("field"), field, resp)
                if resp.status == 405:
                    self.assertIn("GET" if method != "GET" else "POST",
                                  resp.headers.get("Allow", ""), resp.headers)
        # Raw bytes that are not even ASCII in the request line.
        for target in (b"/api/v1/\xff\xfe", agents.encode() + b"/\xc3\x28",
                       b"/api/v1/organizations/" + "é".encode() * 40):
            with self.subTest(target=target):
                self.assertJsonError(raw_request(self.server.port, "GET", target,
                                                 ctx.owner.token), 404)
        self.assertHealthy()
        self.assertEqual([i["id"] for i in ctx.owner.get(agents).json["items"]][0], agent["id"])

    def test_body_size_limit(self):
        ctx = self.org()
        agents = ctx.path("/agents")
        head = json.dumps({"name": "big", "image": "nginx"}).encode()
        exact = head + b" " * (MAX_BODY - len(head))
        self.assertEqual(len(exact), MAX_BODY)
        resp = ctx.owner.raw("POST", agents, exact, JSON)
        self.assertEqual(resp.status, 201, resp)
        over = head + b" " * (MAX_BODY + 1 - len(head))
        self.assertError(ctx.owner.raw("POST", agents, over, JSON), 413,
                         code="payload_too_large")
        self.assertError(ctx.owner.raw("POST", agents, b"[" * (3 * MAX_BODY), JSON), 413)

        def chunks(total, size=64 * 1024):
            sent = 0
            while sent < total:
                piece = min(size, total - sent)
                sent += piece
                yield b" " * piece

        # Chunked transfer encoding: no Content-Length, the cap must still hold.
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("POST", agents, body=chunks(2 * MAX_BODY),
                     headers={**JSON, "Authorization": f"Bearer {ctx.owner.token}"},
                     encode_chunked=True)
        raw = conn.getresponse()
        resp = Response(raw.status, dict(raw.getheaders()), raw.read().decode())
        conn.close()
        self.assertError(resp, 413)

        def small():
            yield head[:10]
            yield head[10:]

        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("POST", agents, body=small(), encode_chunked=True,
                     headers={**JSON, "Authorization": f"Bearer {ctx.owner.token}"})
        raw = conn.getresponse()
        self.assertEqual(raw.status, 409, raw.read())  # "big" exists: the body was read whole
        conn.close()
        self.assertHealthy()

    def test_oversized_requests_and_broken_clients(self):
        ctx = self.org()
        # Past libmicrohttpd's per-connection memory the request line or headers are refused
        # by the library itself (414/431/413 with its own HTML body): 4xx, never a crash.
        huge_path = raw_request(self.server.port, "GET", b"/api/v1/" + b"a" * 70000,
                                ctx.owner.token)
        self.assertTrue(400 <= huge_path.status < 500, huge_path)
        huge_header = raw_request(self.server.port, "GET", b"/api/v1/me", ctx.owner.token,
                                  headers=["X-Junk: " + "j" * 70000])
        self.assertTrue(400 <= huge_header.status < 500, huge_header)
        bad_length = raw_request(self.server.port, "POST", ctx.path("/agents").encode(),
                                 ctx.owner.token, headers=["Content-Length: -5"])
        self.assertTrue(400 <= bad_length.status < 500, bad_length)
        # Clients that vanish mid-request, or send garbage, must not hurt the server.
        for data in (b"POST " + ctx.path("/agents").encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na",
                     b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                     b"GET /healthz HTTP/1.1\r\n"):
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as sock:
                sock.sendall(data)
        self.assertHealthy()
        self.assertEqual(ctx.owner.get(ctx.path("/agents")).json["items"], [])

    # the request log -------------------------------------------------------------------------

    def test_request_log(self):
        ctx = self.org()
        agent = self.agent(ctx)
        wrong = "agyn_" + "Z" * 43
        self.tokens.add(wrong)
        requests = [
            (self.anonymous(), "GET", "/healthz", None, 200, "/healthz"),
            (ctx.owner, "POST", ctx.path("/agents"), {"name": unique("log"), "image": "nginx"},
             201, "/api/v1/organizations/{org}/agents"),
            (ctx.member, "GET", ctx.path(f"/agents/{agent['id']}"), None, 200,
             "/api/v1/organizations/{org}/agents/{id}"),
            (ctx.owner, "GET", ctx.path(f"/agents/{MISSING}"), None, 404,
             "/api/v1/organizations/{org}/agents/{id}"),
            (ctx.member, "DELETE", ctx.path(f"/agents/{agent['id']}"), None, 403,
             "/api/v1/organizations/{org}/agents/{id}"),
            (ctx.owner, "PUT", "/api/v1/me", None, 405, "unmatched"),
            (ctx.owner, "GET", f"/api/v1/nope?token={ctx.owner.token}", None, 404, "unmatched"),
            (ctx.owner.with_token(wrong), "GET", "/api/v1/me", None, 401, "/api/v1/me"),
            (ctx.owner, "GET", f"/api/v1/organizations/{ctx.id}/agents/{ctx.member.token}",
             None, 404, "/api/v1/organizations/{org}/agents/{id}"),
            (ctx.owner, "POST", ctx.path("/agents"), {"name": ctx.member.token, "image": "x y"},
             422, "/api/v1/organizations/{org}/agents"),
        ]
        seen_ids = set()
        for client, method, path, body, status, route in requests:
            with self.subTest(method=method, path=path[:60]):
                resp = client.call(method, path, body)
                self.assertEqual(resp.status, status, resp)
                request_id = resp.headers.get("X-Request-Id", "")
                self.assertRegex(request_id, r"^[0-9a-f]{16}$")
                self.assertNotIn(request_id, seen_ids)
                seen_ids.add(request_id)

                def lines():
                    return [line for line in self.server.logs().splitlines()
                            if f"request_id={request_id} " in line + " "]
                found = wait_for(lines, timeout=5)
                self.assertEqual(len(found), 1, f"want one log line for {request_id}: {found}")
                fields = parse_logfmt(found[0])
                self.assertEqual(fields.get("msg"), "request")
                self.assertEqual(fields.get("request_id"), request_id)
                self.assertEqual(fields.get("method"), method)
                self.assertEqual(fields.get("route"), route)
                self.assertEqual(fields.get("status"), str(status))
                self.assertRegex(fields.get("duration_ms", ""), r"^\d+(\.\d+)?$")
                self.assertLess(float(fields["duration_ms"]), 30000)
                self.assertRegex(fields.get("ts", ""), r"^\d{4}-\d\d-\d\dT")
        logs = self.server.logs()
        for value in (self.server.admin_token, ctx.owner.token, ctx.member.token, wrong):
            self.assertNotIn(value, logs)
            self.assertNotIn(value[5:], logs)
        self.assertNotIn(self.server.admin_token, logs)


# --------------------------------------------------------------------------------------------
# Shutdown and restart
# --------------------------------------------------------------------------------------------

class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.addCleanup(self.server.close)

    def wait_for_log(self, text, timeout=10):
        self.assertTrue(wait_for(lambda: text in self.server.logs(), timeout),
                        f"{text!r} not logged:\n{self.server.logs()[-2000:]}")

    def test_sigterm_finishes_in_flight_requests_and_data_survives(self):
        server = self.server
        ctx = server.new_org("durable")
        agent = ctx.owner.post(ctx.path("/agents"), {"name": "before", "image": "nginx"}).json
        mcp = ctx.owner.post(ctx.path("/mcps"), {"agent_id": agent["id"], "name": "m",
                                                 "image": "nginx"}).json

        # Requests whose bodies are only half sent when SIGTERM arrives.
        pending = []
        for i in range(4):
            payload = json.dumps({"name": f"in-flight-{i}", "image": "nginx"}).encode()
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
            sock.sendall(
                f"POST {ctx.path('/agents')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Authorization: Bearer {ctx.owner.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload[:7])
            pending.append((sock, payload))
        ports = {sock.getsockname()[1] for sock, _ in pending}
        self.assertTrue(wait_for(lambda: accepted(server.proc.pid, server.port, ports)),
                        "agynd did not accept the in-flight connections")

        # Load from other threads while the signal lands: every answer must be whole and
        # no 5xx; every 201 must survive the restart.
        created, failures, stop = [], [], threading.Event()

        def load(worker):
            n = 0
            while not stop.is_set():
                name = f"load-{worker}-{n}"
                n += 1
                try:
                    resp = ctx.owner.post(ctx.path("/agents"), {"name": name, "image": "nginx"},
                                          timeout=20)
                except OSError:
                    continue  # refused or reset before the server took the request
                if resp.status == 201 and resp.json and resp.json["name"] == name:
                    created.append(name)
                else:
                    failures.append(resp)

        threads = [threading.Thread(target=load, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        self.assertTrue(wait_for(lambda: len(created) >= 6, timeout=20), "load never ran")
        server.proc.send_signal(signal.SIGTERM)
        self.wait_for_log('msg="shutting down"')

        def refused():
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                return False
            except OSError:
                return True
        self.assertTrue(wait_for(refused, timeout=5), "still accepting after SIGTERM")

        for sock, payload in pending:
            sock.sendall(payload[7:])
        for sock, payload in pending:
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            sock.close()
            resp = parse_http(b"".join(chunks))
            self.assertEqual(resp.status, 201, resp)
            self.assertEqual(resp.json["name"], json.loads(payload)["name"])
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(failures, [])
        code = server.proc.wait(timeout=30)
        server.proc = None
        server.log.close()
        self.assertEqual(code, 0, server.logs()[-3000:])
        logs = server.logs()
        self.assertIn('msg="stopped"', logs)
        self.assertNotIn("AddressSanitizer", logs)
        self.assertNotIn("runtime error:", logs)

        db = sqlite3.connect(os.path.join(server.data_dir, "agyn.db"))
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
        finally:
            db.close()

        server.start()
        self.assertEqual(ctx.owner.get("/readyz").status, 200)
        names = set()
        token = ""
        while True:
            page = ctx.member.get(ctx.path(f"/agents?page_size=100&page_token={token}"))
            self.assertEqual(page.status, 200, page)
            names |= {a["name"] for a in page.json["items"]}
            token = page.json["next_page_token"]
            if not token:
                break
        expected = {"before"} | {f"in-flight-{i}" for i in range(4)} | set(created)
        self.assertEqual(expected - names, set(), "acknowledged writes lost")
        self.assertEqual(ctx.owner.get(ctx.path(f"/mcps/{mcp['id']}")).json, mcp)
        self.assertEqual(ctx.member.get("/api/v1/me").json["role"], "member")
        self.assertEqual(server.admin().get(f"/api/v1/organizations/{ctx.id}").status, 200)
        self.assertEqual(server.stop(), 0)

    def test_sigterm_when_idle_exits_promptly(self):
        server = self.server
        started = time.monotonic()
        self.assertEqual(server.stop(), 0)
        self.assertLess(time.monotonic() - started, 5)
        logs = server.logs()
        self.assertIn('msg="shutting down" signal=SIGTERM', logs)
        self.assertIn('msg="stopped"', logs)
        server.start()  # the same data directory serves again
        self.assertEqual(server.admin().get("/api/v1/me").json["role"], "admin")


if __name__ == "__main__":
    unittest.main()
