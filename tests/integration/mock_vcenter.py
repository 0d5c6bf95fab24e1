#!/usr/bin/env python3
"""A scriptable fake vCenter (`cis` dialect) for the snapgate integration tests.

It plays the faults a real vCenter cannot be made to produce on demand: any status with
the flat vAPI standard error body, delays, connections closed without an answer, bodies cut
off in the middle, answers that change from one request to the next, sessions that expire.
Python 3 standard library only.

Served API (HTTP/1.1, keep-alive, Content-Length on every answer):
  POST   /api/session            Basic user/password of the service account or of one of the
                                 configured users, or `SIGN token="<text>"` (also unquoted, extra
                                 parameters ignored) of a registered SIGN token
                                 -> 201 "<session id>"; else 401
  GET    /api/session            vmware-api-session-id -> 200
                                 {"user", "created_time", "last_accessed_time"}: the user the
                                 session was opened for
  DELETE /api/session            -> 204 (401 for an unknown session); counted per session id
  GET    /api/cis/tasks/{id}     needs a valid session (else 401); a user the task's ACL refuses
                                 -> 403 UNAUTHORIZED; else answers from the task's script;
                                 unknown task -> 404 NOT_FOUND. {id} is one percent-decoded segment.

Control API on the same port (JSON; never counted in the stats):
  POST   /_mock/tasks/{id}       set the task's script (body: an answer or {"sequence": [answers]},
                                 optionally with "deny": [users] and/or "allow": [users], the
                                 task's ACL; a body with only deny/allow changes only the ACL and
                                 keeps the script, e.g. a seeded fixture's)
  DELETE /_mock/tasks/{id}       forget the task
  GET    /_mock/tasks            {"tasks": [ids]}
  POST   /_mock/reset            stats, sessions, tasks (back to the fixture seed) and config reset
  POST   /_mock/reset-stats      only the counters and the request list
  GET    /_mock/stats            counters and the request list (see MockVCenter.stats)
  POST   /_mock/expire-sessions  invalidate every session: the next task call gets 401
  POST   /_mock/config           {"delay_ms", "user", "password", "login_status", "login_delay_ms",
                                 "users": {name: password}} (users: callers besides the service
                                 account "user"; replaces the previous set)
  POST   /_mock/sign-tokens      {"<token text>": "<user>", ...}: SIGN credentials POST /api/session
                                 accepts (added to the registered ones; reset forgets them)

ACL of a task: "deny" users get 403 UNAUTHORIZED; with "allow", every user not in it does too
(the service account included: it is a user like the others). Checked before the script, so a
refused request consumes no answer of a sequence.

An answer (one element of a script):
  {"status": 200, "body": <JSON value>}     body serialized as JSON (default for errors: the
                                           standard error body of the status)
  {"status": 200, "raw": "<text>"}          body sent byte for byte
  {"delay_ms": 400, ...}                    sleep before answering (else the config's delay_ms)
  {"action": "close"}                       close the connection without answering
  {"action": "garbage"}                     200 with a truncated JSON body ("raw" overrides it)
  {"headers": {"Name": "value"}}            extra response headers
A sequence is consumed one answer per request; its last answer repeats once it is used up.

As a program:
  python3 mock_vcenter.py --listen 127.0.0.1:0 --user svc --password secret [--fixtures DIR]
                          [--delay-ms N] [--print-port] [--verbose]
prints MOCK_PORT=<port> (with --print-port) once listening, serves until SIGTERM/SIGINT.
"""

import argparse
import base64
import binascii
import copy
import datetime
import glob
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TASKS_PREFIX = "/api/cis/tasks/"
CONTROL_PREFIX = "/_mock/"
SESSION_HEADER = "vmware-api-session-id"
# token="quoted" or token=bare among the parameters of `Authorization: SIGN ...`
SIGN_TOKEN_PARAM = re.compile(r'(?:^|[,\s])token\s*=\s*(?:"([^"]*)"|([^,\s]+))', re.I)

# status -> (error_type, message id, default message) of the flat vAPI standard error body
STD_ERRORS = {
    400: ("INVALID_ARGUMENT", "com.vmware.vapi.std.errors.invalid_argument", "Invalid argument."),
    401: ("UNAUTHENTICATED", "com.vmware.vapi.endpoint.method.authentication.required",
          "Authentication required."),
    403: ("UNAUTHORIZED", "vapi.security.authorization.invalid", "Unable to authorize user"),
    404: ("NOT_FOUND", "com.vmware.cis.tasks.not_found", "Task {0} was not found."),
    405: ("INVALID_REQUEST", "com.vmware.vapi.rest.httpNotAllowed", "Method not allowed."),
    500: ("ERROR", "com.vmware.vapi.std.errors.error", "An internal error occurred."),
    503: ("SERVICE_UNAVAILABLE", "com.vmware.vapi.std.errors.service_unavailable",
          "The service is unavailable."),
}
# What "garbage" sends when the script gives no raw body: valid HTTP, JSON cut off mid-string.
GARBAGE_BODY = ('{"description":{"id":"com.vmware.esx.settings.clusters.software.apply",'
                '"default_message":"Remediate cluster","args":[]},"status":"RUNN')


def std_error_body(status, args=None):
    """The flat vAPI standard error body for an HTTP status, as a dict."""
    etype, mid, msg = STD_ERRORS.get(status, STD_ERRORS[500])
    return {"error_type": etype,
            "messages": [{"id": mid, "default_message": msg, "args": list(args or [])}]}


def _iso_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def load_fixture_scripts(fixtures_dir):
    """Scripts for every cis-*.upstream.json in fixtures_dir, keyed by the meta's task id.

    The upstream body is served byte for byte with the meta's upstream_http_status; a body
    that does not parse as JSON (cis-garbage) becomes a "garbage" answer with that body."""
    scripts = {}
    for meta_path in sorted(glob.glob(os.path.join(fixtures_dir, "cis-*.meta.json"))):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        up_path = meta_path[:-len(".meta.json")] + ".upstream.json"
        if not os.path.exists(up_path):
            continue
        with open(up_path, encoding="utf-8") as f:
            raw = f.read()
        status = int(meta.get("upstream_http_status", 200))
        try:
            json.loads(raw)
            scripts[meta["task"]] = {"status": status, "raw": raw}
        except ValueError:
            scripts[meta["task"]] = {"status": status, "action": "garbage", "raw": raw}
    return scripts


def _check_users(users):
    """{name: password} with string names and passwords; returns a copy."""
    if not isinstance(users, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in users.items()):
        raise ValueError('users must be {"name": "password"}')
    return dict(users)


def _check_acl(deny, allow):
    """A task ACL {"deny": set, "allow": set or None} from two optional lists of users."""
    for name, v in (("deny", deny), ("allow", allow)):
        if v is not None and (not isinstance(v, list)
                              or not all(isinstance(u, str) and u for u in v)):
            raise ValueError("%s must be a list of user names" % name)
    return {"deny": set(deny or ()), "allow": None if allow is None else set(allow)}


def _check_answer(ans):
    if not isinstance(ans, dict):
        raise ValueError("an answer must be a JSON object")
    unknown = set(ans) - {"status", "body", "raw", "delay_ms", "action", "headers"}
    if unknown:
        raise ValueError("unknown answer keys: %s" % ", ".join(sorted(unknown)))
    if ans.get("action") not in (None, "close", "garbage"):
        raise ValueError("action must be close or garbage")
    if "status" in ans and not isinstance(ans["status"], int):
        raise ValueError("status must be an integer")
    if "raw" in ans and not isinstance(ans["raw"], str):
        raise ValueError("raw must be a string")


def normalize_script(script):
    """Validate a script and return it as a list of answers (a copy)."""
    if isinstance(script, dict) and "sequence" in script:
        seq = script["sequence"]
        if set(script) != {"sequence"} or not isinstance(seq, list) or not seq:
            raise ValueError("a sequence script is {\"sequence\": [answer, ...]} (not empty)")
    else:
        seq = [script]
    for ans in seq:
        _check_answer(ans)
    return copy.deepcopy(seq)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False      # stop() must not wait for a handler sleeping in a delay
    allow_reuse_address = True
    request_queue_size = 128    # bursts of parallel connections in the tests


class MockVCenter:
    """The fake vCenter. start() serves from a background thread; stop() ends it and closes
    every open connection (so a stopped mock looks like a dead backend, even to pooled
    keep-alive connections). Every method is thread-safe."""

    def __init__(self, host="127.0.0.1", port=0, user="svc", password="secret",
                 fixtures_dir=None, delay_ms=0, verbose=False, users=None):
        self.host = host
        self._want_port = port
        self.verbose = verbose
        self._lock = threading.Lock()
        self._initial_config = {"delay_ms": int(delay_ms), "user": user, "password": password,
                                "login_status": None, "login_delay_ms": 0,
                                "users": _check_users(users or {})}
        self._seed = load_fixture_scripts(fixtures_dir) if fixtures_dir else {}
        self._server = None
        self._thread = None
        self._port = None
        self._conns = set()
        self._conn_seq = 0
        self.reset()

    # ---- lifecycle -------------------------------------------------------------------
    def start(self):
        """Bind and serve in a daemon thread; returns self (so `MockVCenter().start()`)."""
        self._server = _Server((self.host, self._want_port), _Handler)
        self._server.mock = self
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="mock-vcenter", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self):
        """The bound port (still known after stop(), so a test can aim at a dead backend)."""
        return self._port

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def stop(self):
        """Stop serving and close every connection; idempotent."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- control (also reachable over HTTP under /_mock/) ------------------------------
    def reset(self):
        """Back to the start: seeded tasks, no sessions, zero counters, initial config."""
        with self._lock:
            self._config = copy.deepcopy(self._initial_config)
            self._tasks = {tid: normalize_script(s) for tid, s in self._seed.items()}
            self._task_pos = {}
            self._acl = {}
            self._sessions = {}
            self._sign_tokens = {}
            self._reset_stats_locked()

    def reset_stats(self):
        with self._lock:
            self._reset_stats_locked()

    def _reset_stats_locked(self):
        self._paths = {}
        self._method_paths = {}
        self._task_counts = {}
        self._logins = 0
        self._login_attempts = 0
        self._login_failures = 0
        self._logins_by_user = {}
        self._sessions_issued = []
        self._session_checks = 0
        self._session_checks_by_user = {}
        self._session_deletes = {}
        self._task_requests_by_user = {}
        self._requests = []

    def set_task(self, task_id, script):
        """Set the script of a task (an answer dict or {"sequence": [...]}); restarts it.
        Top-level "deny"/"allow" lists set its ACL (absent: no restriction); a script of
        only those keys changes only the ACL and keeps the current script."""
        acl = None
        if isinstance(script, dict) and set(script) & {"deny", "allow"}:
            script = dict(script)
            acl = _check_acl(script.pop("deny", None), script.pop("allow", None))
            if not script:
                with self._lock:
                    self._acl[task_id] = acl
                return
        seq = normalize_script(script)
        with self._lock:
            self._tasks[task_id] = seq
            self._task_pos.pop(task_id, None)
            if acl is None:
                self._acl.pop(task_id, None)
            else:
                self._acl[task_id] = acl

    def set_acl(self, task_id, deny=None, allow=None):
        """Only the task's ACL: deny users get 403; with allow, only those users pass.
        set_acl(task) with neither lifts every restriction."""
        acl = _check_acl(deny, allow)
        with self._lock:
            self._acl[task_id] = acl

    def add_sign_tokens(self, mapping):
        """Register SIGN credentials {token text: user}; POST /api/session with
        `Authorization: SIGN token="<text>"` then opens a session for that user. Returns how
        many tokens are registered."""
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and k and isinstance(v, str) and v
                for k, v in mapping.items()):
            raise ValueError('sign tokens are {"<token text>": "<user>"}')
        with self._lock:
            self._sign_tokens.update(mapping)
            return len(self._sign_tokens)

    def delete_task(self, task_id):
        with self._lock:
            self._tasks.pop(task_id, None)
            self._task_pos.pop(task_id, None)
            self._acl.pop(task_id, None)

    def task_ids(self):
        with self._lock:
            return sorted(self._tasks)

    def expire_sessions(self):
        """Invalidate every session; returns how many there were."""
        with self._lock:
            n = len(self._sessions)
            self._sessions.clear()
            return n

    def configure(self, **kw):
        """Change delay_ms, user, password, login_status (None: normal logins; an int: every
        login answers that status), login_delay_ms, users ({name: password}: callers besides
        the service account; replaces the previous set). Returns the whole config."""
        unknown = set(kw) - set(self._initial_config)
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        if "users" in kw:
            kw["users"] = _check_users(kw["users"])
        with self._lock:
            self._config.update(kw)
            return copy.deepcopy(self._config)

    def stats(self):
        """A snapshot:
        requests_total   requests outside /_mock/
        paths            {raw path: count}; method_paths {"GET /raw/path": count}
        tasks            {decoded task id: GET /api/cis/tasks/{id} count, whatever the answer}
        logins, login_attempts, login_failures, sessions_active, sessions_issued [ids]
        logins_by_user   {user: successful POST /api/session}
        session_checks   GET /api/session count (valid or not); session_checks_by_user
                         {user: count} of those that named a valid session
        session_deletes  {session id: DELETE /api/session count} (valid or not)
        task_requests_by_user  {user: {task: count}}: task GETs with a valid session, by the
                         session's user (refused ones included)
        connections      distinct TCP connections that carried those requests
        requests         [{"seq", "method", "path", "task", "headers" (lower-case names),
                           "status" (None when closed unanswered), "connection", "time",
                           "user" (whom the request acted as: the valid session's user, or the
                           user a successful login opened a session for; else None)}]"""
        with self._lock:
            reqs = copy.deepcopy(self._requests)
            return {
                "requests_total": len(reqs),
                "paths": dict(self._paths),
                "method_paths": dict(self._method_paths),
                "tasks": dict(self._task_counts),
                "logins": self._logins,
                "login_attempts": self._login_attempts,
                "login_failures": self._login_failures,
                "sessions_active": len(self._sessions),
                "sessions_issued": list(self._sessions_issued),
                "logins_by_user": dict(self._logins_by_user),
                "session_checks": self._session_checks,
                "session_checks_by_user": dict(self._session_checks_by_user),
                "session_deletes": dict(self._session_deletes),
                "task_requests_by_user": copy.deepcopy(self._task_requests_by_user),
                "connections": len({r["connection"] for r in reqs}),
                "requests": reqs,
            }

    def task_requests(self, task_id=None):
        """The recorded GETs of /api/cis/tasks/ (of one task when given)."""
        return [r for r in self.stats()["requests"]
                if r["task"] is not None and (task_id is None or r["task"] == task_id)]

    # ---- used by the handler -----------------------------------------------------------
    def _conn_opened(self, sock):
        with self._lock:
            self._conns.add(sock)
            self._conn_seq += 1
            return self._conn_seq

    def _conn_closed(self, sock):
        with self._lock:
            self._conns.discard(sock)

    def _record(self, method, path, headers, task, conn_id):
        with self._lock:
            entry = {"seq": len(self._requests) + 1, "method": method, "path": path,
                     "task": task, "headers": headers, "status": None,
                     "connection": conn_id, "time": time.time(), "user": None}
            self._requests.append(entry)
            self._paths[path] = self._paths.get(path, 0) + 1
            key = "%s %s" % (method, path)
            self._method_paths[key] = self._method_paths.get(key, 0) + 1
            if task is not None:
                self._task_counts[task] = self._task_counts.get(task, 0) + 1
            return entry

    def _set_status(self, entry, status):
        with self._lock:
            entry["status"] = status

    def _config_get(self):
        with self._lock:
            return dict(self._config)

    def _login(self, user, password, sign_token=None, entry=None):
        """Basic user/password, or a SIGN token (then user and password are None). Returns
        (status, session id or None); entry (the request's record) gets the user."""
        with self._lock:
            cfg = self._config
            self._login_attempts += 1
            if cfg["login_status"] is not None:
                self._login_failures += 1
                return cfg["login_status"], None
            if sign_token is not None:
                user = self._sign_tokens.get(sign_token)
                ok = user is not None
            elif user is None:
                ok = False
            elif user == cfg["user"]:
                ok = password == cfg["password"]
            else:
                ok = user in cfg["users"] and password == cfg["users"][user]
            if not ok:
                self._login_failures += 1
                return 401, None
            sid = secrets.token_hex(16)
            now = _iso_now()
            self._sessions[sid] = {"user": user, "created_time": now, "last_accessed_time": now}
            self._sessions_issued.append(sid)
            self._logins += 1
            self._logins_by_user[user] = self._logins_by_user.get(user, 0) + 1
            if entry is not None:
                entry["user"] = user
            return 201, sid

    def _session(self, sid, touch=True, drop=False, entry=None):
        """The session's info (a copy) or None; entry (the request's record) gets its user."""
        with self._lock:
            info = self._sessions.get(sid) if sid else None
            if info is None:
                return None
            if touch:
                info["last_accessed_time"] = _iso_now()
            if drop:
                del self._sessions[sid]
            if entry is not None:
                entry["user"] = info["user"]
            return dict(info)

    def _count_delete(self, sid):
        with self._lock:
            key = sid or ""
            self._session_deletes[key] = self._session_deletes.get(key, 0) + 1

    def _check_session(self, sid, entry):
        """GET /api/session: counted, and by user when the session is valid."""
        with self._lock:
            self._session_checks += 1
        info = self._session(sid, entry=entry)
        if info is not None:
            with self._lock:
                u = info["user"]
                self._session_checks_by_user[u] = self._session_checks_by_user.get(u, 0) + 1
        return info

    def _task_allowed(self, task_id, user):
        """Counts the user's task request; False when the task's ACL refuses the user."""
        with self._lock:
            per = self._task_requests_by_user.setdefault(user, {})
            per[task_id] = per.get(task_id, 0) + 1
            acl = self._acl.get(task_id)
            if acl is None:
                return True
            if user in acl["deny"]:
                return False
            return acl["allow"] is None or user in acl["allow"]

    def _next_answer(self, task_id):
        with self._lock:
            seq = self._tasks.get(task_id)
            if seq is None:
                return None
            pos = self._task_pos.get(task_id, 0)
            self._task_pos[task_id] = pos + 1
            return copy.deepcopy(seq[min(pos, len(seq) - 1)])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockVCenter/1.0"
    timeout = 120  # idle keep-alive connections end after this
    # Headers and body leave in separate writes: without TCP_NODELAY the body waits for
    # the client's delayed ACK (40 ms on Linux), which latency measurements would include.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.mock = self.server.mock
        self.conn_id = self.mock._conn_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.mock._conn_closed(self.connection)

    def log_message(self, fmt, *args):
        if self.mock.verbose:
            sys.stderr.write("mock_vcenter: %s\n" % (fmt % args))

    # ---- plumbing ----------------------------------------------------------------------
    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body=b"", ctype="application/json", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        # Record the status before the client can see the answer, so a test
        # that reads the stats right after its request finds it.
        if getattr(self, "_entry", None) is not None:
            self.mock._set_status(self._entry, status)
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        return status

    def _send_json(self, status, obj, headers=None):
        return self._send(status, json.dumps(obj), headers=headers)

    def _send_error(self, status, args=None):
        hdrs = {"WWW-Authenticate": 'Basic realm="VAPI endpoint"'} if status == 401 else None
        return self._send_json(status, std_error_body(status, args), headers=hdrs)

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self):
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        if path.startswith(CONTROL_PREFIX):
            self._control(path[len(CONTROL_PREFIX):], body)
            return
        task = None
        if self.command == "GET" and path.startswith(TASKS_PREFIX):
            seg = path[len(TASKS_PREFIX):]
            if seg and "/" not in seg:
                task = urllib.parse.unquote(seg, errors="surrogateescape")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._entry = self.mock._record(self.command, path, headers, task, self.conn_id)
        self._serve(path, task)
        self._entry = None

    # ---- the vCenter API -----------------------------------------------------------------
    def _serve(self, path, task):
        if path == "/api/session":
            return self._serve_session()
        if task is not None:
            return self._serve_task(task)
        if path.startswith(TASKS_PREFIX) and self.command != "GET":
            return self._send_error(405)
        return self._send_json(404, {"error_type": "NOT_FOUND", "messages": [{
            "id": "com.vmware.vapi.rest.httpNotFound", "default_message": "Not found.",
            "args": []}]})

    def _sign_token(self):
        """The token of `Authorization: SIGN token="..."` (or token=... unquoted), else None."""
        auth = self.headers.get("Authorization", "")
        scheme, _, params = auth.strip().partition(" ")
        if scheme.lower() != "sign":
            return None
        m = SIGN_TOKEN_PARAM.search(params)
        if not m:
            return ""  # a SIGN header without a token: a failed login, never Basic
        return m.group(1) if m.group(1) is not None else m.group(2)

    def _basic_credentials(self):
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, sep, pw = decoded.partition(":")
        return (user, pw) if sep else (None, None)

    def _serve_session(self):
        sid = self.headers.get(SESSION_HEADER)
        if self.command == "POST":
            delay = self.mock._config_get()["login_delay_ms"]
            if delay:
                time.sleep(delay / 1000.0)
            token = self._sign_token()
            user, pw = (None, None) if token is not None else self._basic_credentials()
            status, new_sid = self.mock._login(user, pw, token, self._entry)
            if new_sid is None:
                return self._send_error(status)
            return self._send_json(201, new_sid)
        if self.command == "GET":
            info = self.mock._check_session(sid, self._entry)
            return self._send_json(200, info) if info else self._send_error(401)
        if self.command == "DELETE":
            self.mock._count_delete(sid)
            info = self.mock._session(sid, drop=True, entry=self._entry)
            return self._send(204) if info else self._send_error(401)
        return self._send_error(405)

    def _serve_task(self, task):
        info = self.mock._session(self.headers.get(SESSION_HEADER), entry=self._entry)
        if info is None:
            return self._send_error(401)
        if not self.mock._task_allowed(task, info["user"]):
            return self._send_error(403)
        ans = self.mock._next_answer(task)
        if ans is None:
            return self._send_error(404, [task])
        delay = ans.get("delay_ms", self.mock._config_get()["delay_ms"])
        if delay:
            time.sleep(delay / 1000.0)
        action = ans.get("action")
        if action == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        status = ans.get("status", 200)
        if action == "garbage":
            body = ans.get("raw", GARBAGE_BODY)
        elif "raw" in ans:
            body = ans["raw"]
        elif "body" in ans:
            body = json.dumps(ans["body"])
        elif status >= 400:
            body = json.dumps(std_error_body(status, [task] if status == 404 else None))
        else:
            body = "{}"
        headers = dict(ans.get("headers") or {})
        if status == 401:
            headers.setdefault("WWW-Authenticate", 'Basic realm="VAPI endpoint"')
        return self._send(status, body, headers=headers)

    # ---- the control API -----------------------------------------------------------------
    def _control(self, rest, body):
        mock = self.mock
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as e:
            self._send_json(400, {"error": "bad JSON: %s" % e})
            return
        try:
            if rest.startswith("tasks/") and len(rest) > len("tasks/"):
                tid = urllib.parse.unquote(rest[len("tasks/"):])
                if self.command == "POST":
                    mock.set_task(tid, data)
                    self._send_json(200, {"task": tid})
                    return
                if self.command == "DELETE":
                    mock.delete_task(tid)
                    self._send_json(200, {"task": tid})
                    return
            elif rest == "tasks" and self.command == "GET":
                self._send_json(200, {"tasks": mock.task_ids()})
                return
            elif rest == "reset" and self.command == "POST":
                mock.reset()
                self._send_json(200, {"reset": True})
                return
            elif rest == "reset-stats" and self.command == "POST":
                mock.reset_stats()
                self._send_json(200, {"reset": True})
                return
            elif rest == "stats" and self.command == "GET":
                self._send_json(200, mock.stats())
                return
            elif rest == "expire-sessions" and self.command == "POST":
                self._send_json(200, {"expired": mock.expire_sessions()})
                return
            elif rest == "sign-tokens" and self.command == "POST":
                self._send_json(200, {"sign_tokens": mock.add_sign_tokens(data)})
                return
            elif rest == "config" and self.command == "POST":
                if not isinstance(data, dict):
                    raise ValueError("config must be a JSON object")
                self._send_json(200, mock.configure(**data))
                return
        except ValueError as e:
            self._send_json(400, {"error": str(e)})
            return
        self._send_json(404, {"error": "no control endpoint %s %s" % (self.command, rest)})


class MockClient:
    """Drives a mock in another process through its /_mock/ control API."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.host, self.port, self.timeout = host, port, timeout

    def _call(self, method, path, obj=None):
        import http.client
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            body = json.dumps(obj) if obj is not None else None
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError("%s %s -> %d %s" % (method, path, r.status, data[:200]))
            return json.loads(data)
        finally:
            conn.close()

    def set_task(self, task_id, script):
        return self._call("POST", "/_mock/tasks/" + urllib.parse.quote(task_id, safe=""), script)

    def delete_task(self, task_id):
        return self._call("DELETE", "/_mock/tasks/" + urllib.parse.quote(task_id, safe=""))

    def reset(self):
        return self._call("POST", "/_mock/reset")

    def reset_stats(self):
        return self._call("POST", "/_mock/reset-stats")

    def stats(self):
        return self._call("GET", "/_mock/stats")

    def expire_sessions(self):
        return self._call("POST", "/_mock/expire-sessions")["expired"]

    def configure(self, **kw):
        return self._call("POST", "/_mock/config", kw)

    def set_acl(self, task_id, deny=None, allow=None):
        """Only the task's ACL (see MockVCenter.set_acl)."""
        acl = {k: v for k, v in (("deny", deny), ("allow", allow)) if v is not None}
        return self.set_task(task_id, acl or {"deny": []})

    def add_sign_tokens(self, mapping):
        return self._call("POST", "/_mock/sign-tokens", mapping)["sign_tokens"]


def main(argv=None):
    ap = argparse.ArgumentParser(description="A scriptable fake vCenter (cis dialect).")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    ap.add_argument("--user", default="svc")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--password-file", help="read the password from this file instead")
    ap.add_argument("--fixtures", help="seed tasks from the cis-* fixtures of this directory")
    ap.add_argument("--delay-ms", type=int, default=0, help="default delay of task answers")
    ap.add_argument("--print-port", action="store_true", help="print MOCK_PORT=<port> when up")
    ap.add_argument("--verbose", action="store_true", help="log each request on stderr")
    args = ap.parse_args(argv)
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        ap.error("--listen must be HOST:PORT")
    password = args.password
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            password = f.read().rstrip("\r\n")
    mock = MockVCenter(host or "127.0.0.1", int(port), args.user, password,
                       fixtures_dir=args.fixtures, delay_ms=args.delay_ms, verbose=args.verbose)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    mock.start()
    if args.print_port:
        print("MOCK_PORT=%d" % mock.port, flush=True)
    while not done.wait(0.5):
        pass
    mock.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
