#include "routing/shared_limits.hpp"

#include <openssl/sha.h>

#include <cmath>
#include <random>

namespace llmhost::routing {
namespace {

// KEYS: five per candidate: requests log (sorted set), tokens log (sorted set of "id:tokens"),
// tokens total, failures log, cooldown flag. ARGV: window (µs), entry id, "fewest" or "first",
// then rpm and tpm per candidate (0: none). Returns the index taken (1-based, 0: none), then per
// candidate: state (0 free, 1 rpm, 2 tpm, 3 cooling down, -1 not looked at), requests, tokens,
// and the ms until it is free again. Refusals in the same order as in process. A deployment
// keeps no requests log without an rpm, nor a tokens log without a tpm (unless "fewest").
constexpr const char *kAdmitScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local ttl = math.floor(window / 1000) + 1000
local fewest = ARGV[3] == 'fewest'
local n = #KEYS / 5
local function weight(entry) return tonumber(string.match(entry, ':(%d+)$')) end
local out, taken, taken_tokens = {0}, 0, nil
for i = 1, n do
  local k = (i - 1) * 5
  local rpm, tpm = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local requests, tokens = 0, 0
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', now - window)
    requests = redis.call('ZCARD', KEYS[k + 1])
  end
  if tpm > 0 or fewest then
    local old = redis.call('ZRANGEBYSCORE', KEYS[k + 2], '-inf', now - window)
    if #old == 0 then
      tokens = tonumber(redis.call('GET', KEYS[k + 3]) or '0')
    else
      local gone = 0
      for _, e in ipairs(old) do gone = gone + weight(e) end
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', now - window)
      tokens = redis.call('DECRBY', KEYS[k + 3], gone)
    end
  end
  local state, wait = 0, 0
  local cooling = redis.call('PTTL', KEYS[k + 5])
  if cooling > 0 then
    state, wait = 3, cooling * 1000
  elseif rpm > 0 and requests >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[k + 1], 0, 0, 'WITHSCORES')
    state, wait = 1, tonumber(oldest[2]) + window - now
  elseif tpm > 0 and tokens >= tpm then
    state, wait = 2, window
    local entries = redis.call('ZRANGE', KEYS[k + 2], 0, -1, 'WITHSCORES')
    local left = tokens
    for j = 1, #entries, 2 do
      left = left - weight(entries[j])
      if left < tpm then
        wait = tonumber(entries[j + 1]) + window - now
        break
      end
    end
  end
  out[#out + 1] = state
  out[#out + 1] = requests
  out[#out + 1] = tokens
  out[#out + 1] = math.ceil(wait / 1000)
  if state == 0 and (taken == 0 or tokens < taken_tokens) then
    taken, taken_tokens = i, tokens
  end
  if taken ~= 0 and not fewest then
    for j = i + 1, n do
      out[#out + 1] = -1; out[#out + 1] = 0; out[#out + 1] = 0; out[#out + 1] = 0
    end
    break
  end
end
if taken ~= 0 and tonumber(ARGV[2 + 2 * taken]) > 0 then
  local k = (taken - 1) * 5
  redis.call('ZADD', KEYS[k + 1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[k + 1], ttl)
  out[3 + (taken - 1) * 4] = out[3 + (taken - 1) * 4] + 1
end
out[1] = taken
return out
)lua";

// KEYS: tokens log, tokens total, failures log, cooldown flag. ARGV: window (µs), entry id,
// tokens, failure (0 none, 1 failed, 2 rate limited), allowed fails, cooldown (ms; 0: never).
// Returns 1 when this failure started a cooldown.
constexpr const char *kReportScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local ttl = math.floor(window / 1000) + 1000
local tokens = tonumber(ARGV[3])
if tokens > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. tokens)
  redis.call('INCRBY', KEYS[2], tokens)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if ARGV[4] == '0' then return 0 end
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
redis.call('PEXPIRE', KEYS[3], ttl)
local cooldown = tonumber(ARGV[6])
if cooldown == 0 or redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if ARGV[4] ~= '2' and redis.call('ZCARD', KEYS[3]) <= tonumber(ARGV[5]) then return 0 end
redis.call('SET', KEYS[4], '1', 'PX', cooldown)
return 1
)lua";

enum Script : size_t { kAdmit, kReport };

std::string hex(const unsigned char *bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

int64_t micros(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

}  // namespace

// A digest rather than the fields themselves: the api_key never reaches Redis, and two
// deployments that differ only in their key (one upstream account each) count apart.
std::string shared_key(const std::string &model_name, const config::Deployment &d) {
  const std::string identity = d.model + '\n' + d.api_base + '\n' + d.api_key;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(identity.data()), identity.size(), digest);
  return "llmhost:{" + model_name + "}:" + hex(digest, 8);
}

SharedLimits::SharedLimits(boost::asio::io_context &ioc, const config::RedisSettings &settings,
                           config::RoutingStrategy strategy, redis::Client::Notice notice, Clock::duration window)
    : client_(ioc, settings, {kAdmitScript, kReportScript}, std::move(notice)),
      fewest_tokens_(strategy == config::RoutingStrategy::kUsageBased),
      window_(window),
      instance_([] {
        std::random_device rd;
        const uint64_t id = (static_cast<uint64_t>(rd()) << 32) | rd();
        return hex(reinterpret_cast<const unsigned char *>(&id), sizeof id);
      }()) {}

std::string SharedLimits::next_id() {
  return instance_ + '-' + std::to_string(seq_.fetch_add(1, std::memory_order_relaxed));
}

void SharedLimits::admit(const std::vector<DeploymentState *> &candidates,
                         std::function<void(std::optional<Verdict>)> done) {
  std::vector<std::string> keys, args{std::to_string(micros(window_)), next_id(), fewest_tokens_ ? "fewest" : "first"};
  keys.reserve(candidates.size() * 5);
  for (const DeploymentState *s : candidates) {
    for (const char *suffix : {":r", ":t", ":T", ":f", ":c"}) keys.push_back(s->shared_key() + suffix);
    args.push_back(std::to_string(s->deployment().rpm.value_or(0)));
    args.push_back(std::to_string(s->deployment().tpm.value_or(0)));
  }
  client_.eval(kAdmit, std::move(keys), std::move(args),
               [candidates, done = std::move(done)](std::optional<std::vector<int64_t>> out) {
                 const size_t n = candidates.size();
                 if (!out || out->size() != 1 + 4 * n || (*out)[0] < 0 || static_cast<size_t>((*out)[0]) > n)
                   return done(std::nullopt);
                 const Clock::time_point now = Clock::now();
                 Verdict v{(*out)[0] ? static_cast<size_t>((*out)[0] - 1) : n, {}};
                 v.refused.resize(n);
                 for (size_t i = 0; i < n; ++i) {
                   const int64_t *row = out->data() + 1 + 4 * i;
                   if (row[0] < 1 || row[0] > 3) continue;
                   const config::Deployment &d = candidates[i]->deployment();
                   const Clock::time_point until = now + std::chrono::milliseconds(row[3]);
                   Refusal r{static_cast<Refusal::Kind>(row[0] - 1), until, {}};
                   r.use.rpm = d.rpm;
                   r.use.tpm = d.tpm;
                   r.use.requests = static_cast<uint64_t>(row[1]);
                   r.use.tokens = static_cast<uint64_t>(std::max<int64_t>(0, row[2]));
                   r.use.requests_reset = r.kind == Refusal::Kind::kRpm ? until : now;
                   r.use.tokens_reset = r.kind == Refusal::Kind::kTpm ? until : now;
                   v.refused[i] = r;
                 }
                 done(std::move(v));
               });
}

void SharedLimits::report(DeploymentState &state, uint64_t tokens, Failure failure) {
  if (!state.deployment().tpm && !fewest_tokens_) tokens = 0;
  if (!tokens && failure == Failure::kNone) return;
  const std::string &key = state.shared_key();
  const int64_t cooldown_ms = std::chrono::duration_cast<std::chrono::milliseconds>(state.cooldown()).count();
  client_.eval(
      kReport, {key + ":t", key + ":T", key + ":f", key + ":c"},
      {std::to_string(micros(window_)), next_id(), std::to_string(tokens), std::to_string(static_cast<int>(failure)),
       std::to_string(state.allowed_fails()), std::to_string(cooldown_ms)},
      [&state, failure](std::optional<std::vector<int64_t>> out) {
        if (failure == Failure::kNone) return;
        const Clock::time_point now = Clock::now();
        if (!out) {
          state.cool_if_due(now, failure == Failure::kRateLimited);
        } else if (!out->empty() && (*out)[0] == 1) {
          state.cooled(now);
        }
      });
}

}  // namespace llmhost::routing
