// The HTTP service's own event loop, for an embedder that hands it no executor: one io_context
// and the one thread that runs it, named "llmh-http". Every perform_async exchange (curl's
// sockets and timers, on_line, cancelled, done) runs on that thread.
#pragma once

#include <thread>

#include "http/asio.hpp"

namespace llmhost::detail::http {

class EventLoop {
 public:
  // Starts the thread. Throws std::system_error when it cannot. Any thread.
  EventLoop();
  // Lets the loop run out of work and joins the thread: whoever posted to it must have ended
  // what it started first (AsyncClient::shutdown). Never from the loop thread itself.
  ~EventLoop();
  EventLoop(const EventLoop &) = delete;
  EventLoop &operator=(const EventLoop &) = delete;

  // What to post to and build I/O objects on. Handlers run one at a time. Any thread.
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }

 private:
  boost::asio::io_context ioc_{1};  // one thread runs it (a concurrency hint; Asio keeps its locks)
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace llmhost::detail::http
