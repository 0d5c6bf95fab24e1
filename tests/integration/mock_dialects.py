#!/usr/bin/env python3
"""MockVCenter speaking two more dialects: vCenter's legacy `/rest` API and a snapservice
appliance's task API. Everything MockVCenter serves (the cis API, the /_mock/ control API,
scripts, stats, session expiry) is unchanged; this only adds paths. Python 3 standard
library only.

Added API (same sessions, same task scripts, same counters as the cis API):
  POST   /rest/com/vmware/cis/session  Basic user/password -> 200 {"value": "<session id>"};
                                       else the legacy error form
  GET    /rest/com/vmware/cis/session  vmware-api-session-id -> 200 {"value": {session info}}
  DELETE /rest/com/vmware/cis/session  -> 200
  GET    /rest/cis/tasks/{id}          the task's scripted answer in the legacy encoding:
                                       a 200 Info as {"value": Info} with every message's
                                       params written as [{"key", "value"}] lists (also inside
                                       nested `l` and error.messages); a flat standard error as
                                       {"type": "com.vmware.vapi.std.errors.<x>", "value": ...}.
                                       Answers already in that form (the rest-* fixtures) and
                                       bodies that are not JSON are sent as they are.
  GET    /api/snapservice/tasks/{id}   the task's scripted answer as it is (an Info is already
                                       the snapservice shape; errors are flat standard errors)

Seeded tasks: the cis-* fixtures (as MockVCenter), plus the rest-* and snapservice-* fixtures
of the same directory, each under its meta's task id, served byte for byte.
"""

import glob
import json
import os
import urllib.parse

import mock_vcenter as mv

REST_SESSION = "/rest/com/vmware/cis/session"
REST_TASKS = "/rest/cis/tasks/"
SNAPSERVICE_TASKS = "/api/snapservice/tasks/"
STD_ERROR_TYPE_PREFIX = "com.vmware.vapi.std.errors."


def load_dialect_scripts(fixtures_dir, prefixes=("rest-", "snapservice-")):
    """Scripts {task id: answer} for the fixtures whose names start with one of prefixes:
    each upstream body byte for byte with the meta's upstream_http_status."""
    scripts = {}
    for prefix in prefixes:
        for meta_path in sorted(glob.glob(os.path.join(fixtures_dir, prefix + "*.meta.json"))):
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
            up_path = meta_path[:-len(".meta.json")] + ".upstream.json"
            if not os.path.exists(up_path):
                continue
            with open(up_path, encoding="utf-8") as f:
                raw = f.read()
            scripts[meta["task"]] = {"status": int(meta.get("upstream_http_status", 200)),
                                     "raw": raw}
    return scripts


def legacy_message(msg):
    """A LocalizableMessage (or nested `l` message) with params as key/value lists."""
    if not isinstance(msg, dict):
        return msg
    out = dict(msg)
    params = out.get("params")
    if isinstance(params, dict):
        lst = []
        for key, param in params.items():
            if isinstance(param, dict) and "l" in param:
                param = dict(param, l=legacy_message(param["l"]))
            lst.append({"key": key, "value": param})
        out["params"] = lst
    return out


def legacy_error(err):
    """A flat standard error value with its messages' params as lists."""
    out = dict(err)
    if isinstance(out.get("messages"), list):
        out["messages"] = [legacy_message(m) for m in out["messages"]]
    return out


def legacy_info(info):
    """A cis/snapservice Info in the legacy encoding (not yet wrapped)."""
    out = dict(info)
    if "description" in out:
        out["description"] = legacy_message(out["description"])
    if isinstance(out.get("progress"), dict) and "message" in out["progress"]:
        out["progress"] = dict(out["progress"], message=legacy_message(out["progress"]["message"]))
    if isinstance(out.get("error"), dict):
        out["error"] = legacy_error(out["error"])
    return out


def legacy_body(status, body):
    """What /rest sends for an answer the cis API would send as (status, body text)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return body  # garbage stays garbage
    if not isinstance(obj, dict):
        return body
    if 200 <= status < 300:
        if set(obj) == {"value"}:
            return body  # already legacy
        return json.dumps({"value": legacy_info(obj)})
    if set(obj) == {"type", "value"}:
        return body  # already legacy
    if isinstance(obj.get("error_type"), str) and "messages" in obj:
        return json.dumps({"type": STD_ERROR_TYPE_PREFIX + obj["error_type"].lower(),
                           "value": legacy_error(obj)})
    return body


class _DialectHandler(mv._Handler):
    """The cis handler plus the /rest and /api/snapservice paths. A request on those sets
    self._view; _send rewrites every JSON body of a "rest" view to the legacy encoding, so
    the cis handler's own task and error code serves both."""

    _view = None

    def _send(self, status, body=b"", ctype="application/json", headers=None):
        if self._view == "rest" and body and ctype == "application/json":
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            body = legacy_body(status, text)
        return super()._send(status, body, ctype, headers)

    def _dispatch(self):
        path = self.path.split("?", 1)[0]
        if path == REST_SESSION:
            view, prefix = "rest", None
        elif path.startswith(REST_TASKS):
            view, prefix = "rest", REST_TASKS
        elif path.startswith(SNAPSERVICE_TASKS):
            view, prefix = "snapservice", SNAPSERVICE_TASKS
        else:
            self._view = None
            return super()._dispatch()
        self._read_body()
        task = None
        if prefix and self.command == "GET":
            seg = path[len(prefix):]
            if seg and "/" not in seg:
                task = urllib.parse.unquote(seg, errors="surrogateescape")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._view = view
        self._entry = self.mock._record(self.command, path, headers, task, self.conn_id)
        try:
            if prefix is None:
                self._serve_rest_session()
            elif task is not None:
                self._serve_task(task)
            else:
                self._send_error(405 if self.command != "GET" else 404)
        finally:
            self._entry = None
            self._view = None
        return None

    def _serve_rest_session(self):
        sid = self.headers.get(mv.SESSION_HEADER)
        if self.command == "POST":
            user, pw = self._basic_credentials()
            status, new_sid = self.mock._login(user, pw)
            if new_sid is None:
                return self._send_error(status)
            return self._send_json(200, {"value": new_sid})
        if self.command == "GET":
            info = self.mock._session(sid)
            return self._send_json(200, {"value": info}) if info else self._send_error(401)
        if self.command == "DELETE":
            info = self.mock._session(sid, drop=True)
            return self._send(200) if info else self._send_error(401)
        return self._send_error(405)


class MockDialects(mv.MockVCenter):
    """MockVCenter that also serves the rest and snapservice dialects (see the module doc)."""

    def __init__(self, *args, fixtures_dir=None, **kw):
        super().__init__(*args, fixtures_dir=fixtures_dir, **kw)
        if fixtures_dir:
            self._seed.update(load_dialect_scripts(fixtures_dir))
            self.reset()

    def start(self):
        super().start()
        # No client knows the port before start() returns: every connection gets this class.
        self._server.RequestHandlerClass = _DialectHandler
        return self
