#!/usr/bin/env python3
"""bench/pull.py — a cold image pull by agynd's runner beside its peers, same registry, same
run (started by bench/pull.sh; see bench/README.md, section "pull").

One local htpasswd registry (Debian docker-registry, tests/fixtures/registry_fixture.py) holds
an image of 4 random uncompressed layers (BENCH_LAYER_MIB, 64 MiB each) and a small one
(BENCH_SMALL_MIB, 16 MiB each). Every round runs, each after `sync` so that no run pays for
the previous one's dirty pages:
  agynd   a fresh agynd (empty content store, pull-only runtime), an agent with an attached
          image pull secret; wall time from POST /workloads to the "running" event on the
          organization's SSE stream; peak RSS (VmHWM); then warm starts of the same image
          (verified in the content store, manifest re-checked with the credential);
  skopeo  skopeo copy docker://... oci:DIR (the same blobs, verified, to disk), then
          `skopeo inspect --raw` of the same image BENCH_WARM_STARTS times (the warm start's
          peer: the manifest fetched with the credential, nothing else);
  curl    the 4 layer blobs fetched by 4 parallel curls (the ceiling: the same network copy
          with no verification and no fsync);
  disk    the same bytes written with O_DIRECT by 4 dd at once, nothing received: the other
          floor of a durable pull (INFO: on this virtual disk it moves from run to run);
  agynd, small layers: its peak RSS must not grow with the layer size;
  agynd on PostgreSQL, with BENCH_DATABASE=postgres (a throwaway PostgreSQL 15);
  another agynd binary, with BENCH_BASELINE_BIN (before/after a change, same run).
agynd runs with AGYN_PULL_TRACE=1: the medians of its per-phase durations are printed too.
The rows go to the `make bench` summary too (bench/summary.py): the issue's targets apply to
the embedded default (SQLite); the PostgreSQL and baseline columns are reported as INFO.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
os.environ.setdefault("AGYND_BIN", os.path.join(ROOT, "build", "bin", "agynd"))

sys.path.insert(0, os.path.join(ROOT, "bench"))

import agyn_testlib  # noqa: E402
import registry_fixture as rf  # noqa: E402
from runner_helpers import Org, open_stream  # noqa: E402
from summary import bench_row  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LAYER_MIB = int(os.environ.get("BENCH_LAYER_MIB", "64"))
SMALL_MIB = int(os.environ.get("BENCH_SMALL_MIB", "16"))
WARM_STARTS = int(os.environ.get("BENCH_WARM_STARTS", "5"))
BASELINE_BIN = os.environ.get("BENCH_BASELINE_BIN")
# The agynd columns: (name, label, binary, database).
COLUMNS = [("agynd-sqlite", "agynd", os.environ["AGYND_BIN"], "sqlite")]
if os.environ.get("BENCH_DATABASE") == "postgres":
    COLUMNS.append(("agynd-postgres", "agynd (PostgreSQL)", os.environ["AGYND_BIN"], "postgres"))
if BASELINE_BIN:
    COLUMNS.append(("agynd-baseline", "agynd (baseline)", BASELINE_BIN, "sqlite"))
LAYERS = 4
TARGET_CURL = 1.25  # agynd / parallel curl
TARGET_SKOPEO = 0.5  # agynd / skopeo copy
TARGET_WARM_MS = 20
TARGET_GROWTH_MIB = 16  # 4x larger layers may add at most this to agynd's peak
USER = "bench"
PASSWORD = "bench-" + os.urandom(8).hex()
TRACE_FIELDS = ("claim_latency_ms", "credentials_ms", "trust_ms", "ping_ms", "credential_ms",
                "manifest_ms", "first_byte_ms", "blobs_ms", "write_ms", "hash_ms", "verify_ms",
                "fsync_ms", "rename_ms", "store_manifest_ms", "pulls_ms", "runtime_start_ms",
                "status_write_ms", "picked_to_saved_ms")


class Case:  # the bits of unittest.TestCase that Org uses
    def assertEqual(self, a, b, msg=None):
        assert a == b, msg


def note(text):
    print(f"bench/pull: {text}", file=sys.stderr, flush=True)


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def trace_fields(log_text):
    """The numeric fields of the cold workload's "pull trace" and "workload trace" lines."""
    fields = {}
    for line in log_text.splitlines():
        if 'msg="pull trace"' in line or 'msg="workload trace"' in line:
            for key, value in re.findall(r"(\w+_ms)=([0-9.]+)", line):
                fields.setdefault(key, float(value))  # the first (cold) pull's
    return fields


def agynd_run(image, database, warm, binary=None):
    """One fresh agynd: the cold pull of image, then `warm` warm starts. Returns a dict."""
    agyn_testlib.TEST_DATABASE = database
    agyn_testlib.AGYND = binary or os.environ["AGYND_BIN"]
    server = agyn_testlib.Server(env={"AGYN_PULL_TRACE": "1"})
    try:
        org = Org(Case(), server)
        agent = org.agent(image)
        org.attach(org.secret(image.split("/")[0], USER, PASSWORD), agent)
        pid = server.proc.pid
        before = vm_hwm_kib(pid)
        walls = []
        with open_stream(server, org.ctx) as stream:
            for i in range(1 + warm):
                os.sync()
                t0 = time.monotonic()
                w = org.start(agent)
                event = stream.wait_for(
                    lambda e: e.type == "workload.status_changed" and e.data["id"] == w["id"]
                    and e.data["status"] != "starting", timeout=120, what="running")
                walls.append(time.monotonic() - t0)
                if event.data["status"] != "running":
                    raise RuntimeError(f"workload {event.data['status']}: "
                                       f"{org.get_workload(w['id'])['failure_message']}")
        return {"wall": walls[0], "warm": walls[1:], "peak_before": before / 1024,
                "peak": vm_hwm_kib(pid) / 1024, "trace": trace_fields(server.logs())}
    finally:
        server.stop()
        shutil.rmtree(server.tmp, ignore_errors=True)
        agyn_testlib.TEST_DATABASE = "sqlite"
        agyn_testlib.AGYND = os.environ["AGYND_BIN"]


def timed(argv, work):
    """Runs argv under /usr/bin/time -v after a sync: (wall seconds, max RSS MiB)."""
    out = os.path.join(work, "time.out")
    os.sync()
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", out] + argv, capture_output=True,
                          text=True, env=dict(os.environ, REGISTRY_AUTH_FILE=os.devnull))
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {proc.stderr}")
    text = open(out).read()
    clock = re.search(r"Elapsed \(wall clock\) time.*: ([0-9:.]+)", text).group(1)
    wall = 0.0
    for part in clock.split(":"):
        wall = wall * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return wall, rss / 1024


def skopeo_run(host, work):
    target = os.path.join(work, "skopeo.oci")
    shutil.rmtree(target, ignore_errors=True)
    wall, rss = timed(["skopeo", "--insecure-policy", "copy", "--quiet", "--src-creds",
                       f"{USER}:{PASSWORD}", "--src-tls-verify=false",
                       f"docker://{host}/bench/big:v1", f"oci:{target}:v1"], work)
    shutil.rmtree(target, ignore_errors=True)
    return {"wall": wall, "peak": rss}


def skopeo_inspect_runs(host, count):
    """`skopeo inspect --raw` of the image count times: the manifest fetched with the
    credential (ping, Basic auth, one GET), as a warm start re-checks it. Seconds each."""
    walls = []
    for _ in range(count):
        os.sync()
        t0 = time.monotonic()
        proc = subprocess.run(["skopeo", "inspect", "--raw", "--creds", f"{USER}:{PASSWORD}",
                               "--tls-verify=false", f"docker://{host}/bench/big:v1"],
                              capture_output=True, text=True,
                              env=dict(os.environ, REGISTRY_AUTH_FILE=os.devnull))
        walls.append(time.monotonic() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"skopeo inspect failed: {proc.stderr}")
    return walls


CURL_SCRIPT = r'''
dir=$1 host=$2 creds=$3; shift 3
pids=""
for digest in "$@"; do
  curl -sf -u "$creds" -o "$dir/${digest#sha256:}" "http://$host/v2/bench/big/blobs/$digest" &
  pids="$pids $!"
done
status=0
for pid in $pids; do wait "$pid" || status=1; done
exit $status
'''


def curl_run(host, digests, work):
    target = os.path.join(work, "curl.blobs")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    wall, rss = timed(["bash", "-c", CURL_SCRIPT, "_", target, host, f"{USER}:{PASSWORD}"]
                      + digests, work)
    for digest in digests:  # outside the timing: the ceiling verifies nothing
        hexdigest = subprocess.run(["sha256sum", os.path.join(target, digest[7:])],
                                   capture_output=True, text=True, check=True).stdout.split()[0]
        if hexdigest != digest[7:]:
            raise RuntimeError("curl fetched a wrong blob")
    shutil.rmtree(target, ignore_errors=True)
    return {"wall": wall, "peak": rss}


DISK_SCRIPT = r'''
dir=$1 mib=$2 count=$3
pids=""
for i in $(seq 1 "$count"); do
  dd if=/dev/zero of="$dir/layer$i" bs=1M count="$mib" oflag=direct status=none &
  pids="$pids $!"
done
status=0
for pid in $pids; do wait "$pid" || status=1; done
exit $status
'''


def disk_run(work):
    """The disk's share: the same bytes written durably (O_DIRECT), 4 files at once, nothing
    received. A durable pull can be no faster than this, nor than the parallel curl."""
    target = os.path.join(work, "disk.blobs")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    wall, rss = timed(["bash", "-c", DISK_SCRIPT, "_", target, str(LAYER_MIB), str(LAYERS)], work)
    shutil.rmtree(target, ignore_errors=True)
    return {"wall": wall, "peak": rss}


def verdict(good):
    return "PASS" if good else "MISS"


def main():
    for tool in ("skopeo", "curl", "docker-registry", "htpasswd", "sha256sum"):
        if not shutil.which(tool):
            sys.exit(f"bench/pull: {tool} is missing (scripts/install-deps.sh bench)")
    work = tempfile.mkdtemp(prefix="agyn-pullbench-")
    reg = rf.Registry(auth="htpasswd", users={USER: PASSWORD}).start()
    try:
        creds = f"{USER}:{PASSWORD}"
        note(f"pushing {LAYERS} x {LAYER_MIB} MiB and {LAYERS} x {SMALL_MIB} MiB images")
        big = rf.push_image(reg.host, "bench/big", "v1", [LAYER_MIB << 20] * LAYERS,
                            compress=False, creds=creds)
        rf.push_image(reg.host, "bench/small", "v1", [SMALL_MIB << 20] * LAYERS,
                      compress=False, creds=creds)
        runs = {}
        for rnd in range(1, ROUNDS + 1):
            for name, label, binary, database in COLUMNS:
                note(f"round {rnd}/{ROUNDS}: {label}")
                runs.setdefault(name, []).append(
                    agynd_run(f"{reg.host}/bench/big:v1", database, WARM_STARTS, binary))
            note(f"round {rnd}/{ROUNDS}: skopeo copy")
            runs.setdefault("skopeo", []).append(skopeo_run(reg.host, work))
            note(f"round {rnd}/{ROUNDS}: skopeo inspect --raw x{max(WARM_STARTS, 1)}")
            runs["skopeo"][-1]["warm"] = skopeo_inspect_runs(reg.host, max(WARM_STARTS, 1))
            note(f"round {rnd}/{ROUNDS}: parallel curl")
            runs.setdefault("curl", []).append(curl_run(reg.host, big["layer_digests"], work))
            note(f"round {rnd}/{ROUNDS}: the disk alone (dd oflag=direct x{LAYERS})")
            runs.setdefault("disk", []).append(disk_run(work))
            note(f"round {rnd}/{ROUNDS}: agynd, {SMALL_MIB} MiB layers")
            runs.setdefault("agynd-small", []).append(
                agynd_run(f"{reg.host}/bench/small:v1", "sqlite", 0))
        report(runs)
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(runs):
    def med(name, key="wall"):
        return statistics.median(r[key] for r in runs[name])

    labels = {"agynd-sqlite": f"agynd ({LAYERS}x{LAYER_MIB} MiB)",
              "agynd-postgres": f"agynd, PostgreSQL ({LAYERS}x{LAYER_MIB} MiB)",
              "agynd-baseline": f"agynd baseline ({LAYERS}x{LAYER_MIB} MiB)",
              "skopeo": "skopeo copy", "curl": f"curl x{LAYERS} (ceiling)",
              "disk": f"dd oflag=direct x{LAYERS} (the disk)",
              "agynd-small": f"agynd ({LAYERS}x{SMALL_MIB} MiB)"}
    load = open("/proc/loadavg").read().split()[:3]
    print(f"\ncold pull of {LAYERS} x {LAYER_MIB} MiB uncompressed layers from a local htpasswd "
          f"registry, sync before each run, medians of {ROUNDS} (load average "
          f"{' '.join(load)})\n")
    print(f"{'run':<40}{'wall s':>9}{'peak MiB':>10}{'MiB/s':>8}   walls")
    for name in labels:
        if name not in runs:
            continue
        mib = LAYERS * (SMALL_MIB if name == "agynd-small" else LAYER_MIB)
        walls = " ".join(f"{r['wall']:.2f}" for r in runs[name])
        print(f"{labels[name]:<40}{med(name):>9.2f}{med(name, 'peak'):>10.1f}"
              f"{mib / med(name):>8.0f}   {walls}")
    curl, skopeo = med("curl"), med("skopeo")
    inspect = statistics.median(w for r in runs["skopeo"] for w in r["warm"]) * 1000
    size = f"{LAYERS}x{LAYER_MIB} MiB"
    print()
    for name, label, _, _ in COLUMNS:
        # The targets are for the embedded default; other columns are for comparison.
        judged = name == "agynd-sqlite"
        tag = {"agynd-postgres": " on PostgreSQL", "agynd-baseline": ", baseline binary"}.get(
            name, "")
        target = lambda text: text if judged else f"info (SQLite's: {text})"  # noqa: E731
        ours = med(name)
        ratio = ours / curl
        print(f"cold pull {label} vs parallel curl: {ours:.2f} s vs {curl:.2f} s = {ratio:.2f}× "
              f"(target ≤ {TARGET_CURL}×) {verdict(ratio <= TARGET_CURL)}")
        bench_row(f"cold pull {size}{tag}, htpasswd registry: agynd vs parallel curl",
                  f"{ours:.2f} s = {ratio:.2f}x", f"{curl:.2f} s curl x{LAYERS}",
                  target(f"<= {TARGET_CURL}x curl"), verdict(ratio <= TARGET_CURL) if judged else "INFO")
        ratio = ours / skopeo
        print(f"{label} vs skopeo copy: {ours:.2f} s vs {skopeo:.2f} s = {ratio:.2f}× "
              f"(target ≤ {TARGET_SKOPEO}×) {verdict(ratio <= TARGET_SKOPEO)}")
        bench_row(f"cold pull {size}{tag}: agynd vs skopeo copy", f"{ours:.2f} s = {ratio:.2f}x",
                  f"{skopeo:.2f} s skopeo copy", target(f"<= {TARGET_SKOPEO}x skopeo"),
                  verdict(ratio <= TARGET_SKOPEO) if judged else "INFO")
        warm = statistics.median(w for r in runs[name] for w in r["warm"]) * 1000
        print(f"warm start {label} (POST /workloads -> running): {warm:.1f} ms "
              f"(target ≤ {TARGET_WARM_MS} ms) {verdict(warm <= TARGET_WARM_MS)}")
        bench_row(f"warm start, pull-only{tag}: POST /workloads -> running", f"{warm:.1f} ms",
                  f"{inspect:.1f} ms skopeo inspect --raw", target(f"<= {TARGET_WARM_MS} ms"),
                  verdict(warm <= TARGET_WARM_MS) if judged else "INFO")
    disk = med("disk")
    print(f"the same bytes written with O_DIRECT by {LAYERS} dd at once (the disk's share of a "
          f"durable pull): {disk:.2f} s = {disk / curl:.2f}× the parallel curl")
    bench_row(f"cold pull {size}: the disk alone, dd oflag=direct x{LAYERS}",
              f"{med('agynd-sqlite'):.2f} s agynd", f"{disk:.2f} s dd = {disk / curl:.2f}x curl",
              "info (a durable pull's other floor)", "INFO")
    print(f"skopeo inspect --raw of the same image (the warm start's peer): {inspect:.1f} ms")
    growth = round(med("agynd-sqlite", "peak") - med("agynd-small", "peak"), 1) + 0.0
    print(f"agynd peak RSS {med('agynd-sqlite', 'peak'):.1f} MiB ({LAYER_MIB} MiB layers) vs "
          f"{med('agynd-small', 'peak'):.1f} MiB ({SMALL_MIB} MiB layers): growth {growth:.1f} MiB "
          f"(target < {TARGET_GROWTH_MIB} MiB) {verdict(growth < TARGET_GROWTH_MIB)}")
    bench_row(f"agynd peak RSS growth, {LAYERS}x{SMALL_MIB} -> {size} layers",
              f"{growth:+.1f} MiB ({med('agynd-small', 'peak'):.1f} -> "
              f"{med('agynd-sqlite', 'peak'):.1f} MiB)",
              f"{med('skopeo', 'peak'):.1f} MiB skopeo copy peak ({size})",
              f"< {TARGET_GROWTH_MIB} MiB growth", verdict(growth < TARGET_GROWTH_MIB))
    print(f"\nwhere agynd's cold pull goes (AGYN_PULL_TRACE, medians, ms; write/hash/verify/"
          f"fsync/rename are summed over the {LAYERS + 1} blobs):")
    names = [name for name, _, _, _ in COLUMNS]
    print(f"{'phase':<22}" + "".join(f"{n:>16}" for n in names))
    for field in TRACE_FIELDS:
        values = []
        for name in names:
            got = [r["trace"][field] for r in runs[name] if field in r["trace"]]
            values.append(f"{statistics.median(got):>16.1f}" if got else f"{'-':>16}")
        print(f"{field:<22}" + "".join(values))


if __name__ == "__main__":
    main()
