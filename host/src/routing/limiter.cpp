#include "routing/limiter.hpp"

namespace llmhost::routing {
namespace {

// In process: each attempt's deployment in turn decides for itself.
void admit_here(const Route &route, size_t from, Admission &a) {
  const Clock::time_point now = Clock::now();
  for (a.index = from; a.index < route.size(); ++a.index) {
    DeploymentState *state = route.state(a.index);
    if (!state) return;
    const std::optional<Refusal> refused = state->admit(now);
    if (!refused) {
      a.lease = Lease(*state, now);
      return;
    }
    a.refused.emplace_back(state, *refused);
  }
}

}  // namespace

std::optional<Admission> Limiter::admit_now(const Route &route, size_t from) const {
  if (shared_ && shared_->up()) return std::nullopt;
  Admission a;
  admit_here(route, from, a);
  return a;
}

void Limiter::admit(Route &route, size_t from, std::function<void(Admission)> then) const {
  if (std::optional<Admission> now = admit_now(route, from)) return then(std::move(*now));
  admit_shared(route, from, std::make_shared<Admission>(), std::move(then));
}

void Limiter::admit_shared(Route &route, size_t from, std::shared_ptr<Admission> so_far,
                           std::function<void(Admission)> then) const {
  if (from == route.size() || !route.state(from)) {
    so_far->index = from;
    return post_([so_far, then = std::move(then)] { then(std::move(*so_far)); });
  }
  const size_t end = route.group_end(from);
  std::vector<DeploymentState *> candidates;
  for (size_t i = from; i < end; ++i) candidates.push_back(route.state(i));
  shared_->admit(candidates, [this, &route, from, end, so_far,
                              then = std::move(then)](std::optional<SharedLimits::Verdict> verdict) mutable {
    if (!verdict) {  // Redis could not say: this process decides, for the rest of the route
      admit_here(route, from, *so_far);
      return post_([so_far, then = std::move(then)] { then(std::move(*so_far)); });
    }
    for (size_t i = 0; i < verdict->refused.size(); ++i)
      if (const std::optional<Refusal> &r = verdict->refused[i]) {
        route.state(from + i)->count_refused(r->kind);
        so_far->refused.emplace_back(route.state(from + i), *r);
      }
    if (verdict->admitted == end - from) return admit_shared(route, end, so_far, std::move(then));
    // The one Redis took is tried now; should it fail, the rest of its model name
    // follow in their order.
    route.promote(from + verdict->admitted, from);
    DeploymentState &state = *route.state(from);
    const Clock::time_point now = Clock::now();
    state.count_admitted(now);
    so_far->index = from;
    so_far->lease = Lease(state, now, shared_);
    post_([so_far, then = std::move(then)] { then(std::move(*so_far)); });
  });
}

}  // namespace llmhost::routing
