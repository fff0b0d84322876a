// Base64 (RFC 4648, with padding): how OpenAI's JSON carries bytes (b64_json images, base64
// embeddings, data: URLs). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llmhost::json {

// Appends the base64 text of `bytes` to `out`.
void append_base64(std::string &out, std::string_view bytes);
// The bytes of base64 `text` (padding optional, no whitespace); nothing when it is not base64.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace llmhost::json
