// Settings and hooks of the HTTP server (proxy/server.hpp), kept apart so that headers not
// touching sockets can use them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "proxy/exchange.hpp"

namespace llmhost::proxy {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;                         // 0 = any free port (see Server::port())
  unsigned io_threads = 2;                      // socket I/O only; never a plugin call
  unsigned workers = 64;                        // threads running plugin calls
  uint64_t max_body_bytes = 10ull << 20;        // larger bodies get 413
  uint32_t max_header_bytes = 16u << 10;        // larger headers get 431
  std::chrono::milliseconds idle_timeout{60000};  // a connection with no request in flight
  size_t max_connections = 4096;                // more are closed at once
  std::chrono::milliseconds drain_timeout{30000};  // SIGTERM: how long in-flight calls may run on
};

struct ServerHooks {
  std::function<void(std::shared_ptr<Exchange>)> handle;  // a request was read (I/O thread)
  std::function<void()> started;                          // ... counted as in flight
  std::function<void(const Record &)> finished;           // its response is written (or failed)
  std::function<void()> reload;                           // SIGHUP (on a worker)
  std::function<void(const std::string &)> notice;        // server life-cycle messages
};

}  // namespace llmhost::proxy
