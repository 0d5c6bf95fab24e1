#!/usr/bin/env python3
"""Idle keep-alive connections and what they cost a server (issue 14).

Opens --conns connections to 127.0.0.1:--port, sends each one GET of --path
with keep-alive and reads its whole answer, then leaves them all open and
idle. Prints one JSON object with the server's resident memory (VmRSS of
--pid, and of its threads' process) before and after, and the difference per
connection. The connections close when the script exits (after --hold s).

    python3 tests/bench/idle_conns.py --pid $(pidof snapgate) --port 8080 \
        --conns 10000 --auth "Basic ..." --path /api/snapservice/tasks/task-1

Raise the open-files limit first (ulimit -n 65536) for this shell and the
server's; the server's max_connections must be above --conns.
"""
import argparse
import json
import resource
import selectors
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_answer(sock):
    """Reads one HTTP answer with a Content-Length; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--path", default="/api/snapservice/tasks/task-1")
    ap.add_argument("--auth", default="")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading RSS")
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep them open after")
    args = ap.parse_args()
    if not 1 <= args.conns <= 100000:
        sys.exit("--conns: 1 to 100000")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.conns + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.conns + 1024), hard))

    request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if args.auth:
        request += f"Authorization: {args.auth}\r\n"
    request = (request + "\r\n").encode()

    before = rss_kib(args.pid)
    socks, statuses = [], {}
    for _ in range(args.conns):
        s = socket.create_connection(("127.0.0.1", args.port))
        s.sendall(request)
        st = read_answer(s)
        statuses[st] = statuses.get(st, 0) + 1
        socks.append(s)
    time.sleep(args.settle)
    # Every connection must still be open: a server that dropped them would
    # look cheap. A closed one reads EOF at once.
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = sum(1 for _ in sel.select(timeout=0))
    after = rss_kib(args.pid)
    out = {
        "conns": args.conns,
        "statuses": statuses,
        "closed_by_server": closed,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_added_mib": round((after - before) / 1024, 1),
        "bytes_per_conn": round((after - before) * 1024 / args.conns),
    }
    print(json.dumps(out))
    time.sleep(args.hold)
    for s in socks:
        s.close()
    return 0 if closed == 0 and list(statuses) == [200] else 1


if __name__ == "__main__":
    sys.exit(main())
