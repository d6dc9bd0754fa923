-- POST <url path> (the OAuth token endpoint), password grant with valid credentials, cycling users.
-- args: credentials_file (one "email<TAB>password" a line)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local bodies = {}
local index = 0
local form_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  for _, line in ipairs(read_lines(args[1])) do
    local email, password = line:match("^([^\t]+)\t(.+)$")
    table.insert(bodies, "grant_type=password&username=" .. urlencode(email) .. "&password=" .. urlencode(password))
  end
  assert(#bodies > 0, "no credentials in " .. args[1])
  index = tid
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", wrk.path, form_headers, bodies[index])
end

function response(status, headers, body)
  count(status)
end
