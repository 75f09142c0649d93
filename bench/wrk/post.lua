-- wrk script: POST /auth/media-cookies in cfcookies' dev mode.
--   wrk ... -s post.lua URL -- one              every request as "alice"
--   wrk ... -s post.lua URL -- distinct PREFIX  a new X-Dev-User per request
-- (PREFIX keeps identities of separate runs apart.) Use with -t1: the
-- counter lives in the one thread's Lua state.
local user_of

function init(args)
  local mode, prefix = args[1] or "distinct", args[2] or "u"
  local n = 0
  if mode == "one" then
    user_of = function() return "alice" end
  else
    user_of = function() n = n + 1; return prefix .. n end
  end
end

function request()
  return wrk.format("POST", "/auth/media-cookies", { ["X-Dev-User"] = user_of() })
end
