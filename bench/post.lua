-- A form POST for wrk (bench/provider.sh): the body is the script's first argument.
--   wrk ... -s bench/post.lua URL -- 'token=...'
function init(args)
   wrk.method = "POST"
   wrk.body = args[1]
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
