"""Self-tests of the shared-tier pieces of sg_harness (no gateway needed): the private
redis-server, the RESP client, the metrics parser. A missing redis-server fails them."""

import os
import socket
import unittest

import sg_harness as h


class TestRedisServer(unittest.TestCase):
    def setUp(self):
        h.require_redis_server()

    def test_set_get_ttl_and_keys(self):
        with h.RedisServer() as r:
            self.assertEqual(r.url, "redis://127.0.0.1:%d/0" % r.port)
            self.assertEqual(r.cli("SET", "snapgate:v3:task:a", b"\x00body\r\n", "PX", 5000),
                             "OK")
            self.assertEqual(r.get("snapgate:v3:task:a"), b"\x00body\r\n")
            self.assertTrue(4000 < r.ttl_ms("snapgate:v3:task:a") <= 5000)
            self.assertEqual(r.ttl_ms("nope"), -2)
            self.assertIsNone(r.get("nope"))
            self.assertEqual(r.keys("snapgate:*"), ["snapgate:v3:task:a"])
            r.cli("HSET", "hk", "f", "v")
            self.assertEqual(r.value("hk"), {"f": b"v"})
            with self.assertRaises(h.RedisError):
                r.cli("NOSUCHCOMMAND")

    def test_kill_and_restart_on_the_same_port(self):
        with h.RedisServer() as r:
            port = r.port
            r.cli("SET", "k", "v")
            r.kill()
            self.assertFalse(r.running)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            r.start()
            self.assertEqual((r.port, r.get("k")), (port, None))  # no persistence

    def test_password_and_unix_socket(self):
        with h.RedisServer(password="p@ss/word", unix_socket=True) as r:
            self.assertTrue(os.path.exists(r.unix_socket))
            self.assertEqual(r.url, "unix://%s?db=0" % r.unix_socket)
            self.assertEqual(r.cli("PING"), "PONG")
            with h.RespClient("127.0.0.1", r.port) as anon:
                with self.assertRaises(h.RedisError):
                    anon.call("GET", "x")
        with h.RedisServer(password="p@ss/word") as r:
            self.assertEqual(r.url, "redis://:p%%40ss%%2Fword@127.0.0.1:%d/0" % r.port)

    def test_info_counts_commands(self):
        with h.RedisServer() as r:
            before = r.command_calls().get("get", 0)
            for _ in range(3):
                r.get("x")
            self.assertEqual(r.command_calls()["get"] - before, 3)
            self.assertIsInstance(r.info("stats")["total_commands_processed"], int)


class TestMetricsParser(unittest.TestCase):
    TEXT = ('# HELP snapgate_x X.\n# TYPE snapgate_x counter\n'
            'snapgate_cache_lookups_total{result="hit",worker="0"} 3\n'
            'snapgate_cache_lookups_total{result="hit",worker="1"} 4\n'
            'snapgate_cache_lookups_total{result="bypass"} 0\n'
            'snapgate_redis_circuit_open 1\n')

    def test_sums_over_other_labels(self):
        s = h.parse_metrics(self.TEXT)
        self.assertEqual(h.metric_value(s, "snapgate_cache_lookups_total", result="hit"), 7)
        self.assertEqual(h.metric_value(s, "snapgate_cache_lookups_total", result="bypass"), 0)
        self.assertIsNone(h.metric_value(s, "snapgate_cache_lookups_total", result="stale"))
        self.assertEqual(h.metric_value(s, "snapgate_redis_circuit_open"), 1)

    def test_rejects_a_broken_line(self):
        with self.assertRaises(AssertionError):
            h.parse_metrics("snapgate_x{a=\"b\" 1 2 3\n")


if __name__ == "__main__":
    unittest.main()
