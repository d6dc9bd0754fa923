-- GET <url path> (/users/me/security-events: the first page of the caller's security log) with
-- "Authorization: Bearer <token>", cycling through the seeded access tokens. An answer without any event
-- counts as failed: every seeded user has logged in, so each log has at least its logins.
-- args: tokens_file (one access token a line)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local headers = {}
local index = 0

function init(args)
  for _, token in ipairs(read_lines(args[1])) do
    table.insert(headers, { Authorization = "Bearer " .. token })
  end
  assert(#headers > 0, "no access tokens in " .. args[1])
  index = tid
end

function request()
  index = index % #headers + 1
  return wrk.format("GET", wrk.path, headers[index])
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"events":[{', 1, true) then
    non2xx = non2xx + 1
    return
  end
  count(status)
end
