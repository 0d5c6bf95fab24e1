"""SIGHUP reload under load: a new cache.ttl.running and log.level take effect without a
failed request; a broken file changes nothing, is logged and counted as a failure."""

import json
import signal
import threading
import time

import sg_harness as h

RUNNING = "cis-running"


class Poller:
    """Polls one task in a loop on its own keep-alive connection until stopped; keeps
    (time, status, max-age, X-Cache) of every answer and any exception."""

    def __init__(self, gw, path, headers, interval=0.03):
        self.gw, self.path, self.headers, self.interval = gw, path, headers, interval
        self.answers, self.errors = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        conn = self.gw.connection(timeout=10)
        try:
            while not self._stop.is_set():
                try:
                    r = self.gw.http("GET", self.path, self.headers, conn=conn)
                except Exception as e:  # noqa: B902 - a failed request is what we count
                    self.errors.append(repr(e))
                    conn.close()
                    conn = self.gw.connection(timeout=10)
                    continue
                cc = r.headers.get("cache-control", "")
                age = int(cc.rpartition("max-age=")[2]) if "max-age=" in cc else None
                self.answers.append((time.monotonic(), r.status, age, r.headers.get("x-cache")))
                time.sleep(self.interval)
        finally:
            conn.close()

    def stop(self):
        self._stop.set()
        self._thread.join(15)

    def since(self, t):
        return [a for a in self.answers if a[0] >= t]


@h.requires_gateway
class TestReload(h.GatewayTestCase):
    def cfg(self, gw, running="1s", level="info", backend=None, **extra):
        """The gateway's config with the given running TTL and log level, on its ports."""
        cfg = self.config(h.merge({"log": {"level": level},
                                   "cache": {"ttl": {"running": running}}}, extra), backend)
        cfg["listen"] = "127.0.0.1:%d" % gw.port
        cfg["admin_listen"] = "127.0.0.1:%d" % gw.admin_port
        return cfg

    def rewrite(self, gw, text):
        with open(gw.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def reloads(self, gw):
        s = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
        return (h.metric_value(s, "snapgate_config_reloads_total", result="ok") or 0,
                h.metric_value(s, "snapgate_config_reloads_total", result="failed") or 0)

    def hup(self, gw, expect):
        """SIGHUP and wait until the reload counters reach expect (ok, failed)."""
        gw.proc.send_signal(signal.SIGHUP)
        self.assertTrue(h.wait_for(lambda: self.reloads(gw) == expect, 3, 0.05),
                        "reload counters %r, expected %r" % (self.reloads(gw), expect))

    def bad_id(self, gw, rid):
        """A request whose only log line is at debug level (a malformed task id)."""
        r = gw.http("GET", h.TASKS_PATH + "bad%20id", dict(self.auth(), **{"X-Request-Id": rid}))
        self.assertEqual(r.status, 400)

    def stderr_lines(self, gw):
        return [json.loads(line) for line in gw.stderr_text.splitlines() if line.startswith("{")]

    def fetches(self):
        return self.mock.stats()["tasks"].get(h.fixture(RUNNING).task, 0)

    def test_new_ttl_and_log_level_apply_without_a_failed_request(self):
        fx = h.fixture(RUNNING)
        gw = self.gateway({"log": {"level": "info"}}).start()
        try:
            self.bad_id(gw, "rid-before")
            poller = Poller(gw, h.task_path(fx.task), self.auth())
            time.sleep(1.5)  # the 1 s TTL: several refetches
            fetches_old_ttl = self.fetches()
            self.assertGreaterEqual(fetches_old_ttl, 2)

            self.rewrite(gw, h.to_yaml(self.cfg(gw, running="30s", level="debug")))
            t_reload = time.monotonic()
            self.hup(gw, (1, 0))
            self.bad_id(gw, "rid-after")
            # the entry cached under the old TTL expires within 1 s; the next one lives 30 s
            self.assertTrue(h.wait_for(
                lambda: any(a[2] is not None and a[2] > 5 for a in poller.since(t_reload)),
                3, 0.05), "no answer with the new max-age after the reload")
            settled = self.fetches()
            time.sleep(1.5)
            poller.stop()
            refetched = self.fetches() - settled
        finally:
            gw.stop()
        self.assertEqual(poller.errors, [])
        self.assertGreater(len(poller.answers), 20)
        self.assertEqual({a[1] for a in poller.answers}, {200}, "a request failed")
        self.assertTrue(all(a[2] is not None and a[2] <= 1
                            for a in poller.answers if a[0] < t_reload))
        self.assertEqual(refetched, 0, "still refetched at the old TTL after the reload")
        lines = self.stderr_lines(gw)
        debug_ids = {e.get("request_id") for e in lines if e.get("level") == "debug"}
        self.assertIn("rid-after", debug_ids)
        self.assertNotIn("rid-before", debug_ids)
        self.assertTrue(any(e.get("module") == "config" and "reloaded" in e.get("msg", "")
                            for e in lines), lines)

    BROKEN = {
        "unknown key": lambda self, gw: h.to_yaml(self.cfg(gw, "30s", "debug", bogus=1)),
        "bad duration": lambda self, gw: h.to_yaml(self.cfg(gw, "30 parsecs", "debug")),
        "not YAML": lambda self, gw: "log: {level: debug\ncache: [\n",
        "missing users file": lambda self, gw: h.to_yaml(self.cfg(
            gw, "30s", "debug",
            auth={"providers": [{"type": "basic", "users_file": "/nonexistent/users"}]})),
        # valid, but the number of workers is fixed for the process: refused, counted
        "workers changed": lambda self, gw: h.to_yaml(self.cfg(gw, "30s", "debug", workers=3)),
    }

    def test_a_broken_file_changes_nothing_and_counts_a_failure(self):
        fx = h.fixture(RUNNING)
        gw = self.gateway({"log": {"level": "info"}}).start()
        try:
            poller = Poller(gw, h.task_path(fx.task), self.auth())
            with open(gw.config_path, encoding="utf-8") as f:
                good = f.read()
            for n, (why, make) in enumerate(self.BROKEN.items(), 1):
                with self.subTest(why=why):
                    self.rewrite(gw, make(self, gw))
                    t = time.monotonic()
                    self.hup(gw, (0, n))
                    self.bad_id(gw, "rid-broken-%d" % n)
                    before = self.fetches()
                    time.sleep(1.3)  # the old 1 s TTL still rules: at least one refetch
                    self.assertGreaterEqual(self.fetches() - before, 1, "the TTL changed")
                    self.assertTrue(all(a[2] is not None and a[2] <= 1
                                        for a in poller.since(t)))
            # the same gateway still takes a good file afterwards
            self.rewrite(gw, good)
            self.hup(gw, (1, len(self.BROKEN)))
            poller.stop()
            self.assertEqual(gw.http("GET", h.task_path(fx.task), self.auth()).status, 200)
        finally:
            gw.stop()
        self.assertEqual(poller.errors, [])
        self.assertEqual({a[1] for a in poller.answers}, {200})
        lines = self.stderr_lines(gw)
        self.assertFalse([e for e in lines if e.get("level") == "debug"],
                         "the log level changed")
        failures = [e for e in lines if e.get("module") == "config" and e.get("level") == "error"
                    and ("reload failed" in e.get("msg", "") or "reload refused" in e["msg"])]
        self.assertEqual(len(failures), len(self.BROKEN), lines)
        self.assertTrue(any("workers changed" in e["msg"] for e in failures), failures)


if __name__ == "__main__":
    h.unittest.main()
