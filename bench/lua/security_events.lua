-- GET <url path> (/users/me/security-events: the first page of the caller's security log) with
-- "Authorization: Bearer <token>", cycling through the seeded access tokens. An answer without any event
-- counts as failed: every seeded user has logged in, so each log has at least its logins.
-- args: tokens_file (one access token a line)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
  load_bearer_tokens(args[1])
end

request = get_with_next_token

function response(status, headers, body)
  if status == 200 and not string.find(body, '"events":[{', 1, true) then
    non2xx = non2xx + 1
    return
  end
  count(status)
end
