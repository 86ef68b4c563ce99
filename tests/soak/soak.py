#!/usr/bin/env python3
"""soak.py — a bounded soak of agynd (`make soak`, not part of CI): for --seconds, a mixed load
of API writes and reads (secrets and image pull secrets created, read, listed and deleted),
Server-Sent Events clients connecting and leaving, and workloads starting, running, failing
and being stopped (against tests/fixtures/fault_registry.py), with a --retention (default 30 s)
much shorter than the run.

Every --sample-every seconds it samples agynd's RSS, open file descriptors and threads, and
the SQLite database read-only through its own connection: the main file and WAL sizes,
page_count, freelist_count and the row count of every table. It prints each sample, then a
verdict per figure: the first retention window (plus one prune interval) fills the database
up to one retention window of activity, so the reference is the highest value in the settled
samples before the last window, and a figure is GROWING when the last window's highest value
exceeds that reference by more than its tolerance (see TOLERANCES). Exits 1 when a figure grew
or the load saw a 5xx.

Usage: AGYND_BIN=build/bin/agynd python3 tests/soak/soak.py [--seconds 180]
"""
import argparse
import http.client
import os
import random
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from agyn_testlib import Server, free_port  # noqa: E402
import fault_registry  # noqa: E402


def database_figures(db):
    """Sizes and row counts of the SQLite database at db, read through a read-only connection
    of our own (it takes no write lock and is closed at once, so it does not hold back agynd's
    checkpoints for long)."""
    figures = {"db_main_mib": os.path.getsize(db) / (1 << 20),
               "db_wal_mib": (os.path.getsize(db + "-wal") / (1 << 20)
                              if os.path.exists(db + "-wal") else 0.0)}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        figures["page_count"] = conn.execute("PRAGMA page_count").fetchone()[0]
        figures["freelist_count"] = conn.execute("PRAGMA freelist_count").fetchone()[0]
        figures["live_pages"] = figures["page_count"] - figures["freelist_count"]
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name")]
        for table in tables:
            figures[f"rows.{table}"] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        conn.close()
    return figures


def sample(server):
    pid = server.proc.pid
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    figures = {"rss_mib": int(status["VmRSS"].split()[0]) / 1024,
               "fds": len(os.listdir(f"/proc/{pid}/fd")),
               "threads": int(status["Threads"])}
    figures.update(database_figures(os.path.join(server.data_dir, "agyn.db")))
    return figures


# How much a figure's last retention window may exceed the settled reference and still be
# FLAT: (relative, absolute). RSS: the allocator keeps freed arenas, and the load is random;
# fds: SSE clients and API connections open at the moment of a sample; threads: the runner's
# start threads in flight; database files, pages and rows: how many workloads run, fail or
# are stopped varies between windows, and a prune pass runs only every half window, so a
# sample holds between one and one and a half windows of rows. freelist_count is printed but
# has no verdict of its own: free pages are reused, and page_count (the file) and live_pages
# (what the rows take) have one. A leak grows without bound, so over enough windows it exceeds
# any fixed tolerance; noise does not.
TOLERANCES = {"rss_mib": (0.10, 2.0), "fds": (0.0, 6), "threads": (0.0, 3),
              "db_main_mib": (0.10, 0.5), "db_wal_mib": (0.10, 1.0),
              "page_count": (0.10, 128), "live_pages": (0.10, 128)}
ROWS_TOLERANCE = (0.15, 20)


class Sampler(threading.Thread):
    """Samples the server every `every` seconds until stopped; prints each sample."""

    def __init__(self, server, every, started):
        super().__init__(daemon=True)
        self.server = server
        self.every = every
        self.started = started
        self.samples = []  # (seconds since start, figures)
        self.stopping = threading.Event()

    def take(self):
        at = time.time() - self.started
        figures = sample(self.server)
        self.samples.append((at, figures))
        rows = " ".join(f"{k[5:]}={v}" for k, v in figures.items() if k.startswith("rows.") and v)
        print(f"soak t={at:5.0f}s rss={figures['rss_mib']:.1f}MiB fds={figures['fds']} "
              f"threads={figures['threads']} main={figures['db_main_mib']:.2f}MiB "
              f"wal={figures['db_wal_mib']:.2f}MiB pages={figures['page_count']} "
              f"free={figures['freelist_count']} {rows}", flush=True)

    def run(self):
        while not self.stopping.wait(self.every):
            self.take()


def verdict(samples, window_s, settle_s):
    """Per figure: (reference, last window's highest, FLAT/GROWING); None when too short."""
    settled = [(at, f) for at, f in samples if at >= settle_s]
    if not settled:
        return None
    last_start = settled[-1][0] - window_s
    earlier = [f for at, f in settled if at < last_start]
    last = [f for at, f in settled if at >= last_start]
    if not earlier:
        return None
    keys = list(TOLERANCES) + sorted({k for _, f in samples for k in f if k.startswith("rows.")})
    result = {}
    for key in keys:
        reference = max(f.get(key, 0) for f in earlier)
        highest = max(f.get(key, 0) for f in last)
        relative, absolute = TOLERANCES.get(key, ROWS_TOLERANCE)
        grew = highest > reference * (1 + relative) + absolute
        result[key] = (reference, highest, "GROWING" if grew else "FLAT")
    return result


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
        # Every workload is stopped in the end (half at once, the rest after a few seconds
        # of running), so that the active ones stay few and the rows that accumulate are those
        # the retention prunes, not those the per-organization quota caps.
        running = []
        while time.time() < self.until:
            for agent in (good, bad):
                w = self.check(org.member.post(path + "/workloads", {"agent_id": agent["id"]}),
                               201, 429)
                self.count("workloads")
                if w.status == 201:
                    running.append((time.time() + random.choice((0.3, random.uniform(2, 8))),
                                    w.json["id"]))
            time.sleep(0.5)
            now = time.time()
            due = [w for w in running if w[0] <= now]
            running = [w for w in running if w[0] > now]
            for _, workload_id in due:
                self.check(org.member.post(path + f"/workloads/{workload_id}/stop"),
                           200, 202, 409)

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
    parser.add_argument("--retention", type=int, default=30,
                        help="--event-retention and --workload-retention, seconds")
    parser.add_argument("--sample-every", type=int, default=15)
    args = parser.parse_args()
    registry = fault_registry.FaultRegistry().start()
    # Retention shorter than the run, so that the figures show whether the database stops
    # growing once it holds one retention window of activity.
    retention = f"{args.retention}s"
    server = Server(("--event-retention", retention, "--workload-retention", retention,
                     "--runner-threads", "4", "--start-grace", "3s", "--pull-backoff-initial",
                     "200ms", "--pull-backoff-max", "500ms", "--insecure-registry",
                     registry.storage_host))
    try:
        sampler = Sampler(server, args.sample_every, time.time())
        sampler.take()
        sampler.start()
        warmup = Load(server, registry, args.warmup)
        warmup.run()
        load = Load(server, registry, args.seconds, warmup.orgs)
        load.run()
        # The verdict looks at the samples taken under load; one more after the load has
        # settled shows what the idle server keeps.
        sampler.stopping.set()
        sampler.join()
        under_load = list(sampler.samples)
        time.sleep(5)
        sampler.take()
        print(f"soak: {args.seconds}s after {args.warmup}s warm-up, retention {retention}; "
              f"load: {load.counts}")
        # The database fills for one retention window; a prune pass runs every half window
        # (retention.c), so by then rows older than a window and a half are gone.
        settle_s = args.warmup + args.retention * 1.5
        result = verdict(under_load, args.retention, settle_s)
        if result is None:
            print(f"soak: too short for a verdict: needs samples over more than "
                  f"{settle_s + args.retention:.0f}s (a settling window and a half, then two)")
            return 1
        print(f"{'figure':36}{'reference':>12}{'last':>12}  verdict")
        for key, (reference, highest, word) in result.items():
            print(f"{key:36}{reference:>12.2f}{highest:>12.2f}  {word}")
        grew = [key for key, (_, _, word) in result.items() if word == "GROWING"]
        if load.counts["5xx"]:
            grew.append("5xx answers")
        print("soak: " + ("FAILED: " + ", ".join(grew) if grew else "flat"))
        return 1 if grew else 0
    finally:
        server.close()
        registry.stop()


if __name__ == "__main__":
    sys.exit(main())
