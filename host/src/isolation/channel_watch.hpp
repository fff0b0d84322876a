// Reads a worker's channel on an I/O loop of the host's (HostOptions::http_io_context, which
// `llmhost serve` runs) instead of the supervisor's thread: the answer of a call is then handled
// on the thread that passes it on to the client, one thread wake-up less per call
// (docs/isolation.md, "What it costs").
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "http/asio.hpp"

namespace llmhost::isolation {

class ChannelWatch : public std::enable_shared_from_this<ChannelWatch> {
 public:
  // Calls `on_readable` on `io` each time `channel` has something to read, until it returns
  // false or stop() is called. The channel itself is only watched, never read, closed or made
  // non-blocking here: an epoll instance of its own stands between it and the loop.
  static std::shared_ptr<ChannelWatch> start(boost::asio::any_io_executor io, int channel,
                                             std::function<bool()> on_readable);
  // Once this returns, `on_readable` is not running and never runs again. It does not wait for
  // the loop. Any thread, except from inside `on_readable`.
  void stop();

  // Public for make_shared; use start().
  ChannelWatch(boost::asio::any_io_executor io, int epoll_fd, std::function<bool()> on_readable);

 private:
  void wait();

  boost::asio::strand<boost::asio::any_io_executor> strand_;  // every operation on `epoll_`
  boost::asio::posix::stream_descriptor epoll_;
  std::mutex mu_;                      // held while on_readable_ runs
  std::function<bool()> on_readable_;  // empty once stopped
};

}  // namespace llmhost::isolation
