"""Idle runner processes on one PostgreSQL wake only for claimable work: an API write that
creates none (an image pull secret) makes no runner look for work, a created workload is
claimed at once (through the work channel's NOTIFY, not the once-a-second fallback), and each
runner process has one looker, not one probe per thread. Counted with the runners'
agyn_runner_claim_probes_total. Runs on PostgreSQL only (several processes on one database)."""
import os
import statistics
import time
import unittest
from datetime import datetime

import agyn_testlib
from agyn_testlib import Client, Server
from runner_helpers import registry_fixture, unique, wait_for_status
from test_scale_out import RunnerProcess

agyn_testlib.TEST_DATABASE = "postgres"

RUNNERS = 2
THREADS = 4


def stamp_ms(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


class RunnerWakeupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = Server(["--no-runner", "--database-pool", "4", "--max-secrets-per-org", "1000"])
        cls.registry = registry_fixture.Registry().start()
        cls.registry.push_image("team/fast", "v1", [2000])
        cls.ctx = cls.api.new_org(unique("wakeups"))
        cls.agent = cls.ctx.owner.post(cls.ctx.path("/agents"), {
            "name": "a", "image": f"{cls.registry.host}/team/fast:v1"}).json
        content = os.path.join(cls.api.tmp, "content-wakeups")
        cls.runners = [RunnerProcess(cls.api, f"wake-{i}", content_dir=content, threads=THREADS,
                                     lease="10s") for i in range(RUNNERS)]
        # The image warm, and every worker thread idle again.
        warm = cls.start_workload()
        assert wait_for_status(cls.ctx.member, cls.ctx, warm)["status"] == "running"

    @classmethod
    def tearDownClass(cls):
        logs = ""
        for runner in cls.runners:
            runner.stop()
            logs += runner.logs()
        cls.registry.stop()
        logs += cls.api.logs()
        cls.api.close()
        for bad in ("AddressSanitizer", "runtime error:"):
            if bad in logs:
                raise AssertionError("sanitizer report:\n" + logs[-8000:])

    @classmethod
    def start_workload(cls):
        resp = cls.ctx.member.post(cls.ctx.path("/workloads"), {"agent_id": cls.agent["id"]})
        assert resp.status == 201, resp
        return resp.json["id"]

    def probes(self):
        """agyn_runner_claim_probes_total summed over the runners' /metrics."""
        total = 0
        for runner in self.runners:
            resp = Client(runner.port).get("/metrics")
            self.assertEqual(resp.status, 200, resp)
            for line in resp.body.splitlines():
                if line.startswith("agyn_runner_claim_probes_total{"):
                    total += int(float(line.split()[-1]))
        return total

    def idle_allowance(self, seconds):
        """Probes idle runners make anyway: each looker, once a second, looks for a workload to
        start and one to stop (twice, when a wake-up lands mid-look)."""
        return RUNNERS * 4 * (int(seconds) + 2)

    def test_writes_that_create_no_work_wake_no_runner(self):
        before, started = self.probes(), time.time()
        for i in range(150):
            resp = self.ctx.owner.post(self.ctx.path("/image-pull-secrets"), {
                "name": unique(f"s{i}"), "registry": "registry.example", "username": "u",
                "password": "p"})
            self.assertEqual(resp.status, 201, resp)
        probes = self.probes() - before
        # Woken by every event, each of the 8 workers would look 300 times (2 per write).
        self.assertLessEqual(probes, self.idle_allowance(time.time() - started), probes)

    def test_a_created_workload_is_claimed_at_once_by_one_looker_per_runner(self):
        before, started = self.probes(), time.time()
        delays = []
        for _ in range(10):
            workload_id = self.start_workload()
            done = wait_for_status(self.ctx.member, self.ctx, workload_id)
            self.assertEqual(done["status"], "running", done)
            (created_at, claimed_at), = self.api.sql(
                "SELECT created_at, claimed_at FROM workloads WHERE id = ?", (workload_id,))
            delays.append(stamp_ms(claimed_at) - stamp_ms(created_at))
        probes = self.probes() - before
        # The fallback look comes once a second: a claim within 300 ms came from the NOTIFY.
        self.assertLess(statistics.median(delays), 300, delays)
        # Per workload about 7: each runner's looker looks (for a start, then a stop), the
        # winner's successor looks again, and the winner's release wakes its looker once more.
        # Woken by every event, every worker of every runner would look (twice) for each of
        # the workload's five events: 80 per workload.
        allowed = 10 * 5 * RUNNERS + self.idle_allowance(time.time() - started)
        self.assertLessEqual(probes, allowed, probes)


if __name__ == "__main__":
    unittest.main()
