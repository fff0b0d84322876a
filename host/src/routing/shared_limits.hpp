// Deployment limits and cooldowns counted in Redis, so that every llmhost instance pointed at the
// same Redis enforces one rpm, one tpm and one cooldown per deployment. Each request costs one
// round trip per model name it tries: an atomic script checks that model name's deployments in
// order and counts the request on the first that may take it. The end of a call (its tokens, a
// failure) is reported without waiting. The window is a sliding log, as in process
// (routing/sliding_window.hpp), timed by Redis's clock so that instances agree.
//
// Keys: "llmhost:{<model_name>}:<deployment>:<r|t|T|f|c>", the model name as Redis Cluster's hash
// tag (one script's keys share a slot), the deployment as a digest of its model, api_base and
// api_key (see shared_key()). Every key expires a minute after its last write.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "redis/client.hpp"
#include "routing/deployment_state.hpp"

namespace llmhost::routing {

// Where `d`, a deployment of `model_name`, keeps its counts in Redis.
std::string shared_key(const std::string &model_name, const config::Deployment &d);

class SharedLimits {
 public:
  // Connects at once (and reconnects in the background); see redis::Client. With
  // usage-based routing, Redis picks the deployment with the fewest tokens, and counts every
  // deployment's; otherwise only those with a tpm count tokens, and only those with an rpm
  // requests. `window` is a minute but for tests.
  SharedLimits(boost::asio::io_context &ioc, const config::RedisSettings &settings, config::RoutingStrategy strategy,
               redis::Client::Notice notice, Clock::duration window = std::chrono::minutes(1));

  // Whether Redis answers; while it does not, callers count in process. Any thread.
  bool up() const { return client_.up(); }

  // Which of `candidates` (one model name's deployments, in the strategy's order) takes a
  // request: the first under its limits and not cooling down, or with usage-based routing the
  // one of those with the fewest tokens this minute. The request is counted on it in Redis; the
  // caller counts it in process (count_admitted) and holds it with a Lease.
  struct Verdict {
    size_t admitted;                              // index into candidates; candidates.size() when none may
    std::vector<std::optional<Refusal>> refused;  // per candidate: why it was passed over, if it was
  };
  // `done` runs once, on the Redis strand (it must not block): nullopt when Redis is down, late
  // or failed, and the caller must decide in process. Any thread; the candidates must outlive
  // the call (they live as long as the ModelTable).
  void admit(const std::vector<DeploymentState *> &candidates, std::function<void(std::optional<Verdict>)> done);

  // The end of a call Redis admitted: its tokens, and whether it failed (a failure may start
  // the deployment's shared cooldown; then, or when Redis cannot be told, the state hears of it
  // too). Does not wait; sends nothing for tokens no limit or strategy reads. Any thread.
  enum class Failure { kNone, kFailed, kRateLimited };
  void report(DeploymentState &state, uint64_t tokens, Failure failure);

 private:
  std::string next_id();  // unique among every instance's log entries

  redis::Client client_;
  const bool fewest_tokens_;  // usage-based routing
  const Clock::duration window_;
  const std::string instance_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace llmhost::routing
