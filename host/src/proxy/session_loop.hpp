// What the sessions of one I/O thread's event loop share: the calls whose client is not watched
// for a disconnect yet. Watching costs an epoll_ctl and a cancel per request (Asio re-arms the
// descriptor for a readiness wait), about as much as the rest of a short call's socket work, so
// a call is watched only once it has run for a sweep period or two: most calls end first.
//
// Threading: only on the loop's own thread (its sessions' handlers run there).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace llmhost::proxy {

class Session;

class SessionLoop {
 public:
  // How often the calls in flight are looked at: a client that leaves is noticed within two.
  static constexpr std::chrono::milliseconds kSweep{10};

  explicit SessionLoop(boost::asio::io_context::executor_type loop) : timer_(loop) {}
  SessionLoop(const SessionLoop &) = delete;
  SessionLoop &operator=(const SessionLoop &) = delete;

  // Exchange `gen` of `session` has started a call: watch its client from the sweep after next,
  // if that exchange is still the session's current one then.
  void watch_later(std::weak_ptr<Session> session, uint64_t gen);

 private:
  void arm();
  void sweep();

  using Entry = std::pair<std::weak_ptr<Session>, uint64_t>;
  std::vector<Entry> fresh_;  // added since the last sweep
  std::vector<Entry> aging_;  // added before it: watched at the next
  boost::asio::steady_timer timer_;
  bool armed_ = false;
};

}  // namespace llmhost::proxy
