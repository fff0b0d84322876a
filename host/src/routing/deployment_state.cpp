#include "routing/deployment_state.hpp"

#include <algorithm>

namespace llmhost::routing {
namespace {

// Weight of the newest call in the latency average: about the last ten calls count.
constexpr double kLatencyWeight = 0.2;

}  // namespace

DeploymentState::DeploymentState(const config::Deployment &d, const config::RouterSettings &router, bool alone)
    : deployment_(d),
      allowed_fails_(router.allowed_fails.value_or(3)),
      cooldown_(alone && !router.allowed_fails ? Clock::duration::zero()
                                               : std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(router.cooldown_time_s))) {}

std::optional<Refusal> DeploymentState::refusal(Clock::time_point now) {
  if (now < cooling_until_) return Refusal{Refusal::Kind::kCooldown, cooling_until_};
  if (deployment_.rpm && requests_.count(now) >= *deployment_.rpm)
    return Refusal{Refusal::Kind::kRpm, requests_.next_expiry(now)};
  if (deployment_.tpm && tokens_.total(now) >= *deployment_.tpm)
    return Refusal{Refusal::Kind::kTpm, tokens_.below(*deployment_.tpm, now)};
  return std::nullopt;
}

std::optional<Refusal> DeploymentState::admit(Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (std::optional<Refusal> r = refusal(now)) {
    ++counts_.refused[static_cast<size_t>(r->kind)];
    return r;
  }
  requests_.add(now);
  ++counts_.requests;
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void DeploymentState::succeeded(Clock::time_point now, Clock::duration latency, uint64_t tokens) {
  const double s = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  if (tokens) tokens_.add(now, tokens);
  counts_.tokens += tokens;
  latency_avg_s_ = counts_.latency_count ? latency_avg_s_ + kLatencyWeight * (s - latency_avg_s_) : s;
  const auto bucket = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), s);
  if (bucket != kLatencyBuckets.end()) ++counts_.latency_buckets[bucket - kLatencyBuckets.begin()];
  ++counts_.latency_count;
  counts_.latency_sum += s;
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

bool DeploymentState::failed(Clock::time_point now, bool rate_limited) {
  std::lock_guard lock(mu_);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  failures_.add(now);
  if ((!rate_limited && failures_.count(now) <= allowed_fails_) || cooldown_ == Clock::duration::zero() ||
      now < cooling_until_)
    return false;
  cooling_until_ = now + cooldown_;
  ++counts_.cooldowns;
  return true;
}

void DeploymentState::release() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

double DeploymentState::latency_s() const {
  std::lock_guard lock(mu_);
  return latency_avg_s_;
}

uint64_t DeploymentState::tokens_this_minute(Clock::time_point now) {
  std::lock_guard lock(mu_);
  return tokens_.total(now);
}

LimitUse DeploymentState::limit_use(Clock::time_point now) {
  std::lock_guard lock(mu_);
  LimitUse u;
  u.rpm = deployment_.rpm;
  u.tpm = deployment_.tpm;
  u.requests = requests_.count(now);
  u.tokens = tokens_.total(now);
  u.requests_reset = deployment_.rpm && u.requests >= *deployment_.rpm ? requests_.next_expiry(now) : now;
  u.tokens_reset = deployment_.tpm ? tokens_.below(*deployment_.tpm, now) : now;
  return u;
}

DeploymentState::Counts DeploymentState::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void Lease::succeeded(uint64_t tokens) {
  if (!state_) return;
  const Clock::time_point now = Clock::now();
  std::exchange(state_, nullptr)->succeeded(now, now - start_, tokens);
}

bool Lease::failed(bool rate_limited) {
  return state_ && std::exchange(state_, nullptr)->failed(Clock::now(), rate_limited);
}

void Lease::end() {
  if (state_) std::exchange(state_, nullptr)->release();
}

}  // namespace llmhost::routing
