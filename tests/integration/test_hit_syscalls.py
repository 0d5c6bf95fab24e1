"""The system calls of a cache hit on a kept connection (issue 14): one read of the request and
one writev of the answer, nothing else on that socket. libevent would add an ioctl(FIONREAD)
before each read (http/read_now.c removes it) and arm and disarm the write event with two
epoll_ctl calls around each answer (http/write_now.c removes them). strace, attached to the
running gateway, records what its threads do with the connection's descriptor."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import sg_harness as h

HITS = 5


@h.requires_gateway
class TestHitSyscalls(h.GatewayTestCase):
    def test_a_kept_connection_hit_is_one_read_and_one_writev(self):
        strace = shutil.which("strace")
        self.assertIsNotNone(strace, "strace is needed (tests/run.sh installs it)")
        fx = h.fixture("cis-succeeded")
        auth = self.auth()["Authorization"]
        request = ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                   % (h.task_path(fx.task), auth)).encode()
        with self.gateway() as gw, tempfile.TemporaryDirectory() as tmp:
            conn = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
            try:
                conn.sendall(request)  # the miss that fills the cache
                self.assertEqual(h.read_raw_response(conn).status, 200)
                trace = os.path.join(tmp, "trace")
                tracer = subprocess.Popen(
                    [strace, "-f", "-qq", "-o", trace, "-e",
                     "trace=read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,ioctl,"
                     "epoll_ctl", "-p", str(gw.proc.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    # strace writes nothing until it is attached: wait for the
                    # gateway's own periodic work (or give it time) first.
                    time.sleep(1.0)
                    for _ in range(HITS):
                        conn.sendall(request)
                        r = h.read_raw_response(conn)
                        self.assertEqual(r.status, 200)
                        self.assertEqual(r.headers.get("x-cache"), "HIT")
                    time.sleep(0.3)
                finally:
                    tracer.terminate()
                    tracer.wait(10)
            finally:
                conn.close()
            with open(trace) as f:
                lines = f.read().splitlines()
        # The server's descriptor of this connection: the one the requests were read from.
        reads = [ln for ln in lines if "GET /api/snapservice/tasks/" in ln]
        self.assertEqual(len(reads), HITS, "\n".join(lines))
        fd = re.search(r"\b(?:read|readv|recvfrom|recvmsg)\((\d+),", reads[0]).group(1)
        on_fd = [re.search(r"^\d+\s+(\w+)\(", ln).group(1) for ln in lines
                 if re.search(r"\b\w+\(%s[,)]" % fd, ln) or
                 re.search(r"epoll_ctl\(\d+, EPOLL_CTL_\w+, %s," % fd, ln)]
        self.assertEqual(on_fd, ["read", "writev"] * HITS, "\n".join(lines))
