-- GET <url path> with "Authorization: Bearer <token>", cycling through the seeded access tokens.
-- args: tokens_file (one access token a line)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
  load_bearer_tokens(args[1])
end

request = get_with_next_token

function response(status, headers, body)
  count(status)
end
