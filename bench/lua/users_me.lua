-- GET <url path> with "Authorization: Bearer <token>", cycling through the seeded access tokens.
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
  index = tid  -- threads start at different tokens
end

function request()
  index = index % #headers + 1
  return wrk.format("GET", wrk.path, headers[index])
end

function response(status, headers, body)
  count(status)
end
