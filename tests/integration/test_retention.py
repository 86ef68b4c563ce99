"""test_retention.py — what accumulates is bounded: events older than --event-retention are
deleted (oldest first, in small batches) and a stream that resumes from a deleted event is told
so with `event: reset` before it continues; recent events are kept and replayed as before. On
SQLite the space stays bounded too: the pages that pruned rows freed are reused, and each
retention pass checkpoints the WAL and truncates it."""
import os
import time
import unittest

from agyn_testlib import TEST_DATABASE, ServerTestCase
from runner_helpers import open_stream

RETENTION_S = 2


def count_events(server):
    return server.sql("SELECT count(*) FROM events")[0][0]


class RetentionTest(ServerTestCase):
    server_args = ("--event-retention", f"{RETENTION_S}s", "--workload-retention",
                   f"{RETENTION_S}s", "--pull-backoff-initial", "200ms")

    def make_events(self, ctx, tag, n):
        for i in range(n):
            resp = ctx.owner.post(ctx.path("/image-pull-secrets"), {
                "name": f"{tag}-{i}", "registry": "registry.example", "username": "u",
                "password": "retention-password"})
            self.assertEqual(resp.status, 201, resp)

    def test_old_events_are_deleted_and_a_stale_resume_is_reset(self):
        ctx = self.server.new_org("retention")
        with open_stream(self.server, ctx, last_event_id=0) as stream:
            self.make_events(ctx, "old", 3)
            first = stream.wait_for(lambda e: e.type.startswith("image_pull_secret."))
        self.assertGreater(count_events(self.server), 0)
        # Retention 2 s, a pass every second: after 3.5 s the first events are gone.
        deadline = time.time() + RETENTION_S + 4
        while count_events(self.server) and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(count_events(self.server), 0, "old events were not deleted")
        self.make_events(ctx, "new", 2)
        with open_stream(self.server, ctx, last_event_id=first.id) as stale:
            reset = stale.wait_for(lambda e: e.type == "reset", timeout=5, what="a reset")
            self.assertIn("no longer kept", reset.data["reason"])
            fresh = stale.wait_for(lambda e: e.type == "image_pull_secret.created", timeout=5)
            self.assertIn("new-", str(fresh.data))
        # A resume from an event that is still kept replays without a reset.
        with open_stream(self.server, ctx, last_event_id=0) as full:
            kept = full.wait_for(lambda e: e.type == "image_pull_secret.created", timeout=5)
        with open_stream(self.server, ctx, last_event_id=kept.id) as resumed:
            resumed.wait_for(lambda e: e.type == "image_pull_secret.created", timeout=5)
            self.assertFalse([e for e in resumed.snapshot() if e.type == "reset"])

    def test_finished_workloads_are_deleted_active_ones_kept(self):
        ctx = self.server.new_org("retention-workloads")
        agent = ctx.owner.post(ctx.path("/agents"), {"name": "a", "image": "127.0.0.1:1/x:v1"})
        self.assertEqual(agent.status, 201, agent)
        done = ctx.member.post(ctx.path("/workloads"), {"agent_id": agent.json["id"]}).json
        active = ctx.member.post(ctx.path("/workloads"), {"agent_id": agent.json["id"]}).json
        stopped = ctx.member.post(ctx.path(f"/workloads/{done['id']}/stop"), {})
        self.assertEqual(stopped.status, 200, stopped)
        deadline = time.time() + RETENTION_S + 6
        while time.time() < deadline:
            if ctx.member.get(ctx.path(f"/workloads/{done['id']}")).status == 404:
                break
            time.sleep(0.2)
        self.assertEqual(ctx.member.get(ctx.path(f"/workloads/{done['id']}")).status, 404,
                         "a stopped workload outlived the workload retention")
        # Still starting (its registry refuses, it backs off until the start grace): kept.
        kept = ctx.member.get(ctx.path(f"/workloads/{active['id']}"))
        self.assertEqual(kept.status, 200, kept)
        self.assertEqual(kept.json["status"], "starting", kept)

    def test_bad_retention_is_refused(self):
        import subprocess
        from agyn_testlib import AGYND
        result = subprocess.run([AGYND, "serve", "--event-retention", "0s"], capture_output=True,
                                text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--event-retention", result.stderr)


@unittest.skipIf(TEST_DATABASE == "postgres", "PostgreSQL's autovacuum reclaims space itself")
class RetentionReclaimTest(ServerTestCase):
    server_args = ("--event-retention", "1s", "--workload-retention", "1s")

    def database_files(self):
        db = os.path.join(self.server.data_dir, "agyn.db")
        wal = db + "-wal"
        return os.path.getsize(db), os.path.getsize(wal) if os.path.exists(wal) else 0

    def churn(self, ctx, tag, n):
        """n secrets created and deleted: 2n events and 2n row writes, each page rewritten."""
        for i in range(n):
            made = ctx.owner.post(ctx.path("/secrets"), {"name": f"{tag}-{i}",
                                                         "value": "v" * 2000})
            self.assertEqual(made.status, 201, made)
            gone = ctx.owner.delete(ctx.path(f"/secrets/{made.json['id']}"))
            self.assertEqual(gone.status, 204, gone)

    def wait_until_pruned(self):
        deadline = time.time() + 6
        while count_events(self.server) and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(count_events(self.server), 0, "old events were not deleted")

    def test_the_files_stop_growing_once_rows_are_pruned(self):
        ctx = self.server.new_org("reclaim")
        sizes = []
        for round_ in range(4):
            self.churn(ctx, f"r{round_}", 120)
            self.wait_until_pruned()
            sizes.append(self.database_files()[0])
        # Each round writes as much as the first, into pages the prune freed: the main file
        # keeps the first round's size (a few pages of slack for where the b-trees split).
        self.assertLessEqual(max(sizes[1:]), sizes[0] + 64 * 4096, sizes)
        # Nothing writes now; the next retention pass (every half second) truncates the WAL
        # that the rounds and the prunes filled.
        deadline = time.time() + 5
        while self.database_files()[1] and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.database_files()[1], 0, "the WAL was not checkpointed and truncated")


if __name__ == "__main__":
    unittest.main()
