import { createHash } from "node:crypto";

/**
 * The whole decision for one request in one atomic script: GCRA over every bucket of the request
 * (KEYS[i], with ARGV[2i-1] = interval in microseconds and ARGV[2i] = burst), on Redis's own
 * clock so replicas with skewed clocks agree. Buckets are written only when every one admits.
 * The formulas are gcra.ts's (see there); numbers stay whole microseconds, below 2^53, so Lua's
 * doubles hold them exactly, and they are formatted with %.0f because Redis would otherwise turn
 * a large Lua number into an exponent form string.
 *
 * Reply: [allowed, then per key: allowed, remaining, resetUs, retryAfterUs].
 */
function gcraScript(clock: string): string {
  return `${clock}
local n = #KEYS
local states = {}
local allowed = 1
for i = 1, n do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = interval * tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local newTat = tat + interval
  if newTat - now > tolerance then
    allowed = 0
    states[i] = { 0, tat, 0, tat - now, newTat - now - tolerance }
  else
    states[i] = { 1, newTat, math.floor((tolerance - (newTat - now)) / interval), newTat - now, 0 }
  end
end
local reply = { allowed }
for i = 1, n do
  local s = states[i]
  if allowed == 1 then
    redis.call('SET', KEYS[i], string.format('%.0f', s[2]), 'PX', string.format('%.0f', math.ceil((s[2] - now) / 1000)))
  elseif s[1] == 1 then
    -- Rejected by another bucket: this one consumes nothing, so report it as it stands.
    local interval = tonumber(ARGV[2 * i - 1])
    s[3] = s[3] + 1
    s[4] = s[4] - interval
  end
  reply[#reply + 1] = s[1]
  reply[#reply + 1] = s[3]
  reply[#reply + 1] = s[4]
  reply[#reply + 1] = s[5]
end
return reply
`;
}

export const GCRA_SCRIPT = gcraScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])`);

/** Tests only: the same script on a clock given as one more ARGV (microseconds), to compare it with gcra.ts. */
export const GCRA_SCRIPT_WITH_CLOCK_ARG = gcraScript(`local now = tonumber(ARGV[#ARGV])`);

/** The SHA1 that EVALSHA names the script by. */
export const GCRA_SCRIPT_SHA1 = createHash("sha1").update(GCRA_SCRIPT).digest("hex");
