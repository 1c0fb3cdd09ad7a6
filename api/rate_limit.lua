-- The API's rate limit on one key: a sliding window over the times of the requests it let through
-- (api/rate_limit.py). Checked and recorded in one step, so two processes cannot both take the last
-- request of a window. Times are whole microseconds since the epoch (exact in a Lua number).
--
-- KEYS[1]  the key's log: a sorted set of request ids, each scored by when it was let through
-- ARGV[1]  the limit: requests in any window
-- ARGV[2]  the window, in microseconds
-- ARGV[3]  now, in microseconds; empty for Redis's clock (what every web process shares)
-- ARGV[4]  an id for this request, unique
--
-- Returns 0 when the request is let through, else the microseconds until it would be: until the
-- oldest request in the window leaves it. A request refused is not recorded, so asking again
-- early never pushes that time back.
local log = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
end
-- The window is (now - window, now]: a request exactly one window old has left it.
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
if redis.call('ZCARD', log) < limit then
  redis.call('ZADD', log, now, ARGV[4])
  redis.call('PEXPIRE', log, math.ceil(window / 1000))
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2])
return oldest + window - now
