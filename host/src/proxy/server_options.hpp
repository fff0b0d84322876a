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

// Every limit is on by default; a duration or count of 0 turns that one off.
struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;                   // 0 = any free port (see Server::port())
  unsigned io_threads = 0;                // socket I/O only, never a plugin call; 0: one per two usable CPUs, 1..4
  unsigned workers = 1024;                // most threads running plugin calls (started on demand)
  uint64_t max_body_bytes = 10ull << 20;  // larger bodies get 413
  uint32_t max_header_bytes = 16u << 10;  // larger headers get 431
  uint32_t max_header_count = 100;        // more header fields get 431
  uint32_t max_messages = 2048;           // a chat request with more gets 400 (OpenAI's own limit)
  std::chrono::milliseconds idle_timeout{60000};  // a connection with no request in flight
  // Watchdog (on the I/O threads, so it works while a worker is stuck in a plugin):
  std::chrono::milliseconds request_timeout{600000};       // until the response starts: else 408
  std::chrono::milliseconds stream_idle_timeout{300000};   // no chunk for this long: error event
  std::chrono::milliseconds max_stream_duration{3600000};  // a stream longer: error event
  std::chrono::milliseconds call_grace{1000};              // past a call's own timeout before the watchdog answers
  size_t max_connections = 4096;                           // more are closed at once
  std::chrono::milliseconds drain_timeout{30000};          // SIGTERM: how long in-flight calls may run on
};

// What the watchdog did, for /metrics.
struct WatchdogCounts {
  int64_t abandoned_running = 0;  // calls it answered for whose plugin has not returned yet
  uint64_t call = 0, request = 0, stream_idle = 0, stream_duration = 0;  // timeouts by kind
};

struct ServerHooks {
  std::function<void(std::shared_ptr<Exchange>)> handle;  // a request was read (I/O thread)
  std::function<void()> started;                          // ... counted as in flight
  std::function<void(const Record &)> finished;           // its response is written (or failed)
  std::function<void()> reload;                           // SIGHUP (on a worker)
  std::function<size_t()> async_calls;                    // plugin calls in flight holding no worker
  std::function<void(const std::string &)> notice;        // server life-cycle messages
};

}  // namespace llmhost::proxy
