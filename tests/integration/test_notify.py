"""sd_notify under a Type=notify service manager: the test binds the unix datagram socket
systemd would, names it in $NOTIFY_SOCKET, and reads what snapgate says: READY=1 once it
serves, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP reload, whatever its
outcome, and STOPPING=1 when SIGTERM starts the drain. Every message must come from the main
process (systemd's default NotifyAccess=main drops the others)."""

import os
import shutil
import signal
import socket
import threading
import struct
import tempfile
import time

import sg_harness as h


@h.requires_gateway
class TestSdNotify(h.GatewayTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="sg-notify-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.bind(self.path)
        # The kernel attaches the sender's pid to each datagram, as for systemd.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    def next_message(self, timeout=10.0):
        """(fields dict, sender pid) of the next datagram; fails after timeout."""
        self.sock.settimeout(timeout)
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            self.fail("no sd_notify message within %.0f s" % timeout)
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        return fields, pid

    def expect(self, main_pid, key):
        fields, pid = self.next_message()
        self.assertEqual(fields.get(key), "1", "expected %s=1, got %r" % (key, fields))
        self.assertEqual(pid, main_pid, "sent by another process than the main one")
        return fields

    def assertNoMessage(self, wait=0.3):
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return
        self.fail("unexpected sd_notify message %r" % data)

    def test_ready_reload_and_stop(self):
        gw = self.gateway(env={"NOTIFY_SOCKET": self.path})
        with gw:
            pid = gw.proc.pid
            self.expect(pid, "READY")
            # READY=1 means serving: the admin and client ports answer now.
            self.assertEqual(gw.admin("GET", "/readyz").status, 200)

            before = time.monotonic_ns() // 1000
            gw.proc.send_signal(signal.SIGHUP)
            fields = self.expect(pid, "RELOADING")
            usec = int(fields["MONOTONIC_USEC"])
            self.assertGreaterEqual(usec, before)
            self.assertLessEqual(usec, time.monotonic_ns() // 1000)
            self.expect(pid, "READY")

            # A file that no longer parses: refused, the old config serves, and the
            # manager still hears the reload end.
            with open(gw.config_path, "a", encoding="utf-8") as f:
                f.write("bogus_key: 1\n")
            gw.proc.send_signal(signal.SIGHUP)
            self.expect(pid, "RELOADING")
            self.expect(pid, "READY")
            self.assertEqual(gw.admin("GET", "/readyz").status, 200)
        # gw.stop() sent SIGTERM and saw exit 0
        self.expect(pid, "STOPPING")
        self.assertNoMessage()

    def test_sighup_during_drain_says_nothing_more(self):
        gw = self.gateway(env={"NOTIFY_SOCKET": self.path})
        gw.start()
        pid = gw.proc.pid
        try:
            self.expect(pid, "READY")
            # A slow request keeps the drain open while the SIGHUP arrives.
            self.mock.set_task("slow-task", {"status": 200, "body": h.fixture("cis-running").expected,
                                             "delay_ms": 1500})
            t = threading.Thread(target=gw.http, args=("GET", h.task_path("slow-task"),
                                                       self.auth()), daemon=True)
            t.start()
            time.sleep(0.3)
            gw.proc.send_signal(signal.SIGTERM)
            self.expect(pid, "STOPPING")
            gw.proc.send_signal(signal.SIGHUP)
            self.assertNoMessage(0.5)
            t.join(10)
        finally:
            gw.stop()

    def test_without_notify_socket_it_runs_as_before(self):
        with self.gateway() as gw:
            self.assertEqual(gw.admin("GET", "/readyz").status, 200)
        self.assertNoMessage()
