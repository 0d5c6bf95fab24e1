"""tasks.get over vAPI JSON-RPC (issue 13) for every API fixture, each served by a backend of
its own dialect as the dialect tests serve it: the output equals the fixture's committed
DataValue (tests/fixtures/jsonrpc/<case>.datavalue.json) after JSON parsing, the first call
is an X-Cache MISS and the second a HIT, and the REST answer for the same task (a HIT from
the same cache entry) encodes (encode.py) to that same DataValue. Upstream errors come back
as the vAPI standard error the REST body names, with the REST body's messages."""

import shutil
import unittest

import sg_harness as h
import sg_jsonrpc as rpc
# As a module: its DialectMockCase (the rest and snapservice dialects' mock in place of the
# cis one) is a base here, its tests are not to be collected again.
import test_dialect_rest_snapservice as rest_snapservice
from test_dialect_vijson import RELEASE as VIJSON_RELEASE
from test_dialect_vijson import ViJsonMock
from test_dialect_vim25 import SoapMock

PREFIXES = ("cis-", "rest-", "snapservice-", "vijson-", "vim25-")


def info_cases(prefix):
    return [c for c in h.fixture_cases(prefix) if h.fixture(c).expected is not None]


class FixtureChecks(rpc.RpcAssertions):
    """check_cases(gw, cases, auth): the three answers per case, compared."""

    def check_cases(self, gw, cases, auth, upstream_fetches=None):
        self.assertTrue(cases)
        for i, case in enumerate(cases):
            fx = h.fixture(case)
            with self.subTest(case=case):
                rid = str(i)
                miss = rpc.post(gw, rpc.task_get(fx.task, rpc.user_pass(*auth), rid))
                out = self.assertOutput(miss, rid)
                self.assertEqual(miss.headers.get("x-cache"), "MISS", case)
                self.assertEqual(out, rpc.datavalue(case),
                                 "%s: the output differs from %s.datavalue.json" % (case, case))
                hit = rpc.post(gw, rpc.task_get(fx.task, rpc.user_pass(*auth), rid + "h"))
                self.assertEqual(self.assertOutput(hit, rid + "h"), out, case)
                self.assertEqual(hit.headers.get("x-cache"), "HIT", case)
                rest = gw.http("GET", h.task_path(fx.task),
                               {"Authorization": h.basic(*auth)})
                self.assertEqual(rest.status, 200, rest.body[:300])
                self.assertEqual(rest.headers.get("x-cache"), "HIT",
                                 "%s: REST and JSON-RPC do not share the cache entry" % case)
                self.assertEqual(rpc.encode.info(rest.json()), out,
                                 "%s: the REST Info encodes to another DataValue" % case)
                if upstream_fetches is not None:
                    self.assertEqual(upstream_fetches(fx.task), 1, case)


class TestFixtureSet(unittest.TestCase):
    def test_every_datavalue_fixture_is_served_by_one_dialect_class(self):
        covered = sorted(c for p in PREFIXES for c in info_cases(p))
        self.assertEqual(covered, rpc.datavalue_cases())
        self.assertEqual(len(covered), 21)


@h.requires_gateway
class TestFixturesCis(h.GatewayTestCase, FixtureChecks):
    def test_cis_fixtures(self):
        alice = ("alice", self.USERS["alice"])
        with self.gateway() as gw:
            self.check_cases(gw, info_cases("cis-"), alice,
                             lambda t: self.mock.stats()["tasks"].get(t, 0))

    def test_unknown_task_is_not_found_with_the_rest_messages(self):
        alice = ("alice", self.USERS["alice"])
        with self.gateway() as gw:
            r = rpc.post(gw, rpc.task_get("no-such-task", rpc.user_pass(*alice), "7"))
            fields = self.assertVapiError(r, "not_found", "7")
            rest = gw.http("GET", h.task_path("no-such-task"), self.auth())
        self.assertError(rest, 404, "NOT_FOUND")
        self.assertEqual(r.json()["result"]["error"], rpc.encode.error(rest.json()))
        self.assertEqual(fields["data"], {"OPTIONAL": None})
        self.assertEqual(self.mock.stats()["tasks"]["no-such-task"], 1)

    def test_upstream_errors_are_the_rest_error_in_vapi_form(self):
        self.mock.set_task("t503", {"status": 503})
        self.mock.set_task("t403", {"status": 403})
        self.mock.set_task("tgarbage", {"status": 200, "action": "garbage"})
        cases = {"t503": ("service_unavailable", 503), "t403": ("unauthorized", 403),
                 "tgarbage": ("error", 500)}
        with self.gateway() as gw:
            for task, (name, status) in cases.items():
                with self.subTest(task=task):
                    r = rpc.post(gw, rpc.task_get(task, self.alice_ctx()))
                    self.assertVapiError(r, name)
                    rest = gw.http("GET", h.task_path(task), self.auth())
                    self.assertError(rest, status, name.upper())
                    self.assertEqual(r.json()["result"]["error"], rpc.encode.error(rest.json()))

    def test_a_rest_miss_is_a_json_rpc_hit(self):
        fx = h.fixture("cis-failed")
        with self.gateway() as gw:
            rest = gw.http("GET", h.task_path(fx.task), self.auth())
            self.assertEqual((rest.status, rest.headers.get("x-cache")), (200, "MISS"))
            r = rpc.post(gw, rpc.task_get(fx.task, self.alice_ctx()))
        self.assertEqual(r.headers.get("x-cache"), "HIT")
        self.assertEqual(self.assertOutput(r), rpc.datavalue("cis-failed"))
        self.assertEqual(self.mock.stats()["tasks"][fx.task], 1)

    def alice_ctx(self):
        return rpc.user_pass("alice", self.USERS["alice"])


@h.requires_gateway
class TestFixturesRestSnapservice(rest_snapservice.DialectMockCase, FixtureChecks):
    def test_rest_fixtures(self):
        with self.gateway(backend={"dialect": "rest"}) as gw:
            self.check_cases(gw, info_cases("rest-"), ("alice", self.USERS["alice"]),
                             lambda t: self.mock.stats()["tasks"].get(t, 0))

    def test_snapservice_fixtures(self):
        with self.gateway(backend={"dialect": "snapservice"}) as gw:
            self.check_cases(gw, info_cases("snapservice-"), ("alice", self.USERS["alice"]),
                             lambda t: self.mock.stats()["tasks"].get(t, 0))


@h.requires_gateway
class TestFixturesViJsonVim25(unittest.TestCase, FixtureChecks):
    ALICE = ("alice", "wonderland-7")

    def setUp(self):
        self.tmp = rpc.tmpdir()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.users_file = h.make_users_file(dict([self.ALICE]), self.tmp)

    def config(self, url, dialect, user, password, **backend):
        pw_file = h.write_file(self.tmp, "svc-" + dialect, password)
        be = dict({"name": "vc1", "url": url, "dialect": dialect,
                   "credentials": {"username": user, "password_file": pw_file},
                   "timeouts": {"connect": "2s", "request": "5s"}}, **backend)
        return {"workers": 1, "log": {"level": "debug"},
                "auth": {"providers": [{"type": "basic", "users_file": self.users_file}]},
                "backends": [be]}

    def check_mock(self, mock, dialect, user, password, fetches, **backend):
        """Every <dialect>- case scripted on mock (stopped at cleanup), checked through a
        gateway on it; fetches(task) counts the mock's fetches of task."""
        self.addCleanup(mock.stop)
        cases = info_cases(dialect + "-")
        for c in cases:
            mock.scripts[h.fixture(c).task] = [c]
        with h.Gateway(self.config(mock.url, dialect, user, password, **backend)) as gw:
            self.check_cases(gw, cases, self.ALICE, fetches)

    def test_vijson_fixtures(self):
        mock = ViJsonMock("svc@vsphere.local", "vijson-pw")

        def fetches(task):
            return sum(1 for r in mock.task_requests() if "/Task/%s/" % task in r[1])

        self.check_mock(mock, "vijson", "svc@vsphere.local", "vijson-pw", fetches,
                        release=VIJSON_RELEASE)

    def test_vim25_fixtures(self):
        mock = SoapMock("svc", "vim25-pw")

        def fetches(task):
            return sum(1 for r in mock.task_requests() if ">%s</obj>" % task in r["body"])

        self.check_mock(mock, "vim25", "svc", "vim25-pw", fetches)


if __name__ == "__main__":
    unittest.main()
