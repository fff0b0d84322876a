#include "http_client.hpp"

#include <vector>

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

}  // namespace

HttpReply HttpClient::post(const Target &target, std::string_view body, const CallHooks &hooks) const {
  std::vector<llmh_http_header> headers;
  headers.reserve(target.headers.size());
  for (const auto &[name, value] : target.headers) headers.push_back({llmh::str(name), llmh::str(value)});

  HookState state{&hooks, nullptr};
  llmh_http_request req{};
  req.struct_size = sizeof req;
  req.method = llmh::str("POST");
  req.url = llmh::str(target.url);
  req.headers = headers.data();
  req.header_count = headers.size();
  req.body = llmh::str(body);
  req.timeout_s = target.timeout_s;
  req.num_retries = target.num_retries;
  req.on_line = hooks.on_line ? &line_trampoline : nullptr;
  req.cancelled = &cancel_trampoline;
  req.user = &state;

  llmh_error err{};
  err.struct_size = sizeof err;
  llmh_http_response *response = nullptr;
  const int rc = api_->perform(api_, &req, &response, &err);
  HttpReply reply(api_, response);
  if (state.error) std::rethrow_exception(state.error);
  if (rc != 0) {
    err.message[LLMH_ERROR_MESSAGE_MAX - 1] = '\0';
    throw llmh::Error(err.status ? err.status : 502, std::string("openai: ") + err.message);
  }
  return reply;
}

}  // namespace openai_plugin
