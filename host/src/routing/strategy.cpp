#include "routing/strategy.hpp"

#include <algorithm>
#include <random>
#include <vector>

namespace llmhost::routing {
namespace {

std::mt19937_64 &rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

void weighted_shuffle(std::span<DeploymentState *> group) {
  double left = 0;
  for (const DeploymentState *d : group) left += d->deployment().weight;
  for (size_t i = 0; i + 1 < group.size(); ++i) {
    double at = std::uniform_real_distribution<double>(0, left)(rng());
    size_t pick = i;
    while (pick + 1 < group.size() && at >= group[pick]->deployment().weight) at -= group[pick++]->deployment().weight;
    left -= group[pick]->deployment().weight;
    std::swap(group[i], group[pick]);
  }
}

// Ascending by `key`, equals in random order.
template <class Key>
void by(std::span<DeploymentState *> group, Key key) {
  std::shuffle(group.begin(), group.end(), rng());
  std::vector<std::pair<decltype(key(group[0])), DeploymentState *>> keyed;
  keyed.reserve(group.size());
  for (DeploymentState *d : group) keyed.emplace_back(key(d), d);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 0; i < group.size(); ++i) group[i] = keyed[i].second;
}

}  // namespace

void order(config::RoutingStrategy strategy, std::span<DeploymentState *> group, std::atomic<uint64_t> &turn,
           Clock::time_point now) {
  if (group.size() < 2) return;
  switch (strategy) {
    case config::RoutingStrategy::kSimpleShuffle: return weighted_shuffle(group);
    case config::RoutingStrategy::kLeastBusy: return by(group, [](DeploymentState *d) { return d->in_flight(); });
    case config::RoutingStrategy::kLatencyBased: return by(group, [](DeploymentState *d) { return d->latency_s(); });
    case config::RoutingStrategy::kUsageBased:
      return by(group, [now](DeploymentState *d) { return d->tokens_this_minute(now); });
    case config::RoutingStrategy::kRoundRobin: {
      const size_t first = turn.fetch_add(1, std::memory_order_relaxed) % group.size();
      std::rotate(group.begin(), group.begin() + static_cast<std::ptrdiff_t>(first), group.end());
      return;
    }
  }
}

}  // namespace llmhost::routing
