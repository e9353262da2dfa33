-- Refresh-token rotation at the token endpoint, for bench/provider.sh:
--   wrk -t2 -c32 -s bench/refresh.lua -H 'Authorization: Basic ...' URL/oauth/token -- FILE THREADS
-- FILE holds refresh tokens, one a line, each of its own sign-in; thread i of THREADS takes
-- lines i+1, i+1+THREADS, ... into a queue. A refresh token is single-use (a second use revokes
-- its sign-in), and wrk's Lua does not say which connection a request or answer is for, so each
-- request takes a token from the thread's queue and each answer puts the new one back: with at
-- least as many tokens as connections per thread (`-c` = THREADS x tokens per thread), a
-- connection always finds one, and no token is ever sent twice. (wrk calls request() once
-- before the run to check it; that token is lost, so give thread 1 one token more.)
-- done() prints the answers that were not 200, and the requests that found the queue empty
-- (sent with a token that does not exist, answered 400): both must be 0.
local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local queue = {}
local head, tail = 1, 0
bad, missing, starved = 0, 0, 0

function init(args)
   local file, nthreads = args[1], tonumber(args[2] or "1")
   local n = 0
   for line in io.lines(file) do
      if line ~= "" then
         if n % nthreads == id - 1 then
            tail = tail + 1
            queue[tail] = line
         end
         n = n + 1
      end
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
   local token = "none"
   if head <= tail then
      token = queue[head]
      queue[head] = nil
      head = head + 1
   else
      starved = starved + 1
   end
   return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
   if status ~= 200 then
      bad = bad + 1
      return
   end
   local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
   if token then
      tail = tail + 1
      queue[tail] = token
   else
      missing = missing + 1
   end
end

function done(summary, latency, requests)
   local b, m, s = 0, 0, 0
   for _, t in ipairs(threads) do
      b = b + t:get("bad")
      m = m + t:get("missing")
      s = s + t:get("starved")
   end
   io.write(string.format("refresh: %d answers, %d not 200, %d without a refresh_token, %d requests with no token left\n",
      summary.requests, b, m, s))
end
