"""Shared helpers for agyn's black-box integration tests (Python 3 standard library only).

Server starts `agynd init` + `agynd serve` on a free loopback port with a temporary data
directory, captures its log, and stops it with SIGTERM (checking a clean exit). Client speaks
the HTTP/JSON API. Tests find binaries through AGYND_BIN (set by CTest) or build/bin.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get(
    "AGYN_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
AGYND = os.environ.get("AGYND_BIN", os.path.join(SOURCE_DIR, "build", "bin", "agynd"))
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    """A minimal API client. `token` is sent as a Bearer token when set."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token

    def with_token(self, token):
        return Client(self.port, token)

    def raw(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = {}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        result = Response(resp.status, dict(resp.getheaders()), data.decode("utf-8", "replace"))
        conn.close()
        return result

    def call(self, method, path, body=None, **kwargs):
        payload = None
        headers = {}
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self.raw(method, path, payload, headers, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


# The fixtures (registries, Vault, moto) listen on loopback, which agynd's egress policy denies
# unless the operator allows it: every Server allows loopback unless a test says otherwise.
DEFAULT_EGRESS_ALLOW = ("127.0.0.0/8", "::1/128")

# AGYN_TEST_DATABASE=postgres runs every Server on PostgreSQL: one throwaway PostgreSQL 15 per
# test process (initdb + pg_ctl as the postgres user, in a temporary directory, on a free
# loopback port), a fresh database per Server.
TEST_DATABASE = os.environ.get("AGYN_TEST_DATABASE", "sqlite")
PG_BIN = os.environ.get("AGYN_PG_BIN", "/usr/lib/postgresql/15/bin")
# Every suite runs on both backends (CTest integration/<suite> and integration/<suite>/postgres).
# A test that never reaches the database (a client binary's own checks, Terraform's plan-time
# validation, a plugin handshake) is marked @backend_independent: it runs on SQLite only, so
# the PostgreSQL pass stays lean; AGYN_TEST_FULL=1 runs it on PostgreSQL too.
TEST_FULL = os.environ.get("AGYN_TEST_FULL") == "1"


def terminate(proc, log):
    """SIGTERM proc and wait (SIGKILL after 30 s), then close its log; returns the exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    log.close()
    return code


def backend_independent(test):
    """Runs test on SQLite only (unless AGYN_TEST_FULL=1): it does not reach the database."""
    return unittest.skipIf(TEST_DATABASE == "postgres" and not TEST_FULL,
                           "backend-independent: runs on sqlite (AGYN_TEST_FULL=1 runs it here)")(test)


class Postgres:
    """A throwaway PostgreSQL cluster. url(db) is a libpq URL for database db."""

    def __init__(self):
        import atexit
        import pwd
        self.tmp = tempfile.mkdtemp(prefix="agyn-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()
        self.counter = 0
        self.user = None
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as postgres
            self.user = pwd.getpwnam("postgres")
            os.chown(self.tmp, self.user.pw_uid, self.user.pw_gid)
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-E", "UTF8",
                   "--auth=trust", "-U", "postgres", "--no-sync"])
        self.start()
        atexit.register(self.close)

    def _run(self, argv, check=True):
        def demote():
            if self.user:
                os.setgid(self.user.pw_gid)
                os.setuid(self.user.pw_uid)
        return subprocess.run(argv, preexec_fn=demote, capture_output=True, text=True,
                              check=check, cwd=self.tmp)

    def start(self):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-w", "-l",
                   os.path.join(self.tmp, "postgres.log"), "-o",
                   f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=300 -c full_page_writes=off", "start"])

    def stop(self, mode="fast"):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-w", "-m", mode, "stop"],
                  check=False)

    def restart(self):
        self.stop()
        self.start()

    def psql(self, sql, db="postgres"):
        return self._run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "-d", db, "-Atqc", sql]).stdout

    def new_database(self):
        self.counter += 1
        name = f"agyn_{os.getpid()}_{self.counter}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def url(self, db):
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def close(self):
        if os.path.isdir(self.data):
            self.stop("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)


_postgres = None


def shared_postgres():
    """The test process's PostgreSQL, started on first use."""
    global _postgres
    if _postgres is None:
        _postgres = Postgres()
    return _postgres


class Server:
    """One agynd process with its own data directory. egress_allow lists the --egress-allow
    values (loopback by default; pass () for agynd's default-deny policy)."""

    def __init__(self, extra_args=(), env=None, egress_allow=DEFAULT_EGRESS_ALLOW, https=False,
                 ca_file=None):
        self.https = https
        self.ca_file = ca_file
        self.tmp = tempfile.mkdtemp(prefix="agyn-test-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "agynd.log")
        self.port = free_port()
        self.extra_args = list(extra_args)
        # Kept apart from extra_args, which tests replace between restarts.
        self.egress_args = [arg for entry in egress_allow for arg in ("--egress-allow", entry)]
        self.env = dict(os.environ, **(env or {}))
        self.database_args = []
        if TEST_DATABASE == "postgres" and "AGYN_DATABASE" not in (env or {}):
            pg = shared_postgres()
            self.database_url = pg.url(pg.new_database())
            self.database_args = ["--database", self.database_url]
            self.env["AGYN_DATABASE"] = self.database_url  # keys, admin-token
        init = subprocess.run([AGYND, "init", "--data-dir", self.data_dir]
                              + self.database_args, env=self.env,
                              capture_output=True, text=True, check=True)
        lines = init.stdout.strip().splitlines()
        assert len(lines) == 1, init.stdout
        self.admin_token = lines[0]
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [AGYND, "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}"]
            + self.database_args + self.egress_args + self.extra_args,
            stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agynd exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if self.healthy():
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("agynd did not become healthy:\n" + self.logs())

    def healthy(self):
        if not self.https:
            return Client(self.port).get("/healthz", timeout=2).status == 200
        import ssl
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        finally:
            conn.close()

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if not self.proc:
            return 0
        code = terminate(self.proc, self.log)
        self.proc = None
        return code

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def admin(self):
        return Client(self.port, self.admin_token)

    def sql(self, statement, params=()):
        """Runs one SQL statement (? placeholders) on the server's database, either backend;
        returns the rows as tuples."""
        if not self.database_args:
            import sqlite3
            conn = sqlite3.connect(os.path.join(self.data_dir, "agyn.db"), timeout=30)
            try:
                rows = conn.execute(statement, params).fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()
        pieces = statement.split("?")
        assert len(pieces) == len(params) + 1, statement
        text = pieces[0]
        for value, piece in zip(params, pieces[1:]):
            literal = "NULL" if value is None else (
                str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'")
            text += literal + piece
        db = self.database_url.rsplit("/", 1)[1]
        out = shared_postgres()._run(
            ["psql", "-h", "127.0.0.1", "-p", str(shared_postgres().port), "-U", "postgres",
             "-d", db, "-AtqX", "-F", "\x1f", "-P", "null=\x1e", "-c", text]).stdout

        def value_of(field):
            return None if field == "\x1e" else int(field) if field.lstrip("-").isdigit() \
                else field
        return [tuple(value_of(f) for f in line.split("\x1f"))
                for line in out.split("\n") if line]

    def close(self):
        code = self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code

    # Convenience: an organization with an owner and a member token.
    def new_org(self, name):
        admin = self.admin()
        org = admin.post("/api/v1/organizations", {"name": name})
        assert org.status == 201, org
        org_id = org.json["id"]
        owner = admin.post(f"/api/v1/organizations/{org_id}/tokens",
                           {"name": "owner", "role": "owner"})
        member = admin.post(f"/api/v1/organizations/{org_id}/tokens",
                            {"name": "member", "role": "member"})
        assert owner.status == 201 and member.status == 201, (owner, member)
        return OrgContext(org_id, Client(self.port, owner.json["token"]),
                          Client(self.port, member.json["token"]))


class Replica:
    """Another `agynd serve --no-runner` on the first replica's database and keyring."""

    def __init__(self, first):
        self.port = free_port()
        self.log_path = os.path.join(first.tmp, f"replica-{self.port}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [AGYND, "serve", "--no-runner", "--data-dir", first.data_dir, "--listen",
             f"127.0.0.1:{self.port}", "--database-pool", "4"] + first.database_args,
            stdout=self.log, stderr=self.log, env=first.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if Client(self.port).get("/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("replica did not start:\n" + self.logs())

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, token):
        return Client(self.port, token)

    def stop(self):
        """SIGTERM and wait (SIGKILL after 30 s); returns the exit code."""
        return terminate(self.proc, self.log)


class OrgContext:
    def __init__(self, org_id, owner, member):
        self.id = org_id
        self.owner = owner
        self.member = member
        self.base = f"/api/v1/organizations/{org_id}"

    def path(self, suffix):
        return self.base + suffix


class ServerTestCase(unittest.TestCase):
    """Starts one agynd for the whole class; checks it exits cleanly and logged no 5xx."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.server_args)

    @classmethod
    def tearDownClass(cls):
        logs = cls.server.logs()
        code = cls.server.close()
        if code != 0:
            raise AssertionError(f"agynd exited with {code} on SIGTERM:\n{logs[-4000:]}")
        if "ERROR: AddressSanitizer" in logs or "runtime error:" in logs:
            raise AssertionError("sanitizer report in agynd log:\n" + logs[-8000:])

    def assertError(self, resp, status, field=None, code=None):
        self.assertEqual(resp.status, status, resp)
        self.assertIsNotNone(resp.json, f"error body is not JSON: {resp}")
        self.assertIn("error", resp.json, resp)
        err = resp.json["error"]
        self.assertIn("code", err)
        self.assertIn("message", err)
        if field is not None:
            self.assertEqual(err.get("field"), field, resp)
        if code is not None:
            self.assertEqual(err["code"], code, resp)
