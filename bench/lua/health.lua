-- GET <url path> as a light probe: each connection waits delay_ms between its requests, so the
-- probe measures the latency the server gives a cheap request, not how many it can squeeze in.
-- args: delay_ms
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local pause = 0

function init(args)
  pause = tonumber(args[1]) or 0
end

function delay()
  return pause
end

function response(status, headers, body)
  count(status)
end
