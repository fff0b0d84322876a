// One HTTP request/response as the API layer sees it, independent of sockets: the Session
// implements it, the Api answers through it (from an I/O thread or a worker).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "llmhost/types.hpp"

namespace llmhost::proxy {

struct Incoming {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string authorization;
  std::string content_type;  // a multipart/* request's Content-Type (its boundary); empty for others
  std::string body;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What one finished exchange looks like, for the access log and the metrics.
struct Record {
  std::chrono::system_clock::time_point start;
  std::string method, path, route;  // route: the matched endpoint ("" when none)
  std::string model, provider;
  int status = 0;
  bool stream = false;
  std::chrono::nanoseconds latency{0};
  uint64_t bytes_in = 0, bytes_out = 0;
  std::optional<Usage> usage;  // a completion's or a stream's, reported or estimated
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const Incoming &request() const = 0;
  // Labels for the log line and metrics; call before the reply. `status` overrides the HTTP
  // status in the record when a stream fails after its 200 went out (0 = keep).
  virtual void label(std::string route, std::string model, std::string provider, bool stream) = 0;
  virtual void outcome(int status) = 0;
  // The call's token usage, for the log line and metrics; the last one given counts.
  virtual void usage(const Usage &u) = 0;
  // Sends the whole reply. Thread-safe; at most once, and not after stream().
  virtual void reply(Reply r) = 0;
  // Server-Sent Events: the first call sends a 200 text/event-stream header. Queues the bytes
  // for the socket. Off the I/O threads it blocks while the client is far behind (64 KiB
  // queued); on an I/O thread it never blocks, and a client 4 MiB behind is disconnected.
  // False once the client is gone or the stream was ended (stop then).
  virtual bool stream(std::string frames) = 0;
  // Writes `frames` and ends the event stream. Thread-safe; once; does not block.
  virtual void end_stream(std::string frames) = 0;
  // Requested when the client disconnects, the watchdog gives up on the call, or the server
  // gives up draining.
  virtual std::stop_token cancelled() const = 0;

  // A plugin call starts now and may run `timeout_s` seconds (0: it has no timeout of its own).
  // Arms the watchdog: when the call has not answered by then plus a grace period (it ignores
  // its cancel), the client gets 408 (or, mid-stream, an error event) and whatever the call
  // sends later is dropped. Each call replaces the deadline of the one before (fallbacks).
  // Thread-safe.
  virtual void call_started(double timeout_s) { (void)timeout_s; }
  // The 400 reply for a chat request carrying `count` messages when that is more than the
  // server accepts (--max-messages); nothing when it is within the limit.
  virtual std::optional<Reply> check_messages(size_t count) const {
    (void)count;
    return std::nullopt;
  }
};

}  // namespace llmhost::proxy
