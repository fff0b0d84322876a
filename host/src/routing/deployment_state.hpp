// The live state of one deployment, shared by every request routed to it: its requests and
// tokens over the last minute against its rpm and tpm, its calls in flight, its recent failures
// and cooldown, its latency, and the counts /metrics shows. Lives as long as the ModelTable
// that made it. Thread-safe: any thread, one short lock per call.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "config/config.hpp"
#include "routing/sliding_window.hpp"

namespace llmhost::routing {

class SharedLimits;

// Upper bounds (seconds) of the latency histogram buckets, for calls and requests alike.
inline constexpr std::array<double, 14> kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,     2.5,  5,     10,   30,  60};

// A deployment's limits and use this minute, for a 429's x-ratelimit-* headers.
struct LimitUse {
  std::optional<uint64_t> rpm, tpm;
  uint64_t requests = 0, tokens = 0;
  Clock::time_point requests_reset, tokens_reset;  // when one more would fit
};

// Why a deployment was passed over, when that stops holding, and its use at that moment.
struct Refusal {
  enum class Kind { kRpm, kTpm, kCooldown };
  Kind kind;
  Clock::time_point until;
  LimitUse use;
};

class DeploymentState {
 public:
  // `alone`: the only deployment of its model name (see RouterSettings::allowed_fails).
  // `shared_key`: where its counts live in Redis (SharedLimits). `group`: which model name it
  // serves (the ModelTable's index), so that a Route knows where one name's attempts end.
  DeploymentState(const config::Deployment &d, const config::RouterSettings &router, bool alone,
                  std::string shared_key = {}, size_t group = 0);
  DeploymentState(const DeploymentState &) = delete;
  DeploymentState &operator=(const DeploymentState &) = delete;

  const config::Deployment &deployment() const { return deployment_; }
  const std::string &shared_key() const { return shared_key_; }
  size_t group() const { return group_; }
  uint32_t allowed_fails() const { return allowed_fails_; }
  Clock::duration cooldown() const { return cooldown_; }

  // Counts a request against rpm and holds one call in flight, when the deployment is under
  // both limits and not cooling down; otherwise says which and until when, and counts nothing.
  std::optional<Refusal> admit(Clock::time_point now);

  // The end of an admitted call, exactly one of these per admit(). A success records its
  // latency and counts its tokens against tpm (a stream's at its end). A failure that another
  // deployment might not have had counts toward the cooldown: more than allowed_fails of them
  // within a minute rest the deployment for cooldown_time, and so does one `rate_limited` (the
  // upstream said 429: calling it again soon would only fail again); returns true when this
  // one started a cooldown. release() is for a call that ends otherwise (the client went, or
  // sent a bad request).
  void succeeded(Clock::time_point now, Clock::duration latency, uint64_t tokens);
  bool failed(Clock::time_point now, bool rate_limited = false);
  void release();

  // The same counts when Redis decided (SharedLimits): a request it admitted here, one it
  // refused, a failure whose cooldown it decides (ends the call like failed(), starts nothing),
  // and a cooldown it started. cool_if_due() is failed()'s decision, for a failure Redis could
  // not take.
  void count_admitted(Clock::time_point now);
  void count_refused(Refusal::Kind kind);
  void count_failure(Clock::time_point now);
  bool cool_if_due(Clock::time_point now, bool rate_limited);
  void cooled(Clock::time_point now);

  // What the strategies order by.
  uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  double latency_s() const;  // a moving average of recent calls; 0 before the first
  uint64_t tokens_this_minute(Clock::time_point now);

  // Totals for /metrics.
  struct Counts {
    uint64_t requests = 0, tokens = 0, cooldowns = 0;
    std::array<uint64_t, 3> refused{};                               // by Refusal::Kind
    std::array<uint64_t, kLatencyBuckets.size()> latency_buckets{};  // per bucket, not cumulative
    uint64_t latency_count = 0;
    double latency_sum = 0;
  };
  Counts counts() const;

 private:
  // With mu_ held.
  std::optional<Refusal> refusal(Clock::time_point now);
  LimitUse limit_use(Clock::time_point now);
  void admitted(Clock::time_point now);
  bool cool_if_due_locked(Clock::time_point now, bool rate_limited);

  const config::Deployment &deployment_;
  const std::string shared_key_;
  const size_t group_;
  const uint32_t allowed_fails_;
  const Clock::duration cooldown_;  // zero: never rested
  std::atomic<uint64_t> in_flight_{0};
  mutable std::mutex mu_;
  SlidingWindow requests_, tokens_, failures_;
  Clock::time_point cooling_until_{};
  double latency_avg_s_ = 0;
  Counts counts_;
};

// An admitted call's hold on its deployment: it ends the call on the state exactly once,
// through succeeded() or failed(), or, when the call ends any other way, as the lease goes.
// Movable, not copyable; one thread at a time.
// With `shared`, the call was admitted by Redis, and its end is reported there too.
class Lease {
 public:
  Lease() = default;
  Lease(DeploymentState &state, Clock::time_point start, SharedLimits *shared = nullptr)
      : state_(&state), shared_(shared), start_(start) {}
  Lease(Lease &&o) noexcept
      : state_(std::exchange(o.state_, nullptr)), shared_(std::exchange(o.shared_, nullptr)), start_(o.start_) {}
  Lease &operator=(Lease &&o) noexcept {
    if (this != &o) {
      end();
      state_ = std::exchange(o.state_, nullptr);
      shared_ = std::exchange(o.shared_, nullptr);
      start_ = o.start_;
    }
    return *this;
  }
  ~Lease() { end(); }

  void succeeded(uint64_t tokens);
  void failed(bool rate_limited = false);

 private:
  void end();
  DeploymentState *state_ = nullptr;
  SharedLimits *shared_ = nullptr;
  Clock::time_point start_;
};

}  // namespace llmhost::routing
