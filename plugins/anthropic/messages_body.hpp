// An OpenAI chat request body as Anthropic's Messages API takes it: system and developer
// messages into `system`, the turns as content blocks (text, images, tool_use, tool_result),
// consecutive turns of one role merged (Anthropic wants them alternating), tools and
// tool_choice, stop into stop_sequences, max_tokens (Anthropic requires it: kDefaultMaxTokens
// when the client sends none), reasoning_effort into a thinking budget. Sampling keys Anthropic
// knows (temperature, top_p, top_k) and its own (thinking, metadata, ...) pass through.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic_plugin {

inline constexpr int64_t kDefaultMaxTokens = 4096;

// The Messages body for `model` from the OpenAI body `openai_json`. Throws llmh::Error(400)
// naming what the client got wrong (a message without a role, tool call arguments that are not
// a JSON object, an image URL that is neither data: nor http(s):).
std::string messages_body(simdjson::dom::parser &parser, std::string_view openai_json, std::string_view model,
                          bool stream);

}  // namespace anthropic_plugin
