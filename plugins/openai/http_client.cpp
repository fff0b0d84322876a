#include "http_client.hpp"

#include <cstring>
#include <vector>

#include "flavour.hpp"

namespace openai_plugin {
namespace {

struct HookState {
  const CallHooks *hooks;
  std::exception_ptr error;  // thrown by a hook; rethrown after perform returns
};

int line_trampoline(void *user, llmh_str line) {
  auto *st = static_cast<HookState *>(user);
  try {
    return st->hooks->on_line(llmh::sv(line)) ? 0 : 1;
  } catch (...) {
    st->error = std::current_exception();
    return 1;
  }
}

int cancel_trampoline(void *user) {
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
  Outgoing(const Target &target, std::string_view body) {
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

}  // namespace

bool HttpClient::has_async() const {
  return LLMH_HAS_FIELD(api_, llmh_http_api, perform_async) && api_->perform_async != nullptr;
}

llmh::Error HttpClient::transport_error(const llmh_error &err) {
  const size_t n = strnlen(err.message, LLMH_ERROR_MESSAGE_MAX);
  return llmh::Error(err.status ? err.status : 502, OPENAI_PLUGIN_NAME ": " + std::string(err.message, n));
}

HttpReply HttpClient::post(const Target &target, std::string_view body, const CallHooks &hooks) const {
  HookState state{&hooks, nullptr};
  Outgoing out(target, body);
  out.req.on_line = hooks.on_line ? &line_trampoline : nullptr;
  out.req.cancelled = &cancel_trampoline;
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

void HttpClient::post_async(const Target &target, std::string_view body, llmh_http_cancel_fn cancelled,
                            llmh_http_line_fn on_line, void *user, llmh_http_done_fn done) const {
  Outgoing out(target, body);
  out.req.cancelled = cancelled;
  out.req.on_line = on_line;
  out.req.user = user;
  api_->perform_async(api_, &out.req, done);
}

}  // namespace openai_plugin
