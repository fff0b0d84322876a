// A whole reply carrying OpenAI's error JSON, for every error the proxy answers.
#pragma once

#include <string_view>

#include "llmhost/errors.hpp"
#include "openai/error.hpp"
#include "proxy/exchange.hpp"

namespace llmhost::proxy {

inline Reply error_reply(int status, std::string_view message, std::string_view param = {},
                         std::string_view code = {}) {
  Reply r;
  r.status = status;
  r.body = openai::error_json(status, message, param, code);
  return r;
}

// A call's error as the client gets it: a 404 names the model as the parameter at fault.
inline Reply error_reply(const Error &e) {
  return error_reply(e.status(), e.what(), e.status() == 404 ? "model" : "", e.code());
}

}  // namespace llmhost::proxy
