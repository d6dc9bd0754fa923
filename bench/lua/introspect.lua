-- POST <url path> with a form `token=<access token>` and HTTP Basic client authentication, cycling through the
-- seeded access tokens (JWTs need no form encoding).
-- args: tokens_file (one access token a line), basic (base64 of client_id:client_secret)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local bodies = {}
local headers = {}
local index = 0

function init(args)
  for _, token in ipairs(read_lines(args[1])) do
    table.insert(bodies, "token=" .. token)
  end
  assert(#bodies > 0, "no access tokens in " .. args[1])
  headers = { Authorization = "Basic " .. args[2], ["Content-Type"] = "application/x-www-form-urlencoded" }
  index = tid  -- threads start at different tokens
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", wrk.path, headers, bodies[index])
end

function response(status, headers, body)
  -- an answer that is not {"active": true, ...} counts as failed: the scenario measures active tokens
  if status == 200 and not string.find(body, '"active":true', 1, true) then
    non2xx = non2xx + 1
    return
  end
  count(status)
end
