"""Helpers for the snapgate integration tests (Python 3 standard library only).

The binary comes from $SNAPGATE_BIN (ctest sets it) and the API task fixtures from
tests/fixtures/api in this repository ($SG_FIXTURES_DIR overrides it; ctest sets it to that
same folder). Nothing outside the repository is read. Test classes that need the gateway are
decorated with @requires_gateway: run by hand without SNAPGATE_BIN they skip; under ctest
(SG_TEST_STRICT=1) a missing binary, like every other missing prerequisite, FAILS with the
reason.

Main pieces:
  Gateway(config, env=None)      context manager running `snapgate -c FILE` on free ports
  GatewayTestCase                a TestCase with a mock vCenter, a users file and a service
                                 password file per class, and a fresh mock state per test
  http_request / raw_request     one HTTP request (http.client) / raw bytes over a socket
  parallel(n, fn)                n threads released together by a barrier
  make_users_file, basic, to_yaml, fixture cases, error-body assertions

Shared cache tier (issue 3):
  RedisServer(port, password, unix_socket)  a private redis-server (kill and restart on the
                                 same port), with a tiny RESP client: cli, keys, get, ttl_ms
  RespClient                     that RESP2 client over a socket (no redis-cli needed)
  Gateways(n, config)            n gateways from one config, each on its own ports
  RedisTestCase                  GatewayTestCase plus a fresh Redis per test and a probe that
                                 fails (not skips) while snapgate rejects the redis config
  parse_metrics / metric_value   the Prometheus text of /metrics
"""

import base64
import collections
import copy
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import warnings

import mock_vcenter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TASKS_PATH = "/api/snapservice/tasks/"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ERROR: ThreadSanitizer")
ERROR_BODY_KEYS = {"error_type", "messages", "data"}


# ---- where things are ---------------------------------------------------------------------
def gateway_bin():
    """The snapgate binary from $SNAPGATE_BIN, or None when unset or not executable."""
    path = os.environ.get("SNAPGATE_BIN", "")
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return None


NO_GATEWAY = "SNAPGATE_BIN is unset or not executable"


def strict():
    """True under ctest (it sets SG_TEST_STRICT=1): nothing may skip, a missing prerequisite
    fails the test with its reason."""
    return os.environ.get("SG_TEST_STRICT") == "1"


def skip_without_gateway():
    """Called where the gateway binary is needed and missing: a skip when run by hand, a
    failure under ctest (which always sets SNAPGATE_BIN to the binary it built)."""
    if strict():
        raise AssertionError(NO_GATEWAY + " (ctest sets it to the binary it built)")
    raise unittest.SkipTest(NO_GATEWAY)


def requires_gateway(cls):
    """Class decorator: skip the class when SNAPGATE_BIN is unset and the run is by hand; under
    ctest the class runs and each test fails in skip_without_gateway instead."""
    if gateway_bin() or strict():
        return cls
    return unittest.skip(NO_GATEWAY)(cls)


FIXTURES_DIR = os.path.join(REPO, "tests", "fixtures", "api")


def fixtures_dir():
    """The API task fixtures directory: $SG_FIXTURES_DIR, else tests/fixtures/api of this
    repository. Fails (never skips) when it is missing."""
    cand = os.environ.get("SG_FIXTURES_DIR", "") or FIXTURES_DIR
    if not os.path.isdir(cand):
        raise AssertionError("the API task fixtures folder %s is missing (it is part of the "
                             "repository: tests/fixtures/api)" % cand)
    return os.path.abspath(cand)


def project_version():
    """The VERSION of project() in the top CMakeLists.txt, or None."""
    try:
        with open(os.path.join(REPO, "CMakeLists.txt"), encoding="utf-8") as f:
            m = re.search(r"project\s*\(\s*snapgate\s+VERSION\s+([0-9][0-9.]*)", f.read())
        return m.group(1) if m else None
    except OSError:
        return None


Fixture = collections.namedtuple("Fixture", "case task upstream_status expected expected_error")


def fixture(case):
    """The fixture case `case` (e.g. "cis-running"): task id, upstream status, and the parsed
    expected Info (or None) and expected-error dict (or None)."""
    d = fixtures_dir()
    base = os.path.join(d, case)
    with open(base + ".meta.json", encoding="utf-8") as f:
        meta = json.load(f)
    expected = expected_error = None
    if os.path.exists(base + ".expected.json"):
        with open(base + ".expected.json", encoding="utf-8") as f:
            expected = json.load(f)
    if os.path.exists(base + ".expected-error.json"):
        with open(base + ".expected-error.json", encoding="utf-8") as f:
            expected_error = json.load(f)
    return Fixture(case, meta["task"], meta["upstream_http_status"], expected, expected_error)


def fixture_cases(prefix="cis-"):
    """Every fixture case name starting with prefix, sorted."""
    d = fixtures_dir()
    return sorted(os.path.basename(p)[:-len(".meta.json")]
                  for p in glob.glob(os.path.join(d, prefix + "*.meta.json")))


def task_path(task_id, encode=True):
    """The client path of a task: the id percent-encoded as one segment (the Go runtime's
    way), or pasted raw with encode=False (the Python SDK's way)."""
    return TASKS_PATH + (urllib.parse.quote(task_id, safe="") if encode else task_id)


# ---- small files ------------------------------------------------------------------------
_handed_out = set()
_handed_out_lock = threading.Lock()


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago, and never one this process handed out
    before: the kernel may offer a just-closed port again at once, which gave a
    gateway the same port for listen and admin_listen."""
    with _handed_out_lock:
        for _ in range(1000):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise AssertionError("no free port found that was not handed out before")


def write_file(directory, name, text, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def sha512_crypt(password):
    """A sha512crypt ($6$) hash of password: the crypt module when present, else openssl."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
        if h and h.startswith("$6$"):
            return h
    except ImportError:
        pass
    out = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password.encode(),
                         stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().strip()


def make_users_file(users, directory=None):
    """Write a users file ("name:$6$..." lines) for {name: password}; returns its path.
    Without directory it goes to a new temporary directory the caller may leave behind."""
    directory = directory or tempfile.mkdtemp(prefix="sg-users-")
    text = "".join("%s:%s\n" % (name, sha512_crypt(pw)) for name, pw in users.items())
    return write_file(directory, "users", text)


def basic(user, password):
    """The Authorization header value for HTTP Basic."""
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


# ---- YAML ------------------------------------------------------------------------------
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid YAML double-quoted scalar
    if v == {}:
        return "{}"
    if v == []:
        return "[]"
    raise TypeError("cannot render %r as YAML" % (v,))


def _is_leaf(v):
    return not isinstance(v, (dict, list)) or not v


def _yaml_emit(obj, indent, out):
    pad = " " * indent
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = k if _PLAIN_KEY.match(str(k)) else json.dumps(str(k))
            if _is_leaf(v):
                out.append("%s%s: %s" % (pad, key, _yaml_scalar(v)))
            else:
                out.append("%s%s:" % (pad, key))
                _yaml_emit(v, indent + 2, out)
    elif isinstance(obj, list):
        for item in obj:
            if _is_leaf(item):
                out.append("%s- %s" % (pad, _yaml_scalar(item)))
            else:
                sub = []
                _yaml_emit(item, indent + 2, sub)
                out.append("%s- %s" % (pad, sub[0][indent + 2:]))
                out.extend(sub[1:])
    else:
        out.append(pad + _yaml_scalar(obj))


def to_yaml(obj):
    """Block-style YAML for nested dicts/lists/scalars; strings always double-quoted."""
    out = []
    _yaml_emit(obj, 0, out)
    return "\n".join(out) + "\n"


def merge(base, overrides):
    """A deep copy of base with overrides merged in recursively; an override of None
    deletes the key."""
    result = copy.deepcopy(base)
    for k, v in (overrides or {}).items():
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict) and isinstance(result.get(k), dict):
            result[k] = merge(result[k], v)
        else:
            result[k] = copy.deepcopy(v)
    return result


# ---- HTTP clients ----------------------------------------------------------------------
class Response(collections.namedtuple("Response", "status headers body")):
    """(status, headers with lower-case names, body bytes); json() parses the body."""

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def http_request(port, method, path, headers=None, body=None, conn=None, timeout=10.0,
                 host="127.0.0.1"):
    """One request through http.client. With conn (an HTTPConnection) the request goes over
    that kept-alive connection, else over a fresh one closed afterwards."""
    own = conn is None
    c = conn or http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return Response(r.status, hdrs, data)
    finally:
        if own:
            c.close()


RawResponse = collections.namedtuple("RawResponse",
                                     "status reason headers body raw closed trailing")
RawResponse.__doc__ = """A parsed raw answer: status (None when nothing parseable came), reason,
headers (lower-case names), body, raw (every byte read), closed (the peer closed), trailing
(bytes after the response: e.g. a body wrongly sent with a HEAD answer)."""


def _recv(sock, buf, deadline):
    """Read more into buf; returns False on EOF/reset, None on timeout, True otherwise."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    sock.settimeout(remaining)
    try:
        chunk = sock.recv(65536)
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return False
    if not chunk:
        return False
    buf.extend(chunk)
    return True


def _read_until(sock, buf, deadline, done):
    """recv into buf until done(buf); returns True when the peer closed first."""
    while not done(buf):
        r = _recv(sock, buf, deadline)
        if not r:
            return r is False
    return False


def read_raw_response(sock, read_timeout=5.0, until_close=False, head=False):
    """Read one HTTP response from sock and parse it. until_close: keep reading afterwards
    until the peer closes (closed=True) or the timeout ends (closed=False). head: the
    response has no body (answer to HEAD)."""
    deadline = time.monotonic() + read_timeout
    buf = bytearray()
    closed = _read_until(sock, buf, deadline, lambda b: b"\r\n\r\n" in b)
    if b"\r\n\r\n" not in buf:
        return RawResponse(None, "", {}, b"", bytes(buf), closed, b"")
    head_len = buf.index(b"\r\n\r\n") + 4
    lines = bytes(buf[:head_len - 4]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        headers[k] = headers[k] + ", " + v.strip() if k in headers else v.strip()
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if head or status in (204, 304) or (status is not None and 100 <= status < 200):
        end = head_len
    elif "content-length" in headers:
        end = head_len + int(headers["content-length"])
        closed = closed or _read_until(sock, buf, deadline, lambda b: len(b) >= end)
    elif chunked:
        # the stream starts right after the head's CRLF CRLF, so every chunk-size line,
        # the last one ("0") included, follows a CRLF
        closed = closed or _read_until(
            sock, buf, deadline, lambda b: b.find(b"\r\n0\r\n\r\n", head_len - 2) >= 0)
        end = len(buf)
        term = buf.find(b"\r\n0\r\n\r\n", head_len - 2)
        if term >= 0:
            end = term + 7
    else:  # no length: the body runs until the peer closes
        closed = closed or _read_until(sock, buf, deadline, lambda b: False)
        end = len(buf)
    if until_close and not closed:
        closed = _read_until(sock, buf, deadline, lambda b: False)
    body = bytes(buf[head_len:end])
    if chunked:
        body = _dechunk(body)
    return RawResponse(status, reason, headers, body, bytes(buf), closed, bytes(buf[end:]))


def _dechunk(data):
    out = bytearray()
    while data:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return bytes(out)


def raw_request(port, data, read_timeout=5.0, until_close=False, head=False, host="127.0.0.1"):
    """Send raw bytes on a new connection and read one response (see read_raw_response)."""
    with socket.create_connection((host, port), timeout=read_timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it read everything
        return read_raw_response(s, read_timeout, until_close, head)


def parallel(n, fn, timeout=60.0):
    """Run fn(i) for i in range(n) in n threads that start together (barrier); returns the
    results in order; re-raises the first exception."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(i):
        try:
            barrier.wait(timeout)
            results[i] = fn(i)
        except BaseException as e:  # noqa: B902 - handed to the caller below
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise AssertionError("parallel: threads still running after %.0f s" % timeout)
    for e in errors:
        if e is not None:
            raise e
    return results


# ---- the gateway process -----------------------------------------------------------------
def _port_of(addr):
    return int(str(addr).rpartition(":")[2])


class Gateway:
    """Runs `snapgate -c FILE` for the duration of a with-block.

    config: a dict (rendered to YAML; listen/admin_listen filled with free ports when absent)
    or YAML text (@LISTEN@ and @ADMIN_LISTEN@ are replaced by free host:port values; the keys
    are appended when the text lacks them). env: extra environment (SNAPGATE_* variables of
    the test's own environment are dropped first). preexec_fn: run in the child before the
    binary starts (e.g. resource.setrlimit). Waits for GET /healthz on the admin port
    (fails with the captured stderr). On exit: SIGTERM, wait (kill after 10 s), then fail if
    it did not exit 0 or stderr holds a sanitizer report.

    After start: port, admin_port, config_path, proc, http(), connection(), raw().
    After stop: stdout_text / stderr_text, access_log() (parsed JSON lines of stdout)."""

    def __init__(self, config, env=None, start_timeout=10.0, stop_timeout=10.0,
                 expect_exit_code=0, preexec_fn=None):
        self.config = config
        self.env = env or {}
        self.preexec_fn = preexec_fn
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.expect_exit_code = expect_exit_code
        self.proc = None
        self.stdout_text = ""
        self.stderr_text = ""
        self.tmpdir = None
        self.returncode = None

    # ---- config ----------------------------------------------------------------------
    def _render(self):
        if isinstance(self.config, dict):
            cfg = copy.deepcopy(self.config)
            cfg.setdefault("listen", "127.0.0.1:%d" % free_port())
            cfg.setdefault("admin_listen", "127.0.0.1:%d" % free_port())
            self.port, self.admin_port = _port_of(cfg["listen"]), _port_of(cfg["admin_listen"])
            return to_yaml(cfg)
        text = self.config
        listen = "127.0.0.1:%d" % free_port()
        admin = "127.0.0.1:%d" % free_port()
        text = text.replace("@LISTEN@", listen).replace("@ADMIN_LISTEN@", admin)
        if not re.search(r"^listen\s*:", text, re.M):
            text = text.rstrip("\n") + '\nlisten: "%s"\n' % listen
        if not re.search(r"^admin_listen\s*:", text, re.M):
            text = text.rstrip("\n") + '\nadmin_listen: "%s"\n' % admin
        self.port = _port_of(re.search(r'^listen\s*:\s*"?([^"\s]+)', text, re.M).group(1))
        self.admin_port = _port_of(
            re.search(r'^admin_listen\s*:\s*"?([^"\s]+)', text, re.M).group(1))
        return text

    def _environ(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPGATE_")}
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.env)
        return env

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self):
        binary = gateway_bin()
        if binary is None:
            skip_without_gateway()
        self.tmpdir = tempfile.mkdtemp(prefix="sg-gw-")
        self.config_path = write_file(self.tmpdir, "snapgate.yaml", self._render())
        self._out_path = os.path.join(self.tmpdir, "stdout.log")
        self._err_path = os.path.join(self.tmpdir, "stderr.log")
        with open(self._out_path, "wb") as out, open(self._err_path, "wb") as err:
            self.proc = subprocess.Popen([binary, "-c", self.config_path], stdout=out,
                                         stderr=err, stdin=subprocess.DEVNULL,
                                         env=self._environ(), preexec_fn=self.preexec_fn)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                self._collect()
                code = self.proc.returncode
                self._cleanup()
                raise AssertionError("snapgate exited with %s before /healthz answered; "
                                     "stderr:\n%s" % (code, self.stderr_text[-4000:]))
            try:
                r = http_request(self.admin_port, "GET", "/healthz", timeout=0.5)
                if r.status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._collect()
                self._cleanup()
                raise AssertionError("snapgate: /healthz not 200 within %.0f s; stderr:\n%s"
                                     % (self.start_timeout, self.stderr_text[-4000:]))
            time.sleep(0.05)

    def stop(self):
        """SIGTERM, wait, collect output; raises AssertionError on a hang, a bad exit code or
        a sanitizer report. Idempotent."""
        if self.proc is None:
            return self.returncode
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("did not exit within %.0f s of SIGTERM (killed)"
                                % self.stop_timeout)
        self.returncode = self.proc.returncode
        self._collect()
        self._cleanup()
        self.proc = None
        if not problems and self.expect_exit_code is not None \
                and self.returncode != self.expect_exit_code:
            problems.append("exit status %s, expected %s" % (self.returncode,
                                                             self.expect_exit_code))
        reports = [m for m in SANITIZER_MARKERS if m in self.stderr_text]
        if reports:
            problems.append("sanitizer report (%s)" % ", ".join(reports))
        if problems:
            raise AssertionError("snapgate: %s; stderr:\n%s"
                                 % ("; ".join(problems), self.stderr_text[-8000:]))
        return self.returncode

    def _collect(self):
        for attr, path in (("stdout_text", self._out_path), ("stderr_text", self._err_path)):
            try:
                with open(path, "rb") as f:
                    setattr(self, attr, f.read().decode("utf-8", "replace"))
            except OSError:
                pass

    def _cleanup(self):
        if self.tmpdir and not os.environ.get("SG_KEEP_TMP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def kill(self):
        """SIGKILL the process (a crashed replica); stop() then only collects its output."""
        self.expect_exit_code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- talking to it -------------------------------------------------------------------
    def http(self, method, path, headers=None, body=None, conn=None, timeout=10.0):
        return http_request(self.port, method, path, headers, body, conn, timeout)

    def admin(self, method, path, headers=None, timeout=10.0):
        return http_request(self.admin_port, method, path, headers, None, None, timeout)

    def connection(self, timeout=10.0):
        """A keep-alive http.client connection to the client port (caller closes it)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, data, read_timeout=5.0, until_close=False, head=False):
        return raw_request(self.port, data, read_timeout, until_close, head)

    def access_log(self):
        """The stdout lines parsed as JSON (call after stop(): stdout may be buffered).
        A line that is not JSON fails the test."""
        entries = []
        for line in self.stdout_text.splitlines():
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    raise AssertionError("access log line is not JSON: %r" % line)
        return entries


def run_snapgate(args, env=None, timeout=15.0):
    """Run snapgate with args to completion; returns CompletedProcess (text stdout/stderr).
    Fails on a sanitizer report in stderr."""
    binary = gateway_bin()
    if binary is None:
        skip_without_gateway()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPGATE_")}
    full_env.update(env or {})
    proc = subprocess.run([binary] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=full_env,
                          timeout=timeout, universal_newlines=True)
    reports = [m for m in SANITIZER_MARKERS if m in proc.stderr]
    if reports:
        raise AssertionError("snapgate %s: sanitizer report (%s); stderr:\n%s"
                             % (" ".join(args), ", ".join(reports), proc.stderr[-8000:]))
    return proc


# ---- the usual test setup ----------------------------------------------------------------
class GatewayTestCase(unittest.TestCase):
    """Per class: a mock vCenter seeded with the cis fixtures, a users file, a service
    password file. Per test: the mock reset. Build configs with self.config(overrides)."""

    USERS = {"alice": "wonderland-7", "bob": "builder-9"}
    SVC_USER = "svc-snapgate"
    SVC_PASSWORD = "svc-secret-4242"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="sg-it-")
        cls.users_file = make_users_file(cls.USERS, cls.tmp)
        cls.password_file = write_file(cls.tmp, "svc-password", cls.SVC_PASSWORD)
        cls.mock = mock_vcenter.MockVCenter(user=cls.SVC_USER, password=cls.SVC_PASSWORD,
                                            fixtures_dir=fixtures_dir()).start()

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.mock.reset()

    def config(self, overrides=None, backend=None):
        """The typical test config, deep-merged with overrides; backend: overrides merged
        into the single backend entry."""
        be = {"name": "vc1", "url": self.mock.url, "dialect": "cis",
              "credentials": {"username": self.SVC_USER, "password_file": self.password_file},
              "timeouts": {"connect": "2s", "request": "2s"}}
        cfg = {
            "workers": 1,
            "log": {"level": "debug"},
            "auth": {"realm": "snapgate",
                     "providers": [{"type": "basic", "users_file": self.users_file}]},
            "backends": [merge(be, backend)],
            "cache": {"ttl": {"pending": "1s", "running": "1s", "blocked": "1s",
                              "terminal": "24h", "not_found": "30s"}},
        }
        return merge(cfg, overrides)

    def gateway(self, overrides=None, backend=None, env=None, **kw):
        return Gateway(self.config(overrides, backend), env=env, **kw)

    def auth(self, user="alice", password=None):
        """{"Authorization": Basic ...} for a known user (or any user/password)."""
        pw = self.USERS.get(user) if password is None else password
        return {"Authorization": basic(user, pw)}

    # ---- assertions ------------------------------------------------------------------------
    def assertErrorBody(self, body, error_type=None):
        """body (bytes) is a vAPI standard error: error_type (equal to the given one) and at
        least one message {id, default_message, args: []}; nothing else but data."""
        try:
            obj = json.loads(body.decode("utf-8"))
        except ValueError:
            self.fail("error body is not JSON: %r" % body[:300])
        self.assertIsInstance(obj, dict, body)
        self.assertLessEqual(set(obj), ERROR_BODY_KEYS, "unexpected keys in %r" % obj)
        self.assertIsInstance(obj.get("error_type"), str, body)
        if error_type is not None:
            self.assertEqual(obj["error_type"], error_type, body)
        msgs = obj.get("messages")
        self.assertIsInstance(msgs, list, body)
        self.assertGreaterEqual(len(msgs), 1, body)
        for m in msgs:
            self.assertIsInstance(m, dict, body)
            self.assertIsInstance(m.get("id"), str, body)
            self.assertIsInstance(m.get("default_message"), str, body)
            self.assertIsInstance(m.get("args"), list, body)
        return obj

    def assertError(self, resp, status, error_type):
        """resp (Response or RawResponse) has status and a standard error body of type."""
        self.assertEqual(resp.status, status, "body: %r" % (resp.body[:300],))
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"),
                        resp.headers)
        return self.assertErrorBody(resp.body, error_type)


# ---- the shared cache tier: a private redis-server and a RESP client ------------------------
REDIS_REQUIRED = "redis-server is required (tests/run.sh installs it)"
# Every key snapgate writes to Redis starts with this (CONTRACT: versioned key layout).
REDIS_PREFIX = "snapgate:v3:"


def redis_server_bin():
    """The redis-server program on PATH, or None."""
    return shutil.which("redis-server")


def require_redis_server():
    """Fails the calling test (AssertionError, never a skip) when redis-server is missing."""
    if redis_server_bin() is None:
        raise AssertionError(REDIS_REQUIRED)


def redis_task_key(task_id):
    """The Redis key of a task's cached answer: snapgate:v3:task:<id> (the id as the client
    sent it, decoded)."""
    return REDIS_PREFIX + "task:" + task_id


class RedisError(Exception):
    """An error reply (-ERR ...) from Redis."""


class RespClient:
    """A minimal RESP2 client: one connection, one command at a time, replies decoded to
    str (simple strings), int, bytes (bulk strings), None (nil) and lists. An error reply
    raises RedisError. Connects over TCP (host, port) or a unix socket path."""

    def __init__(self, host="127.0.0.1", port=6379, unix_socket=None, password=None,
                 timeout=5.0):
        if unix_socket:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(unix_socket)
            except OSError:
                self.sock.close()
                raise
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        if password:
            self.call("AUTH", password)

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode("utf-8")
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _read(self):
        line = self.rfile.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("redis closed the connection")
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ConnectionError("not a RESP reply: %r" % line[:80])

    def call(self, *args):
        """Send one command and return its decoded reply."""
        self.sock.sendall(self.encode(args))
        return self._read()

    def read_push(self):
        """The next reply without sending anything (pub/sub messages)."""
        return self._read()

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RedisServer:
    """A private `redis-server` for one test: loopback, no persistence, a free port (or the
    given one), optional password (requirepass) and unix socket (True: a path in its own
    temporary directory). Context manager. stop(kill=True) SIGKILLs it (a crash); start()
    brings it back on the SAME port, empty.

    url: redis://[:password@]127.0.0.1:P/0, or unix:///path?db=0 with unix_socket.
    cli(*args) runs one command on a fresh connection (so it works across restarts)."""

    def __init__(self, port=None, password=None, unix_socket=None, start_timeout=5.0):
        require_redis_server()
        self.port = port or free_port()
        self.password = password
        self.tmpdir = tempfile.mkdtemp(prefix="sg-redis-")
        self.unix_socket = (os.path.join(self.tmpdir, "redis.sock") if unix_socket is True
                            else unix_socket)
        self.start_timeout = start_timeout
        self.proc = None
        self.log_path = os.path.join(self.tmpdir, "redis.log")

    @property
    def url(self):
        if self.unix_socket:
            return "unix://%s?db=0" % self.unix_socket
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "redis://%s127.0.0.1:%d/0" % (auth, self.port)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        """Start (or restart) on self.port; waits until PING answers. Returns self."""
        if self.running:
            return self
        args = [redis_server_bin(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", self.tmpdir, "--logfile", self.log_path]
        if self.password:
            args += ["--requirepass", self.password]
        if self.unix_socket:
            args += ["--unixsocket", self.unix_socket, "--unixsocketperm", "700"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode("utf-8", "replace")
                self.proc = None
                raise AssertionError("redis-server on port %d exited at start: %s %s"
                                     % (self.port, err[-2000:], self.log_text()[-2000:]))
            try:
                if self.cli("PING") == "PONG":
                    return self
            except (OSError, RedisError):
                pass
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise AssertionError("redis-server on port %d: no PONG within %.0f s; log:\n%s"
                                     % (self.port, self.start_timeout, self.log_text()[-2000:]))
            time.sleep(0.02)

    def stop(self, kill=False):
        """SIGTERM (or SIGKILL with kill=True: the crash case) and wait. Idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        self.proc = None

    def kill(self):
        """SIGKILL: Redis vanishes without a goodbye, as in a crash."""
        self.stop(kill=True)

    def close(self):
        """stop() and remove the temporary directory."""
        self.stop()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- commands ----------------------------------------------------------------------
    def client(self, timeout=5.0):
        """A new RespClient (authenticated when a password is set); the caller closes it."""
        if self.unix_socket:
            return RespClient(unix_socket=self.unix_socket, password=self.password,
                              timeout=timeout)
        return RespClient("127.0.0.1", self.port, password=self.password, timeout=timeout)

    def cli(self, *args):
        """One command on a fresh connection; the decoded reply."""
        with self.client() as c:
            return c.call(*args)

    def keys(self, pattern="*"):
        """The keys matching pattern, decoded and sorted."""
        return sorted(k.decode("utf-8", "replace") for k in self.cli("KEYS", pattern))

    def get(self, key):
        """The string value of key as bytes (None when absent)."""
        return self.cli("GET", key)

    def value(self, key):
        """What key holds, whatever its type: bytes (string), {field: bytes} (hash), None."""
        kind = self.cli("TYPE", key)
        if kind == "none":
            return None
        if kind == "string":
            return self.get(key)
        if kind == "hash":
            flat = self.cli("HGETALL", key)
            return {flat[i].decode("utf-8", "replace"): flat[i + 1]
                    for i in range(0, len(flat), 2)}
        raise AssertionError("key %s holds a %s" % (key, kind))

    def ttl_ms(self, key):
        """PTTL of key: milliseconds left, -1 without expiry, -2 when absent."""
        return self.cli("PTTL", key)

    def exists(self, key):
        return self.cli("EXISTS", key) == 1

    def wait_for_key(self, key, timeout=2.0, present=True):
        """Polls until key exists (present=False: is gone); returns whether it happened."""
        return wait_for(lambda: self.exists(key) == present, timeout)

    def info(self, section=None):
        """INFO [section] as {field: value} (numbers as int/float where they parse)."""
        text = (self.cli("INFO", section) if section else self.cli("INFO")).decode()
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#") or ":" not in line:
                continue
            k, _, v = line.partition(":")
            for conv in (int, float):
                try:
                    v = conv(v)
                    break
                except ValueError:
                    pass
            out[k] = v
        return out

    def command_calls(self):
        """{command name: calls} from INFO commandstats (subcommands as "config|get")."""
        out = {}
        for k, v in self.info("commandstats").items():
            if k.startswith("cmdstat_"):
                m = re.search(r"(?:^|,)calls=(\d+)", str(v))
                out[k[len("cmdstat_"):]] = int(m.group(1)) if m else 0
        return out

    def flushall(self):
        return self.cli("FLUSHALL")


def wait_for(pred, timeout, interval=0.02):
    """Polls pred() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class Gateways:
    """n snapgate processes from one config (a dict: each gets its own free listen and admin
    ports), e.g. replicas sharing one mock and one Redis. Context manager; indexable and
    iterable over the started Gateway objects. stop() stops them all and then raises the
    first problem (as Gateway.stop does)."""

    def __init__(self, n, config, env=None, **kw):
        if not isinstance(config, dict):
            raise TypeError("Gateways needs a dict config (each replica gets its own ports)")
        self.members = [Gateway(copy.deepcopy(config), env=env, **kw) for _ in range(n)]

    def start(self):
        started = []
        try:
            for g in self.members:
                g.start()
                started.append(g)
        except BaseException:
            for g in started:
                try:
                    g.stop()
                except AssertionError:
                    pass
            raise
        return self

    def stop(self):
        problems = []
        for g in self.members:
            try:
                g.stop()
            except AssertionError as e:
                problems.append(str(e))
        if problems:
            raise AssertionError("\n".join(problems))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __getitem__(self, i):
        return self.members[i]

    def __iter__(self):
        return iter(self.members)

    def __len__(self):
        return len(self.members)


# ---- /metrics ---------------------------------------------------------------------------
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format 0.0.4 -> [(name, {label: value}, float)]; comments skipped.
    A sample line that does not parse fails the test."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(_LABEL.findall(m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def metric_value(samples, name, **labels):
    """The sum over samples named name whose labels include the given ones (other labels,
    e.g. a worker label, are summed over); None when no sample matches."""
    found = [v for n, ls, v in samples
             if n == name and all(ls.get(k) == str(want) for k, want in labels.items())]
    return sum(found) if found else None


# ---- the usual setup with a shared tier ----------------------------------------------------
MISSING_FEATURE = ("missing feature: the shared Redis cache tier of issue 3 (redis.*, "
                   "cache.stale_if_error, cache.local.max_ttl). `snapgate -t` rejects the test "
                   "config:\n%s")


class RedisTestCase(GatewayTestCase):
    """GatewayTestCase plus a fresh private Redis per test (self.redis; killed and removed at
    the end) and configs that point at it. shared_gateway()/shared_gateways() first run
    `snapgate -t` on the config and FAIL (not skip) with the gateway's own reasons while it
    does not support the keys yet. A missing redis-server fails every test (REDIS_REQUIRED)."""

    REDIS_TIMEOUT = "250ms"

    def setUp(self):
        super().setUp()
        require_redis_server()
        self.redis = RedisServer()
        self.addCleanup(self.redis.close)
        self.redis.start()

    def redis_config(self, overrides=None, backend=None):
        """The typical config with the shared tier: redis at self.redis (timeout 250ms,
        bypass), stale_if_error 30s, local tier max_ttl 1s; then overrides."""
        shared = {"redis": {"url": self.redis.url, "timeout": self.REDIS_TIMEOUT,
                            "on_error": "bypass"},
                  "cache": {"stale_if_error": "30s",
                            "local": {"max_entries": 10000, "max_ttl": "1s"}}}
        return self.config(merge(shared, overrides), backend)

    def require_supported(self, cfg):
        """Fails the test with MISSING_FEATURE when `snapgate -t` rejects cfg."""
        if gateway_bin() is None:
            skip_without_gateway()
        cfg = merge({"listen": "127.0.0.1:%d" % free_port(),
                     "admin_listen": "127.0.0.1:%d" % free_port()}, cfg)
        d = tempfile.mkdtemp(prefix="sg-probe-")
        try:
            path = write_file(d, "snapgate.yaml", to_yaml(cfg))
            proc = run_snapgate(["-t", "-c", path])
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if proc.returncode != 0:
            reasons = (proc.stdout + proc.stderr).strip().replace(path, "snapgate.yaml")
            self.fail(MISSING_FEATURE % reasons)

    def shared_gateway(self, overrides=None, backend=None, env=None, **kw):
        """A Gateway on redis_config(overrides) (probed first)."""
        cfg = self.redis_config(overrides, backend)
        self.require_supported(cfg)
        return Gateway(cfg, env=env, **kw)

    def shared_gateways(self, n, overrides=None, backend=None, env=None, **kw):
        """n replicas on redis_config(overrides), sharing the mock and self.redis."""
        cfg = self.redis_config(overrides, backend)
        self.require_supported(cfg)
        return Gateways(n, cfg, env=env, **kw)

    # ---- helpers -------------------------------------------------------------------------
    def get(self, gw, task, timeout=10.0, **auth):
        return gw.http("GET", task_path(task), self.auth(**auth), timeout=timeout)

    def fetches(self, task):
        """Upstream GETs of task the mock has seen."""
        return self.mock.stats()["tasks"].get(task, 0)

    def set_body(self, task, case="cis-running", **answer):
        """Script task to answer the fixture case's body (plus answer keys, e.g. delay_ms);
        returns the fixture."""
        fx = fixture(case)
        self.mock.set_task(task, dict({"status": 200, "body": fx.expected}, **answer))
        return fx

    def metrics(self, gw):
        r = gw.admin("GET", "/metrics")
        self.assertEqual(r.status, 200, r.body[:300])
        return parse_metrics(r.body.decode("utf-8"))

    def purge(self, gw, task):
        return gw.admin("DELETE", "/cache/tasks/" + urllib.parse.quote(task, safe=""))


# ---- the vCenter simulator (tests/vcsim: govmomi's SOAP vCenter) ----------------------------
VCSIM_BUILD_TIMEOUT = 240.0
VCSIM_DIR = os.path.join(REPO, "tests", "vcsim")


def vcsim_dir():
    """The simulator launcher's folder (main.go, build.sh): $SG_VCSIM_DIR, else tests/vcsim of
    this repository; None when it has no build.sh."""
    cand = os.environ.get("SG_VCSIM_DIR", "") or VCSIM_DIR
    if os.path.isfile(os.path.join(cand, "build.sh")):
        return os.path.abspath(cand)
    return None


_vcsim_built = {}


def vcsim_build():
    """Builds vcsimlite once per process with tests/vcsim/build.sh (it installs Go and
    Debian's govmomi when missing) next to the gateway binary, so each build tree keeps its
    own (and its Go cache). Returns the binary's path; fails, never skips, when it cannot."""
    if "path" in _vcsim_built:
        return _vcsim_built["path"]
    src = vcsim_dir()
    if src is None:
        raise AssertionError("the vCenter simulator launcher (build.sh) is missing from %s"
                             % (os.environ.get("SG_VCSIM_DIR", "") or VCSIM_DIR))
    out_dir = os.path.join(os.path.dirname(gateway_bin() or os.path.join(REPO, "build", "x")),
                           "vcsim")
    out = os.path.join(out_dir, "vcsimlite")
    proc = subprocess.run([os.path.join(src, "build.sh"), out], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=VCSIM_BUILD_TIMEOUT)
    if proc.returncode != 0 or not os.access(out, os.X_OK):
        raise AssertionError("building the vCenter simulator failed (exit %d):\n%s"
                             % (proc.returncode, proc.stdout.decode("utf-8", "replace")[-4000:]))
    _vcsim_built["path"] = out
    return out


class VCSim:
    """The simulator on a free loopback port for a with-block: `-l 127.0.0.1:0 -seed` plus
    args (e.g. ["-session-idle", "2s"], ["-password", "x"]). After start: url (the /sdk URL
    it printed), base_url (without /sdk: a backend's url), tasks ({"QUEUED": "task-68",
    "RUNNING": ..., "SUCCESS": ..., "ERROR": ...}), proc."""

    def __init__(self, args=(), start_timeout=20.0):
        self.args = list(args)
        self.start_timeout = start_timeout
        self.proc = None
        self.url = self.base_url = None
        self.tasks = {}

    def start(self):
        binary = vcsim_build()
        self.proc = subprocess.Popen([binary, "-l", "127.0.0.1:0", "-seed"] + self.args,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        lines = []
        deadline = time.monotonic() + self.start_timeout

        def on_timeout():
            self.proc.kill()

        timer = threading.Timer(self.start_timeout, on_timeout)
        timer.start()
        try:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                lines.append(line)
                m = re.match(r"VCSIM_TASK_([A-Z]+)=(\S+)$", line)
                if m:
                    self.tasks[m.group(1)] = m.group(2)
                m = re.match(r"VCSIM_URL=(\S+)", line)
                if m:
                    self.url = m.group(1)
                    break
        finally:
            timer.cancel()
        if self.url is None or time.monotonic() > deadline:
            self.stop()
            raise AssertionError("vcsimlite printed no VCSIM_URL; output:\n%s" % "\n".join(lines))
        self.base_url = self.url[:-len("/sdk")] if self.url.endswith("/sdk") else self.url
        # Keep draining its output so a chatty simulator never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        try:
            for _ in self.proc.stdout:
                pass
        except (OSError, ValueError):
            pass

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class HangingServer:
    """Accepts connections and never answers: a backend that hangs. .port, .url, stop()."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)
        for c in self.conns:
            c.close()


def reload_config(gw, cfg, timeout=5.0):
    """Rewrites gw's config file with cfg (on gw's own ports), sends SIGHUP and waits until
    snapgate_config_reloads_total{result="ok"} moves; returns whether it did."""
    def oks():
        try:
            samples = parse_metrics(gw.admin("GET", "/metrics", timeout=2).body.decode())
        except OSError:
            return -1
        return metric_value(samples, "snapgate_config_reloads_total", result="ok") or 0
    before = oks()
    with open(gw.config_path, "w") as f:
        f.write(to_yaml(merge(cfg, {"listen": "127.0.0.1:%d" % gw.port,
                                    "admin_listen": "127.0.0.1:%d" % gw.admin_port})))
    gw.proc.send_signal(signal.SIGHUP)
    ok = wait_for(lambda: oks() == before + 1, timeout)
    time.sleep(0.1)  # the workers apply it from their own loops
    return bool(ok)
