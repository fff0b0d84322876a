#include "routing/sliding_window.hpp"

namespace llmhost::routing {

void SlidingWindow::add(Clock::time_point at, uint64_t weight) {
  events_.push_back({at, weight});
  total_ += weight;
}

void SlidingWindow::expire(Clock::time_point now) {
  while (!events_.empty() && events_.front().at + window_ <= now) {
    total_ -= events_.front().weight;
    events_.pop_front();
  }
}

uint64_t SlidingWindow::count(Clock::time_point now) {
  expire(now);
  return events_.size();
}

uint64_t SlidingWindow::total(Clock::time_point now) {
  expire(now);
  return total_;
}

Clock::time_point SlidingWindow::next_expiry(Clock::time_point now) {
  expire(now);
  return events_.empty() ? now : events_.front().at + window_;
}

Clock::time_point SlidingWindow::below(uint64_t limit, Clock::time_point now) {
  expire(now);
  if (total_ < limit) return now;
  uint64_t left = total_;
  for (const Event &e : events_) {
    left -= e.weight;
    if (left < limit) return e.at + window_;
  }
  return now;  // a limit of 0: never below; not a limit config allows
}

}  // namespace llmhost::routing
