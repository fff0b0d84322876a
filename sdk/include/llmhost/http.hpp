/*
 * llmhost provider SDK: the host's HTTP service (llmhost/http.h) for C++ plugins
 * (header-only, C++17 or later). Blocking and asynchronous requests, a 2xx body line by line
 * (server-sent events), headers, timeouts and retries, and errors that never carry a secret.
 *
 *   llmh::HttpClient http(*this, "my");           // in the provider's constructor
 *   llmh::HttpRequest req;
 *   req.url = "https://api.example.com/v1/chat";
 *   req.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
 *   req.secrets = {key};
 *   llmh::HttpResponse r = http.perform(req, body);  // any status; throws for a transport failure
 *
 * OWNERSHIP. HttpRequest owns its strings; perform and perform_async copy what they need, so a
 * request and a body need only live until the call returns. An HttpResponse owns the host's
 * response and releases it when destroyed; its views (body, header) live as long as it does.
 * perform_async takes the HttpCall it is given and deletes it right after its on_response or
 * on_error returns; the request and body it was given may live in that HttpCall.
 *
 * THREADS. An HttpClient may be used from any thread, concurrently. perform blocks the calling
 * thread, and its hooks run on it. An HttpCall's methods run on the host's HTTP event loop, one
 * at a time: they must never block (no perform, no waiting on another request).
 */
#ifndef LLMHOST_HTTP_HPP
#define LLMHOST_HTTP_HPP

#include <llmhost/http.h>
#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmh {

// One request: where it goes, with what headers and limits, and which values are secrets. Holds
// the key: never log it or put it in a message.
struct HttpRequest {
  std::string method;     // "GET", "POST", ...; empty: POST with a body, else GET
  std::string url;        // absolute http:// or https:// URL
  std::string shown_url;  // url for messages: no userinfo, query or fragment (llmh::redact_url)
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  double connect_timeout_s = 0;                              // per attempt; 0 = the service's 10 s
  double timeout_s = 0;              // all attempts and waits; 0 = the service's 600 s. Exceeded: 408
  uint32_t num_retries = 0;          // extra attempts on connect failures, 429 and 5xx (see http.h)
  std::vector<std::string> secrets;  // the key and the like: redact_secrets() removes them
};

// `text` with every secret of `request` replaced by "[redacted]", also one cut short at the end.
// Upstream text in an error may quote the key it was sent (some servers echo the Authorization
// header back): put it through here before it reaches any message. Any thread.
inline std::string redact_secrets(std::string text, const HttpRequest &request) {
  static constexpr std::string_view kMark = "[redacted]";
  for (const std::string &secret : request.secrets) {
    if (secret.empty()) continue;
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

// One upstream answer, of any status. Move-only; releases the host's response when destroyed.
// One thread at a time.
class HttpResponse {
 public:
  HttpResponse(const llmh_http_api *api, llmh_http_response *r) noexcept : api_(api), r_(r) {}
  HttpResponse(HttpResponse &&o) noexcept : api_(o.api_), r_(std::exchange(o.r_, nullptr)) {}
  HttpResponse(const HttpResponse &) = delete;
  HttpResponse &operator=(const HttpResponse &) = delete;
  HttpResponse &operator=(HttpResponse &&) = delete;
  ~HttpResponse() {
    if (r_) api_->release(r_);
  }
  // The status of the final attempt (e.g. 200, 429).
  int status() const noexcept { return api_->status(r_); }
  bool ok() const noexcept { return status() >= 200 && status() < 300; }
  // The body; empty when it went to on_line. Valid while this object lives.
  std::string_view body() const noexcept { return sv(api_->body(r_)); }
  // The first header named `name` (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const noexcept { return sv(api_->header(r_, str(name))); }

 private:
  const llmh_http_api *api_;
  llmh_http_response *r_;
};

// The hooks of a blocking request; both run on the calling thread, and may throw: the transfer
// stops and perform rethrows.
struct HttpHooks {
  std::function<bool()> cancelled;                // true: abandon the request (Error 499)
  std::function<bool(std::string_view)> on_line;  // set: a 2xx body comes line by line; false: stop
};

class HttpClient;

// One asynchronous request's callbacks (Envoy's style: a C++ object, not C function pointers).
// Derive, override, and hand an instance to HttpClient::perform_async. Exactly one of
// on_response and on_error is called, once; then the object is deleted. Every method runs on
// the host's HTTP event loop and must not block.
class HttpCall {
 public:
  virtual ~HttpCall() = default;
  // True: a 2xx body comes to on_line, line by line, and is not kept. Asked once, at the start.
  virtual bool streams_lines() const noexcept { return false; }
  // One line of a 2xx body, without its line break. False stops the transfer (on_error: 499).
  // An exception stops it too, and comes back through on_error.
  virtual bool on_line(std::string_view line) {
    (void)line;
    return true;
  }
  // Polled while the request waits; true abandons it (on_error: 499). An exception does too.
  virtual bool cancelled() { return false; }
  // The answer, of any status, after the service's retries.
  virtual void on_response(HttpResponse response) noexcept = 0;
  // A transport failure, in the service's statuses (408 deadline, 499 stopped or cancelled,
  // 503 could not connect, 502 broken); the message starts with the client's name and names
  // the URL without its query or userinfo. Or what on_line or cancelled threw.
  virtual void on_error(Error error) noexcept = 0;

 private:
  // The request's own state lives here, so that a request costs one allocation: this object.
  friend class HttpClient;
  bool line(std::string_view text) { return on_line(text); }
  const HttpClient *client_ = nullptr;
  std::exception_ptr error;  // thrown by on_line or cancelled; ends the call
};

// The host's HTTP service, for one provider instance. Any thread.
class HttpClient {
 public:
  // The service of the host that made `self`; `name` starts the messages of the errors it
  // reports. Throws Error(500) when the host offers no HTTP service.
  HttpClient(const Provider &self, std::string name)
      : api_(static_cast<const llmh_http_api *>(self.host_extension(LLMH_HTTP_EXTENSION_ID))), name_(std::move(name)) {
    if (!api_ || api_->struct_size < offsetof(llmh_http_api, perform_async))
      throw Error(500, name_ + ": this host offers no HTTP service (" LLMH_HTTP_EXTENSION_ID ")");
  }

  // Sends `request` with `body` and waits. Returns the answer of any status. Throws Error for a
  // transport failure (as HttpCall::on_error describes) and rethrows what a hook threw.
  HttpResponse perform(const HttpRequest &request, std::string_view body, const HttpHooks &hooks = {}) const {
    BlockingHooks state{&hooks, nullptr};
    Outgoing out(request, body);
    out.req.on_line = hooks.on_line ? &Hooks<BlockingHooks>::line : nullptr;
    out.req.cancelled = hooks.cancelled ? &Hooks<BlockingHooks>::cancel : nullptr;
    out.req.user = &state;
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh_http_response *response = nullptr;
    const int rc = api_->perform(api_, &out.req, &response, &err);
    HttpResponse reply(api_, response);
    if (state.error) std::rethrow_exception(state.error);
    if (rc != 0) throw transport_error(err);
    return reply;
  }

  // Whether the host can run requests without a thread (perform_async, ABI 1.1).
  bool has_async() const noexcept {
    return LLMH_HAS_FIELD(api_, llmh_http_api, perform_async) && api_->perform_async != nullptr;
  }
  // Starts `request` with `body` and returns; `call` (non-NULL) hears how it ends, possibly
  // before this returns, so set up all it uses first. Never throws: a request that cannot start
  // (no perform_async in this host: 501; out of memory: 500) ends through call->on_error too.
  void perform_async(const HttpRequest &request, std::string_view body, std::unique_ptr<HttpCall> call) const noexcept {
    std::optional<Outgoing> out;
    try {
      if (!has_async()) throw Error(501, name_ + ": this host's HTTP service cannot run requests without a thread");
      out.emplace(request, body);
    } catch (...) {
      return call->on_error(error_of(std::current_exception()));
    }
    call->client_ = this;
    out->req.on_line = call->streams_lines() ? &Hooks<HttpCall>::line : nullptr;
    out->req.cancelled = &Hooks<HttpCall>::cancel;
    out->req.user = call.release();  // the service's from here, until `done` deletes it
    api_->perform_async(api_, &out->req, &done);
  }

  const std::string &name() const noexcept { return name_; }

 private:
  // A request as the service takes it: views into `request` and `body`.
  struct Outgoing {
    Outgoing(const HttpRequest &request, std::string_view body) {
      headers.reserve(request.headers.size());
      for (const auto &[name, value] : request.headers) headers.push_back({str(name), str(value)});
      req.struct_size = sizeof req;
      req.method = str(request.method.empty() ? std::string_view(body.empty() ? "GET" : "POST") : request.method);
      req.url = str(request.url);
      req.headers = headers.data();
      req.header_count = headers.size();
      req.body = str(body);
      req.connect_timeout_s = request.connect_timeout_s;
      req.timeout_s = request.timeout_s;
      req.num_retries = request.num_retries;
    }
    std::vector<llmh_http_header> headers;
    llmh_http_request req{};
  };

  // The C hooks of one request over a State with line(text), cancelled() and `error`: a hook
  // that throws stops the transfer, and its exception waits in state->error.
  template <class State>
  struct Hooks {
    static int line(void *user, llmh_str text) noexcept {
      return stop(user, [text](State &s) { return !s.line(sv(text)); });
    }
    static int cancel(void *user) noexcept {
      return stop(user, [](State &s) { return s.cancelled(); });
    }
    template <class Fn>
    static int stop(void *user, Fn &&fn) noexcept {
      State &state = *static_cast<State *>(user);
      try {
        return fn(state) ? 1 : 0;
      } catch (...) {
        state.error = std::current_exception();
        return 1;
      }
    }
  };

  // A blocking request's hooks and what they threw, carried across the C frames.
  struct BlockingHooks {
    const HttpHooks *hooks;
    std::exception_ptr error;
    bool line(std::string_view text) { return hooks->on_line(text); }
    bool cancelled() { return hooks->cancelled(); }
  };

  // How an asynchronous request ends: the call hears it, then is deleted.
  static void done(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<HttpCall> call(static_cast<HttpCall *>(user));
    if (!call) return;  // only for a request the service cannot read, which Outgoing never makes
    HttpResponse reply(call->client_->api_, response);
    if (call->error) return call->on_error(error_of(call->error));
    if (err) return call->on_error(call->client_->transport_error(*err));
    call->on_response(std::move(reply));
  }

  // The Error for an exception a hook threw: llmh::Error as it is, anything else 500.
  static Error error_of(const std::exception_ptr &thrown) noexcept {
    llmh_error err{};
    try {
      std::rethrow_exception(thrown);
    } catch (...) {
      detail::fail_current(&err);
    }
    return Error(err.status, err.message);
  }

  Error transport_error(const llmh_error &err) const {
    return Error(err.status ? err.status : 502,
                 name_ + ": " + std::string(err.message, strnlen(err.message, sizeof err.message)));
  }

  const llmh_http_api *api_;
  std::string name_;
};

}  // namespace llmh

#endif /* LLMHOST_HTTP_HPP */
