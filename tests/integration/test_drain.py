"""SIGTERM drains: /readyz is 503 at once, the client port accepts for a short grace
(min(1 s, drain_timeout / 4)) and then refuses, requests in flight finish with 200, and the
process exits 0 within shutdown.drain_timeout, even when a request would take longer."""

import signal
import socket
import threading
import time

import sg_harness as h

DRAIN_TIMEOUT_S = 4.0
GRACE_S = min(1.0, DRAIN_TIMEOUT_S / 4)
SLOW_MS = 2500
N = 8


class Background:
    """fn() in a thread; .result or .error afterwards."""

    def __init__(self, fn):
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn):
        try:
            self.result = fn()
        except BaseException as e:  # noqa: B902 - reported by the test
            self.error = e

    def join(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()


def refused(port):
    """True when a new TCP connection to port is refused."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


@h.requires_gateway
class TestDrain(h.GatewayTestCase):
    def drain_config(self, timeout_s, request_s=10):
        return {"workers": 2, "shutdown": {"drain_timeout": "%dms" % int(timeout_s * 1000)},
                "log": {"level": "info"}}, {"timeouts": {"connect": "2s",
                                                         "request": "%ds" % request_s}}

    def wait_upstream(self, tasks, timeout=5):
        """Until the mock has seen a GET of every task in tasks."""
        return h.wait_for(lambda: set(tasks) <= set(self.mock.stats()["tasks"]), timeout)

    def test_sigterm_with_slow_requests_in_flight(self):
        done = h.fixture("cis-succeeded")
        tasks = ["slow-%d" % i for i in range(N)]
        for t in tasks:
            self.mock.set_task(t, {"status": 200, "body": done.expected, "delay_ms": SLOW_MS})
        overrides, backend = self.drain_config(DRAIN_TIMEOUT_S)
        auth = self.auth()
        with self.gateway(overrides, backend) as gw:
            self.assertEqual(gw.admin("GET", "/readyz").status, 200)
            self.assertEqual(gw.http("GET", h.task_path(done.task), auth).status, 200)
            keep = gw.connection(timeout=20)  # a keep-alive client from before the signal
            self.assertEqual(gw.http("GET", h.task_path(done.task), auth, conn=keep).status, 200)
            flying = [Background(lambda t=t: gw.http("GET", h.task_path(t), auth, timeout=20))
                      for t in tasks]
            self.assertTrue(self.wait_upstream(tasks), "the slow requests never got upstream")

            t0 = time.monotonic()
            gw.proc.send_signal(signal.SIGTERM)
            ready = h.wait_for(lambda: gw.admin("GET", "/readyz", timeout=2).status == 503,
                               0.5, 0.01)
            t_ready = time.monotonic() - t0
            self.assertTrue(ready, "/readyz did not turn 503 within 0.5 s of SIGTERM")
            self.assertLess(t_ready, 0.5)

            # within the grace the port still takes new connections (a load balancer that
            # has not yet seen the 503 is still served)
            self.assertLess(time.monotonic() - t0, GRACE_S / 2)
            early = gw.http("GET", h.task_path(done.task), auth, timeout=5)
            self.assertEqual(early.status, 200)

            # after the grace: refused, /readyz still 503, the slow requests still running
            gone = h.wait_for(lambda: refused(gw.port), GRACE_S + 1.0, 0.05)
            t_refused = time.monotonic() - t0
            self.assertTrue(gone, "new connections still accepted %.2f s into the drain"
                            % t_refused)
            self.assertGreaterEqual(t_refused, GRACE_S * 0.8,
                                    "listeners closed before the grace")
            self.assertEqual(gw.admin("GET", "/readyz").status, 503)
            self.assertTrue(any(b.thread.is_alive() for b in flying),
                            "the slow requests finished before the listeners closed")
            # an established connection is still served, and told to close
            late = gw.http("GET", h.task_path(done.task), auth, conn=keep)
            self.assertEqual(late.status, 200)
            self.assertEqual(late.headers.get("connection", "").lower(), "close")
            keep.close()

            for b in flying:
                self.assertTrue(b.join(DRAIN_TIMEOUT_S + 2), "a client is still waiting")
            errors = [b.error for b in flying if b.error]
            self.assertEqual(errors, [])
            self.assertEqual([b.result.status for b in flying], [200] * N)
            for b in flying:
                self.assertEqual(b.result.json(), done.expected)

            gw.proc.wait(DRAIN_TIMEOUT_S + 2)
            elapsed = time.monotonic() - t0
        self.assertEqual(gw.returncode, 0)
        self.assertLess(elapsed, DRAIN_TIMEOUT_S, "exit took %.2f s" % elapsed)
        self.assertGreater(elapsed, SLOW_MS / 1000.0 - 0.5, "did not wait for the requests")
        statuses = [e["status"] for e in gw.access_log() if e.get("type") == "access"]
        self.assertEqual(statuses.count(200), N + 4, statuses)
        self.assertIn("draining", gw.stderr_text)

    def test_drain_timeout_bounds_requests_slower_than_it(self):
        timeout_s = 1.0
        self.mock.set_task("stuck", {"status": 200, "body": h.fixture("cis-running").expected,
                                     "delay_ms": 8000})
        overrides, backend = self.drain_config(timeout_s)
        auth = self.auth()
        with self.gateway(overrides, backend) as gw:
            stuck = Background(lambda: gw.http("GET", h.task_path("stuck"), auth, timeout=20))
            self.assertTrue(self.wait_upstream(["stuck"]))
            t0 = time.monotonic()
            gw.proc.send_signal(signal.SIGTERM)
            gw.proc.wait(timeout_s + 5)
            elapsed = time.monotonic() - t0
            stuck.join(5)
        self.assertEqual(gw.returncode, 0)
        self.assertLess(elapsed, timeout_s, "exit took %.2f s" % elapsed)
        self.assertIn("drain timeout", gw.stderr_text)
        # the cut-off client got no 200 (an error or a closed connection)
        self.assertFalse(stuck.result is not None and stuck.result.status == 200)

    def test_idle_gateway_exits_soon_after_the_grace(self):
        overrides, backend = self.drain_config(DRAIN_TIMEOUT_S)
        with self.gateway(overrides, backend) as gw:
            t0 = time.monotonic()
            gw.proc.send_signal(signal.SIGINT)
            gw.proc.wait(DRAIN_TIMEOUT_S + 2)
            elapsed = time.monotonic() - t0
        self.assertEqual(gw.returncode, 0)
        self.assertGreaterEqual(elapsed, GRACE_S * 0.8)
        self.assertLess(elapsed, GRACE_S + 1.0)


if __name__ == "__main__":
    h.unittest.main()
