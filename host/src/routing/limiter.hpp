// Which attempt of a route takes a request next: the first, from a given one on, whose
// deployment is under its limits and not cooling down. Counted in process, or in Redis through
// SharedLimits while it answers (one round trip per model name), falling back to this process's
// counts whenever it does not.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "routing/deployment_state.hpp"
#include "routing/model_table.hpp"
#include "routing/shared_limits.hpp"

namespace llmhost::routing {

struct Admission {
  size_t index = 0;  // the attempt that takes the call; the route's size when none may
  Lease lease;       // its hold on its deployment (none for the direct route)
  std::vector<std::pair<DeploymentState *, Refusal>> refused;  // the deployments passed over, in order
};

class Limiter {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // Counts in this process only.
  Limiter() = default;
  // Counts in Redis through `shared` while it is up. Its answers arrive on its strand; `post`
  // moves the rest of the request off it (serve: onto its I/O threads).
  Limiter(SharedLimits &shared, Post post) : shared_(&shared), post_(std::move(post)) {}

  // Admits the request on the first attempt from `from` on that may take it, when this process
  // decides (no Redis, or Redis down): at once, with nothing to allocate for a callback.
  // Nothing when Redis decides: then admit(). Any thread.
  std::optional<Admission> admit_now(const Route &route, size_t from) const;
  // The same whoever decides: calls `then` with the result, on this thread at once when this
  // process decides, else later from `post`. `route` must outlive the call (Redis may reorder a
  // model name's attempts in it: with usage-based routing, the one it picked comes first). Any
  // thread.
  void admit(Route &route, size_t from, std::function<void(Admission)> then) const;

  // Whether Redis answers; nullopt when limits are not shared. Any thread.
  std::optional<bool> shared_up() const { return shared_ ? std::optional<bool>(shared_->up()) : std::nullopt; }

 private:
  void admit_shared(Route &route, size_t from, std::shared_ptr<Admission> so_far,
                    std::function<void(Admission)> then) const;

  SharedLimits *shared_ = nullptr;
  Post post_;
};

}  // namespace llmhost::routing
