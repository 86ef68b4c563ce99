"""`agynd serve --max-connections N`: while N connections are open (event streams included), a
further one is not served (libmicrohttpd stops accepting; it waits in the listen backlog) and
is served once one of them closes; a bad N is a usage error (exit 2)."""
import socket
import subprocess
import time
import unittest

from agyn_testlib import AGYND, Server, free_port


def held_connection(port):
    """A connection that has completed one request and stays open (keep-alive)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
    return sock


class MaxConnectionsTests(unittest.TestCase):
    def test_a_connection_beyond_the_limit_waits_for_a_free_one(self):
        server = Server(["--max-connections", "4", "--http-threads", "1"])
        self.addCleanup(server.close)
        time.sleep(0.3)  # the start-up health checks' connections are gone
        held = [held_connection(server.port) for _ in range(4)]
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=1.5)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            with self.assertRaises(socket.timeout, msg="a fifth connection was served"):
                extra.recv(4096)
            for sock in held[1:]:  # the held ones still work
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 200"))
            held.pop(0).close()
            extra.settimeout(10)
            self.assertTrue(extra.recv(4096).startswith(b"HTTP/1.1 200"))
        finally:
            extra.close()
            for sock in held:
                sock.close()

    def test_bad_values_are_usage_errors(self):
        for value in ("0", "65537", "many"):
            with self.subTest(value=value):
                run = subprocess.run([AGYND, "serve", "--max-connections", value, "--listen",
                                      f"127.0.0.1:{free_port()}"], capture_output=True,
                                     text=True, timeout=30)
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn("--max-connections must be 1 to 65536", run.stderr)


if __name__ == "__main__":
    unittest.main()
