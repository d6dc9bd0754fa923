-- GET <url path> (the admin user search, e.g. /admin/users?email=<piece>) with "Authorization: Bearer <token>"
-- of an admin, cycling through the admin's seeded access tokens. An answer that does not list exactly the
-- expected number of accounts counts as failed: the scenario measures a search that finds them.
-- args: tokens_file (one access token a line), expected (accounts the search finds)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local headers = {}
local index = 0
local expected = 0

function init(args)
  for _, token in ipairs(read_lines(args[1])) do
    table.insert(headers, { Authorization = "Bearer " .. token })
  end
  assert(#headers > 0, "no access tokens in " .. args[1])
  expected = tonumber(args[2]) or 0
  index = tid
end

function request()
  index = index % #headers + 1
  return wrk.format("GET", wrk.path, headers[index])
end

function response(status, headers, body)
  if status == 200 then
    local _, found = string.gsub(body, '"email":', "")
    if found ~= expected then
      non2xx = non2xx + 1
      return
    end
  end
  count(status)
end
