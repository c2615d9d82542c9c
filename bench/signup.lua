-- wrk script for bench/signup_floor.py: POSTs the sign-up form, a new e-mail each request.
-- Arguments (after --): a data file written by signup_floor.py, and a tag that keeps the
-- e-mails of one wrk run apart from every other run's.
-- Data file: line 1 "<path>\t<form fields without email and orp, url-encoded>\t<orp ids, comma separated>",
-- then one "<Cookie header>\t<csrf token>" per session fetched beforehand (each a browser that
-- loaded the form; the token stays valid for its session).

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

path, fields, orps, sessions = nil, nil, nil, nil
-- Globals, so that done() can read them through thread:get.
sent, ok, redirects, client_errors, server_errors = 0, 0, 0, 0, 0

function init(args)
  local file = assert(io.open(args[1]))
  local header = file:read("*l")
  local p, f, o = header:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  path, fields, orps = p, f, {}
  for id in o:gmatch("[^,]+") do table.insert(orps, id) end
  sessions = {}
  for line in file:lines() do
    local cookie, token = line:match("^([^\t]*)\t(.*)$")
    table.insert(sessions, {cookie = cookie, token = token})
  end
  file:close()
  tag = args[2] .. "t" .. tid
end

function request()
  sent = sent + 1
  local s = sessions[(sent + tid) % #sessions + 1]
  local body = fields .. "&email=" .. tag .. "n" .. sent .. "%40example.cz&orp=" .. orps[sent % #orps + 1]
    .. "&csrf_token=" .. s.token
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if s.cookie ~= "" then headers["Cookie"] = s.cookie end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status < 300 then ok = ok + 1
  elseif status < 400 then redirects = redirects + 1
  elseif status < 500 then client_errors = client_errors + 1
  else server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local totals = {sent = 0, ok = 0, redirects = 0, client_errors = 0, server_errors = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do totals[key] = totals[key] + thread:get(key) end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT duration_us=%d requests=%d sent=%d ok=%d redirects=%d client_errors=%d server_errors=%d "
      .. "socket_errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.duration, summary.requests, totals.sent, totals.ok, totals.redirects, totals.client_errors,
    totals.server_errors, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
