// A whole reply carrying OpenAI's error JSON, for every error the proxy answers.
#pragma once

#include <string_view>

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

}  // namespace llmhost::proxy
