#!/usr/bin/env python3
"""demo_registry.py - the private registry of the README's tour, offline: Debian's
docker-registry on 127.0.0.1 with one htpasswd user, holding a small runnable image built here
from Debian's busybox-static (no network, no Docker needed) and pushed with skopeo.

    scripts/demo_registry.py [--port 5000] [--user demo] [--password demo-password]
                             [--exit-on-stdin-eof]

Prints "HOST 127.0.0.1:PORT", "IMAGE 127.0.0.1:PORT/acme/agent:v1", then
"READY 127.0.0.1:PORT" once the image is pushed; serves until SIGINT/SIGTERM (or stdin EOF),
then removes its storage. Needs docker-registry, skopeo, apache2-utils, busybox-static.
"""
import argparse
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
import docker_fixture  # noqa: E402
import registry_fixture  # noqa: E402

REPOSITORY, TAG = "acme/agent", "v1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    registry = registry_fixture.Registry(auth="htpasswd", users={args.user: args.password},
                                         port=args.port or None)
    registry.start()
    try:
        host = f"127.0.0.1:{registry.direct_port}"
        print(f"HOST {host}", flush=True)
        docker_fixture.push_busybox(host, REPOSITORY, TAG, creds=f"{args.user}:{args.password}",
                                    cmd=("/bin/sh", "-c", "echo hello from the agyn demo; "
                                         "exec sleep 3600"))
        print(f"IMAGE {host}/{REPOSITORY}:{TAG}", flush=True)
        print(f"READY {host}", flush=True)
        if args.exit_on_stdin_eof:
            threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()
    finally:
        registry.stop()


if __name__ == "__main__":
    main()
