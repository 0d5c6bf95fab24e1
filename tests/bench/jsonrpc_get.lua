-- wrk script: the JSON-RPC hit path (issue 13). Every request is the Python SDK's
-- `Tasks.get(task)` with a user_pass security context, POSTed to the URL (.../api or
-- .../snapservice) with the SDK's headers (api/JSONRPC.md 1.3), one body built once per
-- thread: no Lua runs per request unless the check mode is on.
--
--   wrk -t1 -c64 -d10s --latency -s tests/bench/jsonrpc_get.lua http://127.0.0.1:8080/api \
--       [-- TASK USER PASSWORD [check]]
--
-- TASK / USER / PASSWORD: wrk args, else $SG_TASK / $SG_USER / $SG_PASSWORD, else task-1 and
-- the bench harness's credential (administrator@vsphere.local / VMware1!). $SG_BODY_FILE:
-- POST that file's bytes instead (a captured body, e.g. a holder-of-key request); its
-- service and operation headers stay tasks / get.
-- check (4th arg, or $SG_CHECK=1): every answer whose body does not hold "result":{"output"
-- counts as a status error (JSON-RPC errors are HTTP 200, which wrk counts as success);
-- costs a Lua call and a body scan per answer, so measure without it.
-- At the end prints, as the anchor harness's lib/report.lua does, one line
-- WRKJSON {...} (latencies in microseconds), so lib/runner.py summarize-style tooling and
-- the REST runs read the same fields; plus "rpc_not_output" in check mode.

bad = 0 -- per thread (read by done through thread:get)
local threads = {}

local function jstr(s)
    -- a JSON string literal (ASCII control characters escaped; UTF-8 passed through)
    return '"' .. s:gsub('[%c"\\]', function(c)
        local map = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r',
                      ['\t'] = '\\t' }
        return map[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
end

local function opid()
    -- a version 4 UUID, as the SDK's appCtx.opId
    return (("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"):gsub("[xy]", function(c)
        local v = c == "x" and math.random(0, 15) or math.random(8, 11)
        return string.format("%x", v)
    end))
end

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    math.randomseed(os.time() + #threads)
    local task = args[1] or os.getenv("SG_TASK") or "task-1"
    local user = args[2] or os.getenv("SG_USER") or "administrator@vsphere.local"
    local password = args[3] or os.getenv("SG_PASSWORD") or "VMware1!"
    local check = args[4] == "check" or os.getenv("SG_CHECK") == "1"
    local op = opid()
    local body
    local file = os.getenv("SG_BODY_FILE")
    if file and file ~= "" then
        local f = assert(io.open(file, "rb"), "cannot read SG_BODY_FILE " .. file)
        body = f:read("*a")
        f:close()
    else
        -- the SDK's key order and compact form (JSONRPC.md 1.3)
        body = '{"jsonrpc":"2.0","method":"invoke","params":{"serviceId":'
            .. '"com.vmware.snapservice.tasks","operationId":"get","input":{"STRUCTURE":'
            .. '{"operation-input":{"task":' .. jstr(task) .. '}}},"ctx":{"appCtx":{"opId":'
            .. jstr(op) .. '},"securityCtx":{"schemeId":'
            .. '"com.vmware.vapi.std.security.user_pass","userName":' .. jstr(user)
            .. ',"password":' .. jstr(password) .. '}}},"id":"0"}'
    end
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["User-Agent"] = "vAPI/2.52.0 Python/3.11.2 (Linux; 6.1.0; x86_64)"
    wrk.headers["Accept"] = "*/*"
    wrk.headers["Accept-Encoding"] = "gzip, deflate"
    wrk.headers["vapi-service"] = "com.vmware.snapservice.tasks"
    wrk.headers["vapi-operation"] = "get"
    wrk.headers["vapi-ctx-opid"] = op
    request = nil -- static request: built once from wrk.* above
    if not check then response = nil end
end

function response(status, headers, body)
    -- non-200 answers are wrk's own status errors already
    if status == 200 and not body:find('"result":{"output"', 1, true) then
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local not_output = 0
    for _, t in ipairs(threads) do not_output = not_output + (tonumber(t:get("bad")) or 0) end
    local function p(q) return latency:percentile(q) end
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
        '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
        '"lat_mean_us":%.1f,"lat_stdev_us":%.1f,"lat_min_us":%d,"lat_max_us":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"rpc_not_output":%d}\n',
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status + not_output, e.timeout,
        latency.mean, latency.stdev, latency.min, latency.max,
        p(50), p(90), p(99), p(99.9), not_output))
end
