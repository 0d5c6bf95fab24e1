"""Descriptor exhaustion and the connection cap (issue 10, item 5).

At the open-files limit accept() fails with EMFILE while the pending connection stays in the
kernel's queue, so a listener that simply returns to the loop is woken again at once: before
the fix, 100 % CPU and tens of MB of identical libevent warnings in 3 s. Now the listener
pauses after a failure, the failures are logged at most once a second with a count and
counted in snapgate_connections_refused_total{reason="emfile"}, and once the descriptors
come back requests are served. max_connections closes connections over the cap at once
({reason="limit"})."""

import os
import resource
import socket
import time

import sg_harness as h

NOFILE = 64
HELD = 100
WINDOW_S = 3.0
MAX_CPU = 0.30
MAX_LOG_GROWTH = 100 * 1024


def limit_nofile():
    """preexec_fn: the gateway starts with at most NOFILE descriptors (soft and hard)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def cpu_seconds(pid):
    """utime + stime of pid, from /proc/PID/stat (fields 14 and 15, in clock ticks)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_held(port, n):
    """n connected sockets to port (the kernel completes the handshake whether or not the
    gateway accepts them)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(s)
    return socks


def closed_by_peer(sock, timeout):
    """True when the peer closes sock (EOF or reset) within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@h.requires_gateway
class TestDescriptorLimit(h.GatewayTestCase):
    def metrics(self, gw):
        return h.parse_metrics(gw.admin("GET", "/metrics").body.decode())

    def test_emfile_backs_off_quietly_and_recovers(self):
        overrides = {"log": {"level": "info"}}
        with self.gateway(overrides, preexec_fn=limit_nofile) as gw:
            self.assertEqual(gw.http("GET", h.task_path("t")).status, 401)
            err_path = os.path.join(gw.tmpdir, "stderr.log")
            log0, cpu0, t0 = os.path.getsize(err_path), cpu_seconds(gw.proc.pid), \
                time.monotonic()
            socks = open_held(gw.port, HELD)
            try:
                time.sleep(WINDOW_S)
                cpu = (cpu_seconds(gw.proc.pid) - cpu0) / (time.monotonic() - t0)
                growth = os.path.getsize(err_path) - log0
                self.assertIsNone(gw.proc.poll(), "snapgate died at the descriptor limit")
            finally:
                for s in socks:
                    s.close()
            print("\n%d connections held at nofile=%d for %.1f s: CPU %.1f %% of a core, "
                  "stderr grew %d bytes" % (HELD, NOFILE, WINDOW_S, cpu * 100, growth))
            self.assertLess(cpu, MAX_CPU, "the loop spins at the descriptor limit")
            self.assertLess(growth, MAX_LOG_GROWTH, "the log floods at the descriptor limit")

            # The descriptors are back: the listener resumes and answers as usual.
            r = h.wait_for(lambda: self._status(gw), 5, 0.1)
            self.assertEqual(r, 401)
            refused = h.metric_value(self.metrics(gw), "snapgate_connections_refused_total",
                                     reason="emfile")
            self.assertGreater(refused or 0, 0)
        lines = [ln for ln in gw.stderr_text.splitlines() if "accept() failed" in ln]
        self.assertGreater(len(lines), 0, gw.stderr_text[-3000:])
        # At most one line a second (plus one for the window's edges).
        self.assertLessEqual(len(lines), int(WINDOW_S) + 3, lines)
        self.assertIn("too many open files", lines[0])
        self.assertNotIn("Error from accept() call", gw.stderr_text)

    @staticmethod
    def _status(gw):
        try:
            return gw.http("GET", h.task_path("t"), timeout=2).status
        except OSError:
            return None

    def test_max_connections_closes_the_excess_at_once(self):
        cap = 5
        with self.gateway({"max_connections": cap, "log": {"level": "info"}}) as gw:
            kept = open_held(gw.port, cap)
            try:
                # Each of the first `cap` is accepted and kept open (nothing sent yet).
                self.assertTrue(h.wait_for(lambda: h.metric_value(
                    self.metrics(gw), "snapgate_connections_open") == cap, 5))
                extra = open_held(gw.port, 3)
                for s in extra:
                    self.assertTrue(closed_by_peer(s, 5), "a connection over the cap stayed open")
                    s.close()
                for s in kept:
                    self.assertFalse(closed_by_peer(s, 0.05), "a connection under the cap closed")
                # One of the kept ones is served normally.
                kept[0].sendall(b"GET /api/snapservice/tasks/t HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(h.read_raw_response(kept[0]).status, 401)
                m = self.metrics(gw)
                self.assertEqual(h.metric_value(m, "snapgate_connections_refused_total",
                                                reason="limit"), 3)
                self.assertEqual(h.metric_value(m, "snapgate_connections_open"), cap)
            finally:
                for s in kept:
                    s.close()
            # Below the cap again: new connections are served.
            self.assertTrue(h.wait_for(lambda: self._status(gw) == 401, 5, 0.05))
        self.assertIn("max_connections (5) reached", gw.stderr_text)

    def test_max_connections_is_validated(self):
        for bad, why in (("0", "out of range"), ("-3", "not an integer"),
                         ("1000001", "out of range"), ("lots", "not an integer")):
            path = h.write_file(self.tmp, "cap.yaml", "max_connections: %s\n" % bad)
            p = h.run_snapgate(["-t", "-c", path])
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("max_connections", p.stderr)
            self.assertIn(why, p.stderr)
        path = h.write_file(self.tmp, "cap.yaml", "max_connections: 200\n")
        self.assertEqual(h.run_snapgate(["-t", "-c", path]).returncode, 0)


if __name__ == "__main__":
    h.unittest.main()
