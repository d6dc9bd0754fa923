-- GET <url path> (the admin user search, e.g. /admin/users?email=<piece>) with "Authorization: Bearer <token>"
-- of an admin, cycling through the admin's seeded access tokens. An answer that does not list exactly the
-- expected number of accounts counts as failed: the scenario measures a search that finds them.
-- args: tokens_file (one access token a line), expected (accounts the search finds)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local expected = 0

function init(args)
  load_bearer_tokens(args[1])
  expected = tonumber(args[2]) or 0
end

request = get_with_next_token

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
