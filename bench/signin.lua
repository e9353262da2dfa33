-- wrk script for bench/signin.sh: POST /rpc/sign_in as a same-origin page would, rotating
-- over the bench accounts s0..s31 (one account's throttle never matters: every sign-in is
-- correct).
local n = 0
local origin = os.getenv("BENCH_ORIGIN")
local pw = os.getenv("BENCH_PASSWORD")
request = function()
  n = n + 1
  local body = "login=s" .. (n % 32) .. "&password=" .. pw:gsub(" ", "+")
  return wrk.format("POST", "/rpc/sign_in", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = origin,
    ["Sec-Fetch-Site"] = "same-origin",
  }, body)
end
