#include "routing/deployment_state.hpp"

#include <algorithm>

#include "routing/shared_limits.hpp"

namespace llmhost::routing {
namespace {

// Weight of the newest call in the latency average: about the last ten calls count.
constexpr double kLatencyWeight = 0.2;

}  // namespace

DeploymentState::DeploymentState(const config::Deployment &d, const config::RouterSettings &router, bool alone,
                                 std::string shared_key, size_t group)
    : deployment_(d),
      shared_key_(std::move(shared_key)),
      group_(group),
      allowed_fails_(router.allowed_fails.value_or(3)),
      cooldown_(alone && !router.allowed_fails ? Clock::duration::zero()
                                               : std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(router.cooldown_time_s))) {}

std::optional<Refusal> DeploymentState::refusal(Clock::time_point now) {
  if (now < cooling_until_) return Refusal{Refusal::Kind::kCooldown, cooling_until_, limit_use(now)};
  if (deployment_.rpm && requests_.count(now) >= *deployment_.rpm)
    return Refusal{Refusal::Kind::kRpm, requests_.next_expiry(now), limit_use(now)};
  if (deployment_.tpm && tokens_.total(now) >= *deployment_.tpm)
    return Refusal{Refusal::Kind::kTpm, tokens_.below(*deployment_.tpm, now), limit_use(now)};
  return std::nullopt;
}

std::optional<Refusal> DeploymentState::admit(Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (std::optional<Refusal> r = refusal(now)) {
    ++counts_.refused[static_cast<size_t>(r->kind)];
    return r;
  }
  admitted(now);
  return std::nullopt;
}

void DeploymentState::admitted(Clock::time_point now) {
  requests_.add(now);
  ++counts_.requests;
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void DeploymentState::count_admitted(Clock::time_point now) {
  std::lock_guard lock(mu_);
  admitted(now);
}

void DeploymentState::count_refused(Refusal::Kind kind) {
  std::lock_guard lock(mu_);
  ++counts_.refused[static_cast<size_t>(kind)];
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
  count_failure(now);
  return cool_if_due(now, rate_limited);
}

void DeploymentState::count_failure(Clock::time_point now) {
  std::lock_guard lock(mu_);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  failures_.add(now);
}

bool DeploymentState::cool_if_due(Clock::time_point now, bool rate_limited) {
  std::lock_guard lock(mu_);
  if ((!rate_limited && failures_.count(now) <= allowed_fails_) || cooldown_ == Clock::duration::zero() ||
      now < cooling_until_)
    return false;
  cooling_until_ = now + cooldown_;
  ++counts_.cooldowns;
  return true;
}

// Kept here too, so that this process still rests the deployment should Redis go away.
void DeploymentState::cooled(Clock::time_point now) {
  std::lock_guard lock(mu_);
  cooling_until_ = std::max(cooling_until_, now + cooldown_);
  ++counts_.cooldowns;
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
  DeploymentState &state = *std::exchange(state_, nullptr);
  state.succeeded(now, now - start_, tokens);
  if (shared_ && tokens) shared_->report(state, tokens, SharedLimits::Failure::kNone);
}

void Lease::failed(bool rate_limited) {
  if (!state_) return;
  DeploymentState &state = *std::exchange(state_, nullptr);
  if (!shared_) {
    state.failed(Clock::now(), rate_limited);
    return;
  }
  state.count_failure(Clock::now());
  shared_->report(state, 0, rate_limited ? SharedLimits::Failure::kRateLimited : SharedLimits::Failure::kFailed);
}

void Lease::end() {
  if (state_) std::exchange(state_, nullptr)->release();
}

}  // namespace llmhost::routing
