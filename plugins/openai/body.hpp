// The body sent upstream: the caller's original JSON body with only the gateway's own keys
// changed, so that every parameter the caller sent (tools, response_format, logprobs, vendor
// extras) reaches the upstream untouched.
#pragma once

#include <simdjson.h>

#include <llmhost/provider.hpp>

#include <string>
#include <string_view>

namespace openai_plugin {

enum class BodyKind {
  kChat,        // "stream" and "stream_options" removed
  kChatStream,  // "stream": true
  kEmbeddings,  // "encoding_format": "float" (we decode float arrays only)
};

// Rewrites `body_json` (a JSON object) for `model`, parsing it with `parser`. Drops the
// gateway-only keys that must never reach an upstream: api_key, api_base, base_url, timeout,
// num_retries, extra_headers, api_version. Every other member is sent as the caller wrote it. Throws
// llmh::Error(400) when body_json is not a JSON object.
std::string rewrite_body(simdjson::dom::parser &parser, std::string_view body_json, std::string_view model,
                         BodyKind kind);
// The same for a call's request: from the members the host lists (llmh_request.body_members,
// ABI 1.3) without a parse, else from its body_json as above.
std::string rewrite_body(simdjson::dom::parser &parser, const llmh::Request &req, BodyKind kind);

// An image edit as the multipart/form-data body OpenAI's /images/edits takes, parts separated by
// `boundary`: the request's scalar body members as text fields (model rewritten, the gateway's
// keys dropped), then each image as "image[]" and the mask. Throws llmh::Error(400) when the body
// is not a JSON object.
std::string image_edit_form(simdjson::dom::parser &parser, const llmh::ImageRequest &req, std::string_view boundary);

}  // namespace openai_plugin
