"""SSE fan-out from the shared tail of recent events (src/api/event_tail.c): many event streams
of two organizations, opened before and during interleaved writes of both (and resuming from
Last-Event-ID 0, which starts in the store and hands over to the tail), each receive exactly
their own organization's events, in order, none missing, none twice. Streams of one token share
its 2-second re-check: revoking it ends every one of them, and none of another token's. On PostgreSQL the second
organization writes through a second replica (`agynd serve --no-runner` on the same database),
so commits of two processes interleave and reach the first one through LISTEN/NOTIFY."""
import threading
import time
import unittest

import agyn_testlib
from agyn_testlib import Client, Replica, ServerTestCase
from runner_helpers import SseStream, open_stream

STREAMS_PER_ORG = 25
WRITES_PER_ORG = 30
EARLY_WRITES = 3



class TestSseFanout(ServerTestCase):
    def stream(self, ctx, last_event_id=None):
        stream = open_stream(self.server, ctx, last_event_id=last_event_id)
        self.addCleanup(stream.close)
        return stream

    def test_every_stream_gets_exactly_its_organizations_events_in_order(self):
        orgs = [self.server.new_org("fanout-a"), self.server.new_org("fanout-b")]
        replica = Replica(self.server) if agyn_testlib.TEST_DATABASE == "postgres" else None
        try:
            writers = [orgs[0].owner,
                       Client(replica.port, orgs[1].owner.token) if replica else orgs[1].owner]
            names = {0: [], 1: []}
            failures = []
            replayed = set()

            def write(i, count, first=0):
                ctx = orgs[i]
                for n in range(first, first + count):
                    name = f"org{i}-secret-{n:03d}"
                    resp = writers[i].post(ctx.path("/image-pull-secrets"), {
                        "name": name, "registry": f"r{i}.example", "username": "u",
                        "password": "p"})
                    if resp.status != 201:
                        failures.append(resp)
                        return
                    names[i].append(name)

            # A few events before any stream: the tail starts after them (it is filled once a
            # stream is open), so a replay from Last-Event-ID 0 reads them from the store and
            # then moves over to the tail.
            for i in (0, 1):
                write(i, EARLY_WRITES)
            # Half the streams of each organization open now, from "now"; the rest open during
            # the writes, half of those from Last-Event-ID 0 (a replay of everything kept).
            streams = {i: [self.stream(ctx) for _ in range(STREAMS_PER_ORG // 2)]
                       for i, ctx in enumerate(orgs)}
            time.sleep(1.2)  # the tail is filled (the ticker runs at least once a second)
            threads = [threading.Thread(target=write, args=(i, WRITES_PER_ORG, EARLY_WRITES))
                       for i in (0, 1)]
            for t in threads:
                t.start()
            for i, ctx in enumerate(orgs):
                for k in range(STREAMS_PER_ORG - STREAMS_PER_ORG // 2):
                    time.sleep(0.01)
                    stream = self.stream(ctx, last_event_id=0 if k % 2 else None)
                    if k % 2:
                        replayed.add(stream)
                    streams[i].append(stream)
            for t in threads:
                t.join()
            for i in (0, 1):  # one more each, which every stream must get, however late it opened
                write(i, 1, EARLY_WRITES + WRITES_PER_ORG)
            self.assertEqual(failures, [])

            for i in (0, 1):
                for stream in streams[i]:
                    last = names[i][-1]
                    stream.wait_for(lambda e, last=last: e.type == "image_pull_secret.created"
                                    and (e.data or {}).get("name") == last, timeout=30,
                                    what=f"{last} (org {i})")
            time.sleep(0.3)  # anything wrongly sent after the last event arrives too
            for i in (0, 1):
                for s, stream in enumerate(streams[i]):
                    got = [e for e in stream.snapshot() if e.type.startswith("image_pull_secret")]
                    ids = [e.id for e in got]
                    self.assertEqual(ids, sorted(set(ids)), f"org {i} stream {s}: ids {ids}")
                    got_names = [(e.data or {}).get("name") for e in got]
                    # A stream opened during the writes starts somewhere in the middle; from
                    # there on it has every event of its organization and nothing else.
                    self.assertTrue(got_names, f"org {i} stream {s} got nothing")
                    start = names[i].index(got_names[0]) if got_names[0] in names[i] else -1
                    self.assertGreaterEqual(start, 0, f"org {i} stream {s}: {got_names[:3]}")
                    self.assertEqual(got_names, names[i][start:], f"org {i} stream {s}")
                    if stream in replayed:
                        self.assertEqual(start, 0, f"org {i} stream {s} missed the first events")
                    elif s < STREAMS_PER_ORG // 2:
                        self.assertEqual(start, EARLY_WRITES, f"org {i} stream {s} started wrong")
        finally:
            if replica:
                self.assertEqual(replica.stop(), 0)

    def test_revoking_a_token_ends_all_its_streams_and_no_others(self):
        ctx = self.server.new_org("fanout-revoke")
        admin = self.server.admin()
        tokens = [admin.post(ctx.path("/tokens"), {"name": f"watcher-{i}", "role": "member"}).json
                  for i in (0, 1)]
        streams = {i: [SseStream(self.server.port, ctx.path("/events"), tokens[i]["token"])
                       for _ in range(8)] for i in (0, 1)}
        for stream_list in streams.values():
            for stream in stream_list:
                self.addCleanup(stream.close)
                self.assertEqual(stream.status, 200)
        time.sleep(2.5)  # past one re-check period: the streams' checks are shared now
        self.assertEqual(admin.delete(ctx.path(f"/tokens/{tokens[0]['id']}")).status, 204)
        for stream in streams[0]:
            stream.wait_for(lambda e: e.type == "unauthorized", timeout=5, what="unauthorized")
        resp = ctx.owner.post(ctx.path("/image-pull-secrets"), {
            "name": "after-revoke", "registry": "r.example", "username": "u", "password": "p"})
        self.assertEqual(resp.status, 201, resp)
        for stream in streams[1]:
            stream.wait_for(lambda e: (e.data or {}).get("name") == "after-revoke", timeout=10,
                            what="the event after the revocation")
            self.assertFalse([e for e in stream.snapshot() if e.type == "unauthorized"])
        for stream in streams[0]:
            self.assertFalse([e for e in stream.snapshot()
                              if (e.data or {}).get("name") == "after-revoke"])


if __name__ == "__main__":
    unittest.main()
