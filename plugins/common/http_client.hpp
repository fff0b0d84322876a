// A thin C++ face on the host HTTP service (llmhost/http.h) for the bundled providers: a call's
// target (URL, headers, the secrets to keep out of messages), RAII for responses, and callbacks
// that may throw (their exception is carried across the C frames and rethrown here).
// Header-only, like the rest of plugins/common, so that each plugin still builds from sdk/ alone.
#pragma once

#include <cstddef>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmhost/http.h>
#include <llmhost/provider.hpp>

namespace llmh_plugins {

// One call's resolved request target: where it goes and with what headers. Holds the key: never log it or put it in a
// message.
struct HttpTarget {
  std::string url;        // base + endpoint path
  std::string shown_url;  // url without userinfo, query or fragment: safe for messages
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, config headers
  double timeout_s = 0;                                      // 0 = the HTTP service default
  uint32_t num_retries = 0;
  std::vector<std::string> secrets;  // the key and configured header values (see redact())
};

// `text` with every secret of `t` replaced by "[redacted]", also one cut short at the end.
// Upstream text in an error may quote the key it was sent (some servers echo the
// Authorization header back): it goes through here before it reaches any message.
std::string redact(std::string text, const HttpTarget &t);

inline std::string redact(std::string text, const HttpTarget &t) {
  static constexpr std::string_view kMark = "[redacted]";
  for (const std::string &secret : t.secrets) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kMark.size()))
      text.replace(at, secret.size(), kMark);
    // A message cut short (a snippet of the body) may end inside the secret.
    for (size_t n = std::min(secret.size() - 1, text.size()); n >= 4; --n)
      if (text.compare(text.size() - n, n, secret, 0, n) == 0) {
        text.replace(text.size() - n, n, kMark);
        break;
      }
  }
  return text;
}

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
  // `api` is the host's table (non-NULL), valid for the instance's lifetime; `provider` starts
  // the messages of the errors it throws.
  HttpClient(const llmh_http_api *api, std::string provider) : api_(api), provider_(std::move(provider)) {}
  // The host's HTTP service for `self`, at least its 1.0 table (perform_async, 1.1, is checked
  // where it is used: has_async); Error 500 naming `provider` when the host offers none.
  static const llmh_http_api *of(const llmh::Provider &self, const std::string &provider) {
    const auto *api = static_cast<const llmh_http_api *>(self.host_extension(LLMH_HTTP_EXTENSION_ID));
    if (!api || api->struct_size < offsetof(llmh_http_api, perform_async))
      throw llmh::Error(500, provider + ": this host offers no HTTP service (" LLMH_HTTP_EXTENSION_ID ")");
    return api;
  }

  // POSTs `body` to the target. Returns the answer of any HTTP status. Throws llmh::Error for a
  // transport failure (the host's status: 408, 499, 502, 503; its message names the URL
  // without query or key) and rethrows whatever a hook threw. Any thread.
  HttpReply post(const HttpTarget &target, std::string_view body, const CallHooks &hooks) const;

  // Whether the host's HTTP service has perform_async (ABI 1.1). Any thread.
  bool has_async() const;
  // Starts the same POST without waiting (perform_async; only when has_async()). `done`,
  // `cancelled`, `on_line` (NULL: the whole body in the answer) and `user` as in
  // llmh_http_request: they run on the host's HTTP event loop. `target` and `body` need only
  // live until this returns. Any thread.
  void post_async(const HttpTarget &target, std::string_view body, llmh_http_cancel_fn cancelled,
                  llmh_http_line_fn on_line, void *user, llmh_http_done_fn done) const;
  // The llmh::Error for a transport failure the service reported (its status, or 502).
  llmh::Error transport_error(const llmh_error &err) const;
  const std::string &provider() const { return provider_; }
  const llmh_http_api *api() const { return api_; }

 private:
  const llmh_http_api *api_;
  std::string provider_;
};

namespace detail {

struct HookState {
  const CallHooks *hooks;
  std::exception_ptr error;  // thrown by a hook; rethrown after perform returns
};

inline int line_trampoline(void *user, llmh_str line) {
  auto *st = static_cast<HookState *>(user);
  try {
    return st->hooks->on_line(llmh::sv(line)) ? 0 : 1;
  } catch (...) {
    st->error = std::current_exception();
    return 1;
  }
}

inline int cancel_trampoline(void *user) {
  auto *st = static_cast<HookState *>(user);
  try {
    return st->hooks->cancelled && st->hooks->cancelled() ? 1 : 0;
  } catch (...) {
    st->error = std::current_exception();
    return 1;
  }
}

// A POST of `body` to the target as the HTTP service takes it; views into target and body.
struct Outgoing {
  Outgoing(const HttpTarget &target, std::string_view body) {
    headers.reserve(target.headers.size());
    for (const auto &[name, value] : target.headers) headers.push_back({llmh::str(name), llmh::str(value)});
    req.struct_size = sizeof req;
    req.method = llmh::str("POST");
    req.url = llmh::str(target.url);
    req.headers = headers.data();
    req.header_count = headers.size();
    req.body = llmh::str(body);
    req.timeout_s = target.timeout_s;
    req.num_retries = target.num_retries;
  }
  std::vector<llmh_http_header> headers;
  llmh_http_request req{};
};

}  // namespace detail

inline bool HttpClient::has_async() const {
  return LLMH_HAS_FIELD(api_, llmh_http_api, perform_async) && api_->perform_async != nullptr;
}

inline llmh::Error HttpClient::transport_error(const llmh_error &err) const {
  const size_t n = strnlen(err.message, LLMH_ERROR_MESSAGE_MAX);
  return llmh::Error(err.status ? err.status : 502, provider_ + ": " + std::string(err.message, n));
}

inline HttpReply HttpClient::post(const HttpTarget &target, std::string_view body, const CallHooks &hooks) const {
  detail::HookState state{&hooks, nullptr};
  detail::Outgoing out(target, body);
  out.req.on_line = hooks.on_line ? &detail::line_trampoline : nullptr;
  out.req.cancelled = &detail::cancel_trampoline;
  out.req.user = &state;

  llmh_error err{};
  err.struct_size = sizeof err;
  llmh_http_response *response = nullptr;
  const int rc = api_->perform(api_, &out.req, &response, &err);
  HttpReply reply(api_, response);
  if (state.error) std::rethrow_exception(state.error);
  if (rc != 0) throw transport_error(err);
  return reply;
}

inline void HttpClient::post_async(const HttpTarget &target, std::string_view body, llmh_http_cancel_fn cancelled,
                                   llmh_http_line_fn on_line, void *user, llmh_http_done_fn done) const {
  detail::Outgoing out(target, body);
  out.req.cancelled = cancelled;
  out.req.on_line = on_line;
  out.req.user = user;
  api_->perform_async(api_, &out.req, done);
}

}  // namespace llmh_plugins
