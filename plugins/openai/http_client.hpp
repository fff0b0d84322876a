// A thin C++ face on the host HTTP service (llmhost/http.h): RAII for responses, and callbacks
// that may throw (their exception is carried across the C frames and rethrown here).
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string_view>

#include <llmhost/http.h>
#include <llmhost/provider.hpp>

#include "settings.hpp"

namespace openai_plugin {

// One upstream answer; released through the host's table when destroyed.
class HttpReply {
 public:
  HttpReply(const llmh_http_api *api, llmh_http_response *r) : api_(api), r_(r) {}
  HttpReply(HttpReply &&o) noexcept : api_(o.api_), r_(o.r_) { o.r_ = nullptr; }
  HttpReply(const HttpReply &) = delete;
  HttpReply &operator=(const HttpReply &) = delete;
  HttpReply &operator=(HttpReply &&) = delete;
  ~HttpReply() {
    if (r_) api_->release(r_);
  }
  int status() const { return api_->status(r_); }
  std::string_view body() const { return llmh::sv(api_->body(r_)); }
  bool ok() const { return status() >= 200 && status() < 300; }

 private:
  const llmh_http_api *api_;
  llmh_http_response *r_;
};

struct CallHooks {
  std::function<bool()> cancelled;                // true: abandon the request
  std::function<bool(std::string_view)> on_line;  // set: stream 2xx bodies; false: stop
};

class HttpClient {
 public:
  // `api` is the host's table (non-NULL), valid for the instance's lifetime.
  explicit HttpClient(const llmh_http_api *api) : api_(api) {}

  // POSTs `body` to the target. Returns the answer of any HTTP status. Throws llmh::Error for a
  // transport failure (the host's status: 408, 499, 502, 503; its message names the URL
  // without query or key) and rethrows whatever a hook threw. Any thread.
  HttpReply post(const Target &target, std::string_view body, const CallHooks &hooks) const;

  // Whether the host's HTTP service has perform_async (ABI 1.1). Any thread.
  bool has_async() const;
  // Starts the same POST without waiting (perform_async; only when has_async()). `done`,
  // `cancelled`, `on_line` (NULL: the whole body in the answer) and `user` as in
  // llmh_http_request: they run on the host's HTTP event loop. `target` and `body` need only
  // live until this returns. Any thread.
  void post_async(const Target &target, std::string_view body, llmh_http_cancel_fn cancelled, llmh_http_line_fn on_line,
                  void *user, llmh_http_done_fn done) const;
  // The llmh::Error for a transport failure the service reported (its status, or 502).
  static llmh::Error transport_error(const llmh_error &err);
  const llmh_http_api *api() const { return api_; }

 private:
  const llmh_http_api *api_;
};

}  // namespace openai_plugin
