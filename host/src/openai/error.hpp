// Errors on the wire, as OpenAI sends them: {"error":{"message","type","param","code"}}.
#pragma once

#include <string>
#include <string_view>

namespace llmhost::openai {

// "invalid_request_error", "authentication_error", "rate_limit_error", "api_error", ...
std::string_view error_type(int status) noexcept;

// The error object text. Empty `param` / `code` are written as null; `code` defaults by status
// (401 invalid_api_key, 404 model_not_found when `param` is "model", ...).
std::string error_json(int status, std::string_view message, std::string_view param = {}, std::string_view code = {});

}  // namespace llmhost::openai
