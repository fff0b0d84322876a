// Drives perform_async through the real C table (make_extension_lookup -> llmh_http_api), as a
// plugin does: a service per Async, a Ticket per request recording what done, on_line and
// cancelled saw. Shared by the HTTP service's async tests and the Asio client's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/asio.hpp"  // Asio without g++'s -Wtsan noise about its fences
#include "http/http_extension.hpp"
#include "llmhost/http.h"

namespace test::http {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Set around every perform_async call: a done that sees it ran inside perform_async.
inline thread_local bool tl_in_perform_async = false;

// What one done call reported.
struct Outcome {
  bool failed = false;  // err and no response
  int status = 0;       // the HTTP status, or err->status
  std::string body, message, reply_header;
  std::thread::id thread;
  bool inside_perform_async = false;
  Clock::time_point at;
};

// The table of one HTTP service, and the done calls it made.
class Async {
 public:
  explicit Async(boost::asio::any_io_executor loop = {})
      : lookup_(llmhost::detail::http::make_extension_lookup(
            [this](int, std::string_view, std::string_view message) {
              std::lock_guard lock(mu_);
              log_ += std::string(message) + "\n";
            },
            LLMH_LOG_DEBUG, std::move(loop))),
        http(static_cast<const llmh_http_api *>(lookup_(LLMH_HTTP_EXTENSION_ID))) {}

  // Drops the table and with it the service (its destructor ends what is in flight).
  void destroy() {
    lookup_ = nullptr;
    http = nullptr;
  }

  void record(Outcome o) {
    std::lock_guard lock(mu_);
    outcomes_.push_back(std::move(o));
    cv_.notify_all();
  }
  // Waits until `n` done calls have been made in all; false on timeout.
  bool wait(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return outcomes_.size() >= n; });
  }
  std::vector<Outcome> outcomes() {
    std::lock_guard lock(mu_);
    return outcomes_;
  }
  std::string log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> outcomes_;
  std::string log_;
  llmhost::detail::http::ExtensionLookup lookup_;

 public:
  const llmh_http_api *http;
};

// One request's user data: where its done reports, and how its hooks behave.
struct Ticket {
  Async *async = nullptr;
  std::string reply_header = "x-reply";                 // read from the response
  std::atomic<bool> cancel{false};                      // what the cancelled hook answers
  int stop_at_line = -1;                                // on_line returns non-zero for this line (0-based)
  std::vector<std::string> lines;                       // what on_line got (loop thread only)
  std::set<std::thread::id> hook_threads;               // where on_line and cancelled ran
  std::function<void(Ticket &, const Outcome &)> then;  // runs inside done, after recording
};

inline llmh_str view(std::string_view s) { return llmh_str{s.data(), s.size()}; }

inline void on_done(void *user, llmh_http_response *response, const llmh_error *err) {
  Ticket &t = *static_cast<Ticket *>(user);
  Outcome o;
  o.thread = std::this_thread::get_id();
  o.inside_perform_async = tl_in_perform_async;
  o.at = Clock::now();
  const llmh_http_api *http = t.async->http;
  if (response) {
    o.status = http->status(response);
    const llmh_str body = http->body(response);
    o.body.assign(body.ptr ? body.ptr : "", body.len);
    const llmh_str h = http->header(response, view(t.reply_header));
    if (h.ptr) o.reply_header.assign(h.ptr, h.len);
    http->release(response);
  } else {
    o.failed = true;
    o.status = err ? err->status : -1;
    o.message = err ? err->message : "";
  }
  if (t.then) t.then(t, o);
  t.async->record(std::move(o));
}

inline int on_line(void *user, llmh_str line) {
  Ticket &t = *static_cast<Ticket *>(user);
  t.hook_threads.insert(std::this_thread::get_id());
  t.lines.emplace_back(line.ptr, line.len);
  return static_cast<int>(t.lines.size()) - 1 == t.stop_at_line ? 1 : 0;
}

inline int is_cancelled(void *user) {
  Ticket &t = *static_cast<Ticket *>(user);
  t.hook_threads.insert(std::this_thread::get_id());
  return t.cancel.load() ? 1 : 0;
}

struct Send {
  std::string method{};
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
  double timeout_s = 0;
  double connect_timeout_s = 0;
  uint32_t num_retries = 0;
  bool lines = false;
  bool cancellable = false;
};

// perform_async with views into strings that are scribbled over as soon as it returns: the
// host must have copied what it needs.
inline void send(const llmh_http_api *http, Ticket &t, std::string url, Send s = {}) {
  std::vector<llmh_http_header> headers;
  for (auto &[name, value] : s.headers) headers.push_back({view(name), view(value)});
  llmh_http_request r{};
  r.struct_size = sizeof r;
  r.method = view(s.method);
  r.url = view(url);
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = view(s.body);
  r.timeout_s = s.timeout_s;
  r.connect_timeout_s = s.connect_timeout_s;
  r.num_retries = s.num_retries;
  r.on_line = s.lines ? &on_line : nullptr;
  r.cancelled = s.cancellable ? &is_cancelled : nullptr;
  r.user = &t;
  tl_in_perform_async = true;
  http->perform_async(http, &r, &on_done);
  tl_in_perform_async = false;
  std::fill(url.begin(), url.end(), 'x');
  std::fill(s.body.begin(), s.body.end(), 'x');
  for (auto &[name, value] : s.headers) std::fill(value.begin(), value.end(), 'x');
}

}  // namespace test::http
