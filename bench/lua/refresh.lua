-- POST <url path> {"refresh_token": ...}: every request is a valid rotation.
--
-- Each thread owns a pool of refresh tokens (its share of the seeded ones, about 2 per connection).
-- request() takes a token out of the pool, response() parses the successor out of the JSON body and
-- puts it back, so no token is ever presented twice. A non-2xx answer loses its token (and is
-- counted); an empty pool is counted as "starved" and sends a token that cannot be valid.
-- At the end the tokens still in the pools (all of them unspent) are written to leftover_file, so
-- bench/run.py can reuse them in the next round.
-- args: tokens_file nthreads leftover_file
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

pool = {}
leftover_file = nil
local json_headers = { ["Content-Type"] = "application/json" }

function init(args)
  pool = my_share(read_lines(args[1]), tonumber(args[2]))
  leftover_file = args[3]
end

function request()
  local token = table.remove(pool, 1)
  if token == nil then
    starved = starved + 1
    token = "pool-exhausted"
  end
  return wrk.format("POST", wrk.path, json_headers, '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    local token = body and body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      table.insert(pool, token)
    else
      unparsed = unparsed + 1
    end
  end
  count(status)
end

function on_done(threads)
  local path = threads[1] and threads[1]:get("leftover_file")
  if not path then
    return
  end
  local file = assert(io.open(path, "w"))
  for _, thread in ipairs(threads) do
    for _, token in ipairs(thread:get("pool") or {}) do
      file:write(token, "\n")
    end
  end
  file:close()
end
