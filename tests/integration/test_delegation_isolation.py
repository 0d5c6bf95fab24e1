"""Delegated answers never cross backends (issue 10, item 2).

Fan-out over vc1 (the `vcenter` provider delegates alice to it; it has no task T) and vc2
(a service-account backend that has T). A service-account caller (Bearer token) and alice
poll the same ids in interleaved order. Before the fix a delegated fetch was stored under the
shared key with its backend as owner, and a 404 from vc1 marked alice ALLOWED:
  - alice got vc2's T as a 200 HIT after the service-account caller fetched it;
  - alice's 404 for T was then served as a 404 HIT to the service-account caller;
  - T's owner was remembered as vc1.
Every answer a caller gets must come from a backend that vouches for that caller."""

import hashlib

import mock_vcenter
import sg_harness as h
from test_auth_vcenter import DelegationTestCase

TOKEN = "svc-reader-token-5f1e2d"


@h.requires_gateway
class TestDelegationIsolation(DelegationTestCase):

    def setUp(self):
        super().setUp()
        self.fx = h.fixture("cis-running")
        self.vc2 = mock_vcenter.MockVCenter(user=self.SVC_USER, password=self.SVC_PASSWORD)
        self.vc2.start()
        self.addCleanup(self.vc2.stop)
        self.vc2.set_task("t-on-vc2", {"status": 200, "body": self.fx.expected})
        self.mock.set_task("t-on-vc1", {"status": 200, "body": self.fx.expected})
        tokens = h.write_file(self.tmp, "tokens", "reader:sha256:%s\n"
                              % hashlib.sha256(TOKEN.encode()).hexdigest())
        cfg = self.delegated_config({
            "auth": {"providers": [{"type": "vcenter", "backend": "vc1"},
                                   {"type": "bearer", "tokens_file": tokens}]},
            "cache": {"ttl": {"running": "30s", "not_found": "30s"}},
        })
        cfg["backends"].append({"name": "vc2", "url": self.vc2.url, "dialect": "cis",
                                "credentials": {"username": self.SVC_USER,
                                                "password_file": self.password_file}})
        self.cfg = cfg
        self.reader = {"Authorization": "Bearer " + TOKEN}

    def test_alice_never_reads_what_only_vc2_has(self):
        with h.Gateway(self.cfg) as gw:
            r = self.get(gw, "t-on-vc2", self.reader)                      # vc2 answers, cached
            self.assertEqual((r.status, r.json()), (200, self.fx.expected))
            for _ in range(3):
                a = self.get(gw, "t-on-vc2", self.auth("alice"))
                self.assertEqual(a.status, 404, "alice read vc2's task: %s" % a.body[:200])
            # and the reader still gets vc2's answer, not alice's 404
            r = self.get(gw, "t-on-vc2", self.reader)
            self.assertEqual((r.status, r.headers.get("x-cache")), (200, "HIT"))
        self.assertEqual(self.vc2.stats()["tasks"], {"t-on-vc2": 1})

    def test_alices_404_is_never_served_to_the_reader(self):
        with h.Gateway(self.cfg) as gw:
            for _ in range(3):
                a = self.get(gw, "t-on-vc2", self.auth("alice"))           # vc1: 404 for alice
                self.assertEqual(a.status, 404)
            r = self.get(gw, "t-on-vc2", self.reader)
            self.assertEqual((r.status, r.json()), (200, self.fx.expected))
            self.assertEqual(r.headers.get("x-cache"), "MISS")
            # alice's own 404 is remembered for her (ttl.not_found): vc1 asked once
            self.assertEqual(self.fetches_by("alice", "t-on-vc2"), 1)
        self.assertEqual(self.vc2.stats()["tasks"], {"t-on-vc2": 1})

    def test_a_404_is_not_a_permission(self):
        """alice's 404 from vc1 must not let her read an entry vc1 later stores for bob."""
        with h.Gateway(self.cfg) as gw:
            self.mock.set_task("t-late", {"status": 404})
            self.assertEqual(self.get(gw, "t-late", self.auth("alice")).status, 404)
            self.mock.set_task("t-late", {"status": 200, "body": self.fx.expected})
            b = self.get(gw, "t-late", self.auth("bob"))
            self.assertEqual((b.status, b.json()), (200, self.fx.expected))
            # alice is answered from what vc1 told her (404, remembered), not bob's entry
            a = self.get(gw, "t-late", self.auth("alice"))
            self.assertEqual(a.status, 404, a.body[:200])

    def test_same_task_on_both_backends_each_caller_sees_its_own(self):
        self.vc2.set_task("t-both", {"status": 200, "body": self.fx.expected})
        self.mock.set_task("t-both", {"status": 200, "body": h.fixture("cis-succeeded").expected})
        with h.Gateway(self.cfg) as gw:
            for who in ("reader", "alice", "reader", "alice"):
                hdr = self.reader if who == "reader" else self.auth("alice")
                r = self.get(gw, "t-both", hdr)
                self.assertEqual(r.status, 200)
                if who == "alice":
                    self.assertEqual(r.json(), h.fixture("cis-succeeded").expected,
                                     "alice must see vc1's task")
        self.assertEqual(self.vc2.stats()["task_requests_by_user"].get("alice", {}), {})


if __name__ == "__main__":
    h.unittest.main()
