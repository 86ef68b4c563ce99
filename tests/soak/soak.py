#!/usr/bin/env python3
"""soak.py — a bounded soak of agynd (`make soak`, not part of CI): for --seconds, a mixed load
of API writes and reads (secrets and image pull secrets created, read, listed and deleted),
Server-Sent Events clients connecting and leaving, and workloads starting, running, failing
and being stopped (against tests/fixtures/fault_registry.py). It samples agynd's RSS, open file
descriptors, threads and database size (agyn.db plus its WAL) after a warm-up and at the end,
prints them, and exits 1 when fds or threads grew, or RSS more than --rss-slack MiB.

Usage: AGYND_BIN=build/bin/agynd python3 tests/soak/soak.py [--seconds 180]
"""
import argparse
import http.client
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from agyn_testlib import Server, free_port  # noqa: E402
import fault_registry  # noqa: E402


def sample(server):
    pid = server.proc.pid
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    db = os.path.join(server.data_dir, "agyn.db")
    db_bytes = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    return {"rss_mib": int(status["VmRSS"].split()[0]) / 1024,
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "threads": int(status["Threads"]),
            "db_mib": db_bytes / (1 << 20)}


class Load:
    def __init__(self, server, registry, seconds, orgs=None):
        self.server = server
        self.registry = registry
        self.until = time.time() + seconds
        self.counts = {"writes": 0, "reads": 0, "sse": 0, "workloads": 0, "errors": 0, "5xx": 0}
        self.lock = threading.Lock()
        self.orgs = orgs or [server.new_org(f"soak-{i}") for i in range(3)]

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def check(self, resp, *ok):
        if resp.status >= 500:
            self.count("5xx")
        elif resp.status not in ok:
            self.count("errors")
        return resp

    def api(self, org):
        path = f"/api/v1/organizations/{org.id}"
        c = org.owner
        i = 0
        while time.time() < self.until:
            i += 1
            name = f"s-{threading.get_ident() % 10000}-{i}"
            made = self.check(c.post(path + "/secrets", {"name": name, "value": "v" * 40}), 201)
            ips = self.check(c.post(path + "/image-pull-secrets", {
                "name": name, "registry": self.registry.host, "username": "u",
                "password": "p" * 30}), 201)
            self.count("writes", 2)
            self.check(c.get(path + "/secrets?page_size=50"), 200)
            self.check(c.get(path + "/image-pull-secrets"), 200)
            self.check(c.get(path + "/workloads?page_size=20"), 200)
            self.count("reads", 3)
            if made.status == 201:
                self.check(c.get(path + f"/secrets/{made.json['id']}"), 200)
                self.check(c.delete(path + f"/secrets/{made.json['id']}"), 204)
            if ips.status == 201:
                self.check(c.patch(path + f"/image-pull-secrets/{ips.json['id']}",
                                   {"password": "q" * 30}), 200)
                self.check(c.delete(path + f"/image-pull-secrets/{ips.json['id']}"), 204)
            self.count("writes", 2)

    def sse(self, org):
        while time.time() < self.until:
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            try:
                conn.request("GET", f"/api/v1/organizations/{org.id}/events",
                             headers={"Authorization": f"Bearer {org.member.token}",
                                      "Accept": "text/event-stream"})
                resp = conn.getresponse()
                if resp.status >= 500:
                    self.count("5xx")
                deadline = time.time() + random.uniform(0.2, 2.0)
                while time.time() < deadline:
                    if not resp.fp.readline():
                        break
                self.count("sse")
            except OSError:
                pass
            finally:
                conn.close()

    def workloads(self, org):
        path = f"/api/v1/organizations/{org.id}"
        c = org.owner
        tag = f"{org.id[:6]}-{random.randrange(1 << 30):x}"
        good = c.post(path + "/agents", {"name": f"good-{tag}",
                                         "image": self.registry.image("ok", 0)}).json
        bad = c.post(path + "/agents", {"name": f"bad-{tag}",
                                        "image": f"127.0.0.1:{free_port()}/none/x:1"}).json
        secret = c.post(path + "/image-pull-secrets", {
            "name": f"soak-{tag}", "registry": self.registry.host,
            "username": self.registry.user, "password": self.registry.password}).json
        c.post(path + "/image-pull-secret-attachments", {"image_pull_secret_id": secret["id"],
                                                         "agent_id": good["id"]})
        while time.time() < self.until:
            for agent in (good, bad):
                w = self.check(org.member.post(path + "/workloads", {"agent_id": agent["id"]}),
                               201, 429)
                self.count("workloads")
                if w.status == 201 and random.random() < 0.5:
                    time.sleep(0.3)
                    self.check(org.member.post(path + f"/workloads/{w.json['id']}/stop"),
                               200, 202, 409)
            time.sleep(0.5)

    def run(self):
        threads = []
        for org in self.orgs:
            for target in (self.api, self.sse, self.sse, self.workloads):
                threads.append(threading.Thread(target=target, args=(org,), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rss-slack", type=float, default=32.0)
    args = parser.parse_args()
    registry = fault_registry.FaultRegistry().start()
    # Retention shorter than the run, so that the figures show whether the database stops
    # growing once it holds one retention window of activity.
    server = Server(("--event-retention", "30s", "--workload-retention", "30s",
                     "--runner-threads", "4", "--start-grace", "3s", "--pull-backoff-initial",
                     "200ms", "--pull-backoff-max", "500ms", "--insecure-registry",
                     registry.storage_host))
    try:
        warmup = Load(server, registry, args.warmup)
        warmup.run()
        before = sample(server)
        load = Load(server, registry, args.seconds, warmup.orgs)
        load.run()
        time.sleep(5)  # let workloads in flight settle
        after = sample(server)
        print(f"soak: {args.seconds}s after {args.warmup}s warm-up; load: {load.counts}")
        print(f"{'':8}{'before':>10}{'after':>10}")
        for key in ("rss_mib", "fds", "threads", "db_mib"):
            print(f"{key:8}{before[key]:>10.1f}{after[key]:>10.1f}")
        grew = []
        if after["fds"] > before["fds"] + 4:
            grew.append("fds")
        if after["threads"] > before["threads"] + 2:
            grew.append("threads")
        if after["rss_mib"] > before["rss_mib"] + args.rss_slack:
            grew.append("rss")
        if load.counts["5xx"]:
            grew.append("5xx answers")
        print("soak: " + ("FAILED: " + ", ".join(grew) if grew else "flat"))
        return 1 if grew else 0
    finally:
        server.close()
        registry.stop()


if __name__ == "__main__":
    sys.exit(main())
