// The order in which a request tries a model name's deployments, by router_settings'
// routing_strategy. Only the order: whether each one may take the call (its limits, its
// cooldown) is asked as it is tried, so the first in this order that may is the one chosen.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "config/config.hpp"
#include "routing/deployment_state.hpp"

namespace llmhost::routing {

// `group` reordered in place:
// - simple-shuffle: weighted random, by each deployment's `weight`: the first with probability
//   weight / sum, the next likewise among the rest, and so on;
// - least-busy: fewest calls in flight first;
// - latency-based-routing: lowest average latency first (one with no call yet counts as 0, so
//   each gets measured);
// - usage-based-routing: fewest tokens this minute first;
// - round-robin: rotated by `turn`, which it advances.
// Ties are broken at random, so that equals share the load. Any thread.
void order(config::RoutingStrategy strategy, std::span<DeploymentState *> group, std::atomic<uint64_t> &turn,
           Clock::time_point now);

}  // namespace llmhost::routing
