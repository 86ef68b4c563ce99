"""Helpers for the runner's black-box tests (test_runner.py): a Server-Sent Events reader over
http.client, waiting for workload states, building agents / secrets / attachments through the
API, and a stand-in Vault (tests/fixtures/vault_fixture.py) in a subprocess.
Python 3 standard library only."""
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

from agyn_testlib import FIXTURES

sys.path.insert(0, FIXTURES)
import registry_fixture  # noqa: E402,F401  (re-exported for the tests)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------
# Server-Sent Events
# ---------------------------------------------------------------------------------------------

class SseEvent:
    def __init__(self, event_id, event_type, data, received_at):
        self.id = event_id
        self.type = event_type
        self.raw = data
        self.received_at = received_at
        try:
            self.data = json.loads(data) if data else None
        except ValueError:
            self.data = None

    def __repr__(self):
        status = self.data.get("status") if isinstance(self.data, dict) else None
        return f"<SseEvent {self.id} {self.type} {status}>"


class SseStream:
    """GET an organization's /events and parse text/event-stream line by line in a thread.
    events: every complete event in arrival order; comments: every ':' line."""

    def __init__(self, port, path, token, last_event_id=None, timeout=60):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.content_type = self.response.getheader("Content-Type", "")
        self.events = []
        self.comments = []
        self.raw_lines = []
        self.error = None
        self.closed = False
        self.opened_at = time.time()
        self._cond = threading.Condition()
        self._thread = None
        if self.status == 200:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        else:
            self.body = self.response.read().decode("utf-8", "replace")

    def _read(self):
        event_id, event_type, data = None, None, []
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                text = line.decode("utf-8").rstrip("\r\n")
                with self._cond:
                    self.raw_lines.append(text)
                if text == "":
                    if data or event_type:
                        event = SseEvent(int(event_id) if event_id else None,
                                         event_type or "message", "\n".join(data), time.time())
                        with self._cond:
                            self.events.append(event)
                            self._cond.notify_all()
                    event_id, event_type, data = None, None, []
                elif text.startswith(":"):
                    with self._cond:
                        self.comments.append(text[1:].strip())
                        self._cond.notify_all()
                else:
                    field, _, value = text.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "id":
                        event_id = value
                    elif field == "event":
                        event_type = value
                    elif field == "data":
                        data.append(value)
        except Exception as e:  # noqa: BLE001 - a closed socket shows up in many forms
            if not self.closed:
                self.error = e
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def snapshot(self):
        with self._cond:
            return list(self.events)

    def wait_for(self, predicate, timeout=30, what="an event"):
        """The first event (in arrival order) for which predicate(event) is true."""
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.time()
                if left <= 0 or self.closed:
                    raise AssertionError(f"no {what} on the event stream within {timeout}s; "
                                         f"got {self.events[-30:]} (error {self.error})")
                self._cond.wait(min(left, 0.5))

    def wait_comment(self, text, timeout):
        deadline = time.time() + timeout
        with self._cond:
            while text not in self.comments:
                left = deadline - time.time()
                if left <= 0 or self.closed:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def workload_events(self, workload_id, event_type=None):
        return [e for e in self.snapshot()
                if e.type.startswith("workload.") and isinstance(e.data, dict)
                and e.data.get("id") == workload_id
                and (event_type is None or e.type == event_type)]

    def close(self):
        self.closed = True
        sock = self.conn.sock
        try:
            if sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread:
            self._thread.join(timeout=5)
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stream(server, ctx, last_event_id=None, query=""):
    stream = SseStream(server.port, ctx.path("/events") + query, ctx.member.token, last_event_id)
    if stream.status != 200:
        raise AssertionError(f"GET events answered {stream.status}: {stream.body}")
    return stream


# ---------------------------------------------------------------------------------------------
# Workloads and the resources around them
# ---------------------------------------------------------------------------------------------

TERMINAL = ("running", "failed", "stopped")


def wait_for_status(client, ctx, workload_id, statuses=TERMINAL, timeout=30):
    """Polls GET workloads/{id} until its status is one of statuses; returns the workload."""
    if isinstance(statuses, str):
        statuses = (statuses,)
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        resp = client.get(ctx.path(f"/workloads/{workload_id}"))
        if resp.status != 200:
            raise AssertionError(f"GET workload {workload_id}: {resp}")
        last = resp.json
        if last["status"] in statuses:
            return last
        time.sleep(0.05)
    raise AssertionError(f"workload {workload_id} not in {statuses} after {timeout}s: "
                         f"{json.dumps(last, indent=1)}")


class Org:
    """An organization (OrgContext) with shortcuts that assert each call succeeded."""

    def __init__(self, test, server, name=None):
        self.test = test
        self.server = server
        self.ctx = server.new_org(name or unique("org"))
        self.owner = self.ctx.owner
        self.member = self.ctx.member

    def path(self, suffix):
        return self.ctx.path(suffix)

    def _created(self, resp):
        self.test.assertEqual(resp.status, 201, resp)
        return resp.json

    def agent(self, image, name=None, **fields):
        return self._created(self.owner.post(self.path("/agents"), {
            "name": name or unique("agent"), "image": image, **fields}))

    def mcp(self, agent, image, name=None, **fields):
        return self._created(self.owner.post(self.path("/mcps"), {
            "agent_id": agent["id"], "name": name or unique("mcp"), "image": image, **fields}))

    def hook(self, agent, image, event=None, **fields):
        return self._created(self.owner.post(self.path("/hooks"), {
            "agent_id": agent["id"], "event": event or unique("on-start"), "image": image,
            **fields}))

    def secret(self, registry, username, password=None, name=None, **source):
        body = {"name": name or unique("ips"), "registry": registry, "username": username}
        if password is not None:
            body["password"] = password
        body.update(source)
        return self._created(self.owner.post(self.path("/image-pull-secrets"), body))

    def attach(self, secret, target, column="agent_id"):
        return self._created(self.member.post(self.path("/image-pull-secret-attachments"), {
            "image_pull_secret_id": secret["id"], column: target["id"]}))

    def vault_provider(self, address, token, name=None):
        return self._created(self.owner.post(self.path("/secret-providers"), {
            "name": name or unique("vault"), "type": "vault",
            "config": {"address": address, "token": token}}))

    def start(self, agent, **body):
        resp = self.member.post(self.path("/workloads"), {"agent_id": agent["id"], **body})
        self.test.assertEqual(resp.status, 201, resp)
        self.test.assertEqual(resp.json["status"], "starting", resp)
        return resp.json

    def run(self, agent, statuses=TERMINAL, timeout=30, **body):
        """Starts a workload for agent and waits until it reaches one of statuses."""
        workload = self.start(agent, **body)
        return wait_for_status(self.member, self.ctx, workload["id"], statuses, timeout)

    def get_workload(self, workload_id):
        resp = self.member.get(self.path(f"/workloads/{workload_id}"))
        self.test.assertEqual(resp.status, 200, resp)
        return resp.json


def container(workload, role, index=0):
    found = [c for c in workload["containers"] if c["role"] == role]
    if len(found) <= index:
        raise AssertionError(f"no {role} container #{index} in {workload['containers']}")
    return found[index]


# ---------------------------------------------------------------------------------------------
# Vault stand-in
# ---------------------------------------------------------------------------------------------

class Vault:
    """tests/fixtures/vault_fixture.py in a subprocess: KV v2 under mount "secret"."""

    def __init__(self, token="vault-root-token"):
        self.token = token
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(FIXTURES, "vault_fixture.py"), "--port", "0",
             "--token", token], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"vault_fixture did not start: {line}")
        self.port = int(line[1])
        self.address = f"http://127.0.0.1:{self.port}"

    def write(self, path, data):
        """KV v2 write of data (a dict) at secret/<path>; returns the new version."""
        request = urllib.request.Request(
            f"{self.address}/v1/secret/data/{path}", method="POST",
            data=json.dumps({"data": data}).encode(),
            headers={"X-Vault-Token": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())["data"]["version"]

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


# ---------------------------------------------------------------------------------------------
# Content store
# ---------------------------------------------------------------------------------------------

def content_blobs(content_dir):
    """{hex name: sha256 hex of the file's bytes} for content_dir/blobs/sha256/*."""
    root = os.path.join(content_dir, "blobs", "sha256")
    found = {}
    if not os.path.isdir(root):
        return found
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        found[name] = h.hexdigest()
    return found


def parse_metrics(text):
    """{(name, frozenset of (label, value))): float} from Prometheus text."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = []
        labels = labels.rstrip("}")
        while labels:
            key, _, rest = labels.partition("=\"")
            end = 0
            while True:
                end = rest.index('"', end)
                if rest[end - 1] != "\\":
                    break
                end += 1
            pairs.append((key.strip(","), rest[:end]))
            labels = rest[end + 1:].lstrip(",")
        series[(name, frozenset(pairs))] = float(value)
    return series


def metric(series, name, **labels):
    """Sum of the series of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in series.items() if n == name and want <= set(ls))
