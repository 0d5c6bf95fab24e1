"""The system calls of a cache hit on a kept connection (issue 14), recorded by strace attached
to the running gateway.

- From the in-process tier: one read of the request and one writev of the answer, nothing else
  on that socket. libevent would add an ioctl(FIONREAD) before each read (http/read_now.c
  removes it) and arm and disarm the write event with two epoll_ctl calls around each answer
  (http/write_now.c removes them).
- From Redis (local tier off): the same on the client's socket, though the request is paused
  while Redis answers (evhtp would remove the socket from epoll for the pause and add it back,
  and arm the write event for the answer: http/conn.c sg_conn_pause, write_now's resumed path),
  and one write of the GET and one read of its answer on Redis's socket, with no epoll_ctl
  (hiredis's libevent adapter makes three per round trip: cache/redis/redis_events.c)."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import sg_harness as h

HITS = 5
TRACED = ("trace=read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,ioctl,epoll_ctl")


def request_for(case, auth):
    return ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
            % (h.task_path(h.fixture(case).task), auth)).encode()


def traced_hits(test, gw, request):
    """Fills the cache on a kept connection, then sends HITS more requests on it with strace
    attached; returns strace's lines."""
    strace = shutil.which("strace")
    test.assertIsNotNone(strace, "strace is needed (tests/run.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        conn = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        try:
            conn.sendall(request)  # the miss that fills the cache
            test.assertEqual(h.read_raw_response(conn).status, 200)
            trace = os.path.join(tmp, "trace")
            tracer = subprocess.Popen([strace, "-f", "-qq", "-s", "256", "-o", trace, "-e", TRACED,
                                       "-p", str(gw.proc.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(1.0)  # attached to every thread by then
                for _ in range(HITS):
                    conn.sendall(request)
                    r = h.read_raw_response(conn)
                    test.assertEqual(r.status, 200)
                    test.assertEqual(r.headers.get("x-cache"), "HIT")
                time.sleep(0.3)
            finally:
                tracer.terminate()
                tracer.wait(10)
        finally:
            conn.close()
        with open(trace) as f:
            return f.read().splitlines()


def fd_of(test, lines, marker):
    """The descriptor of the first read or write whose data shows marker."""
    for ln in lines:
        if marker in ln:
            m = re.search(r"\b(?:read|readv|recvfrom|recvmsg|write|writev|sendto|sendmsg)\((\d+),",
                          ln)
            if m:
                return m.group(1)
    test.fail("no call carries %r:\n%s" % (marker, "\n".join(lines)))


def calls_on(lines, fd):
    """The names of the calls made on fd, epoll_ctl on it included, in order."""
    return [re.search(r"^\d+\s+(\w+)\(", ln).group(1) for ln in lines
            if re.search(r"\b\w+\(%s[,)]" % fd, ln) or
            re.search(r"epoll_ctl\(\d+, EPOLL_CTL_\w+, %s," % fd, ln)]


@h.requires_gateway
class TestHitSyscalls(h.GatewayTestCase):
    def test_a_kept_connection_hit_is_one_read_and_one_writev(self):
        request = request_for("cis-succeeded", self.auth()["Authorization"])
        with self.gateway() as gw:
            lines = traced_hits(self, gw, request)
        client = fd_of(self, lines, "GET /api/snapservice/tasks/")
        self.assertEqual(calls_on(lines, client), ["read", "writev"] * HITS, "\n".join(lines))


@h.requires_gateway
class TestRedisHitSyscalls(h.RedisTestCase):
    def test_a_redis_hit_is_one_round_trip_and_no_epoll_ctl(self):
        request = request_for("cis-running", self.auth()["Authorization"])
        overrides = {"cache": {"ttl": {"running": "1h"}, "local": {"max_ttl": "0s"}}}
        with self.shared_gateway(overrides) as gw:
            lines = traced_hits(self, gw, request)
        client = fd_of(self, lines, "GET /api/snapservice/tasks/")
        self.assertEqual(calls_on(lines, client), ["read", "writev"] * HITS, "\n".join(lines))
        redis = fd_of(self, lines, h.redis_task_key(h.fixture("cis-running").task))
        on_redis = calls_on(lines, redis)
        self.assertNotIn("epoll_ctl", on_redis, "\n".join(lines))
        gets = [ln for ln in lines if re.search(r"\bwrite\(%s,.*\$3\\r\\nGET\\r\\n" % redis, ln)]
        self.assertEqual(len(gets), HITS, "\n".join(lines))
        # Each GET is written on its own and its answer read before the next request.
        self.assertEqual([c for c in on_redis if c in ("write", "read")][:2 * HITS],
                         ["write", "read"] * HITS, "\n".join(lines))
