"""Idle connections cost little (issue 14): a connection waiting for a request holds no
request parser. evhtp gives each connection a parser of over 8 KiB for its whole life; the
gateway takes it away while the connection waits (before its first request and between
requests) and gives one back when bytes arrive (gateway/http/conn_parser.c). Before, each idle
connection added about 6.3 KB to the process's resident memory; now about 2 KB.

The bound is checked in a build without AddressSanitizer (whose allocator keeps freed memory in
quarantine); every build checks that connections which lost their parser still parse whole
requests afterwards, several times over."""

import resource
import socket
import time

import sg_harness as h

PER_GROUP = 800
MAX_BYTES_PER_CONN = 4096

GET = (b"GET /api/snapservice/tasks/idle-task HTTP/1.1\r\nHost: x\r\n"
       b"X-Request-Id: idle-check\r\n\r\n")


def rss_kib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def sanitized(pid):
    with open("/proc/%d/maps" % pid, encoding="ascii", errors="replace") as f:
        return "libasan" in f.read()


def ask(sock):
    sock.sendall(GET)
    return h.read_raw_response(sock)


@h.requires_gateway
class TestIdleConnections(h.GatewayTestCase):
    def setUp(self):
        super().setUp()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = 2 * PER_GROUP + 256
        if soft < need:
            if hard != resource.RLIM_INFINITY and hard < need:
                self.fail("open-files limit %d is below the %d this test needs" % (hard, need))
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    def test_idle_connections_hold_no_parser_and_still_parse(self):
        with self.gateway() as gw:
            pid = gw.proc.pid
            self.assertEqual(gw.http("GET", h.task_path("warm")).status, 401)
            before = rss_kib(pid)
            used, bare = [], []
            try:
                for _ in range(PER_GROUP):
                    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
                    used.append(s)
                    self.assertEqual(ask(s).status, 401)  # then idle between requests
                for _ in range(PER_GROUP):
                    bare.append(socket.create_connection(("127.0.0.1", gw.port), timeout=10))
                self.assertTrue(h.wait_for(lambda: h.metric_value(h.parse_metrics(
                    gw.admin("GET", "/metrics").body.decode()), "snapgate_connections_open")
                    >= 2 * PER_GROUP, 10, 0.1))
                added = (rss_kib(pid) - before) * 1024 / (2 * PER_GROUP)
                print("\n%d idle connections: %.0f bytes of resident memory each"
                      % (2 * PER_GROUP, added))
                if not sanitized(pid):
                    self.assertLess(added, MAX_BYTES_PER_CONN,
                                    "idle connections hold per-connection buffers again")

                # Each gets its parser back with its next bytes, whole requests are read, and
                # the X-Request-Id parsed from the head is the client's.
                for s in used + bare:
                    r = ask(s)
                    self.assertEqual(r.status, 401)
                    self.assertEqual(r.headers.get("x-request-id"), "idle-check")
                # A request line cut in two around a pause parses whole as well.
                s = bare[0]
                s.sendall(GET[:9])
                time.sleep(0.2)
                s.sendall(GET[9:])
                self.assertEqual(h.read_raw_response(s).status, 401)
            finally:
                for s in used + bare:
                    s.close()
            self.assertIsNone(gw.proc.poll())
