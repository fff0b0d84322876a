// Events of the last minute, counted exactly: each is kept until it leaves the window (a
// sliding log), so that a limit of N per minute holds over every 60 s span, not only within a
// fixed clock minute (where 2N could pass around the turn of the minute). An event leaves the
// window exactly `window` after it happened. Memory is one entry per event in the window: at
// most the limit for requests, one per finished call for tokens. Not thread-safe: its owner
// (DeploymentState) locks around it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace llmhost::routing {

using Clock = std::chrono::steady_clock;

class SlidingWindow {
 public:
  explicit SlidingWindow(Clock::duration window = std::chrono::minutes(1)) : window_(window) {}

  // An event of `weight` (a request: 1; a call's tokens: their number) at `at`.
  void add(Clock::time_point at, uint64_t weight = 1);
  // Events still in the window at `now`, and their summed weight.
  uint64_t count(Clock::time_point now);
  uint64_t total(Clock::time_point now);
  // When the oldest event still in the window leaves it; `now` when there is none.
  Clock::time_point next_expiry(Clock::time_point now);
  // When enough of the oldest events have left for the summed weight to fall below `limit`;
  // `now` when it already is.
  Clock::time_point below(uint64_t limit, Clock::time_point now);

 private:
  void expire(Clock::time_point now);

  struct Event {
    Clock::time_point at;
    uint64_t weight;
  };
  Clock::duration window_;
  std::deque<Event> events_;  // oldest first
  uint64_t total_ = 0;
};

}  // namespace llmhost::routing
