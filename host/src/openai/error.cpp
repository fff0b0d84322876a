#include "openai/error.hpp"

#include "json/writer.hpp"

namespace llmhost::openai {

std::string_view error_type(int status) noexcept {
  switch (status) {
    case 400:
    case 404:
    case 405:
    case 413:
    case 422:
    case 431: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 408:
    case 504: return "timeout_error";
    case 429: return "rate_limit_error";
    case 501: return "not_implemented_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

namespace {
std::string_view default_code(int status, std::string_view param) {
  if (status == 401) return "invalid_api_key";
  if (status == 404 && param == "model") return "model_not_found";
  if (status == 413) return "request_too_large";
  if (status == 429) return "rate_limit_exceeded";
  return {};
}
}  // namespace

std::string error_json(int status, std::string_view message, std::string_view param, std::string_view code) {
  if (code.empty()) code = default_code(status, param);
  std::string out;
  json::Writer w(out);
  w.begin_object().key("error").begin_object().member("message", message).member("type", error_type(status));
  w.key("param");
  param.empty() ? w.null() : w.value(param);
  w.key("code");
  code.empty() ? w.null() : w.value(code);
  w.end_object().end_object();
  return out;
}

}  // namespace llmhost::openai
