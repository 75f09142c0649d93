-- wrk script: post.lua at a target rate, for latency below saturation.
--   wrk -t1 -cC ... -s post-paced.lua URL -- MODE PREFIX RATE C
-- Each of the C connections waits an exponentially distributed time with
-- mean C/RATE seconds before each request, so requests arrive roughly as a
-- Poisson stream of RATE per second. The wait does not include the
-- response time, so the achieved rate is a little below RATE (wrk prints
-- it); latency is timed from the moment a request is written, without
-- wrk2's correction for coordinated omission, which matters little below
-- saturation.
local user_of, mean_ms

function init(args)
  local mode, prefix = args[1] or "distinct", args[2] or "u"
  local rate, conns = tonumber(args[3]), tonumber(args[4])
  mean_ms = 1000 * conns / rate
  local n = 0
  if mode == "one" then
    user_of = function() return "alice" end
  else
    user_of = function() n = n + 1; return prefix .. n end
  end
  math.randomseed(os.time())
end

function delay()
  return -math.log(1 - math.random()) * mean_ms
end

function request()
  return wrk.format("POST", "/auth/media-cookies", { ["X-Dev-User"] = user_of() })
end
