// The HTTP server of `llmhost serve`: an acceptor and a few I/O threads, each with a Boost.Asio
// event loop of its own, a worker pool for plugin calls, signals (SIGTERM/SIGINT drain, SIGHUP
// reload).
#pragma once

#include <functional>
#include <memory>

#include "proxy/server_options.hpp"

namespace boost::asio {
class io_context;
}

namespace llmhost::proxy {

class Server {
 public:
  // Binds and listens; throws std::system_error when the address cannot be used.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  uint16_t port() const;  // the bound port (useful with port 0)

  // Runs `job` on the worker pool (plugin calls go here, never on an I/O thread).
  void post_work(std::function<void()> job);

  // Serves until SIGTERM or SIGINT (or stop()), then drains: stops accepting, closes idle
  // connections, lets exchanges in flight finish until options.drain_timeout, then cancels
  // them. Returns true when everything finished; false when a worker was still stuck in a
  // plugin after the grace period (the caller should exit without unloading plugins).
  bool run(ServerHooks hooks);

  // After run() returned: runs the I/O threads' loop again, on one thread, while `fn` runs, for
  // what still needs it to shut down (the Host's HTTP service runs on it). Calling thread only.
  void run_loop_while(const std::function<void()> &fn);

  // The first I/O thread's event loop, for the Host's HTTP service (HostOptions::http_io_context)
  // and shared state. One thread runs it (HostOptions::http_io_threads = 1); each other I/O
  // thread runs a loop of its own, for the connections it was given.
  boost::asio::io_context &io_context();

  // Starts draining; thread-safe.
  void stop();

  // What the watchdog did so far; thread-safe.
  WatchdogCounts watchdog() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmhost::proxy
