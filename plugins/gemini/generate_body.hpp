// An OpenAI chat request body as Gemini's generateContent takes it: system and developer
// messages into systemInstruction, the turns as contents with parts (text, inlineData for data:
// images, fileData for other image URLs, functionCall, functionResponse), consecutive turns of
// one role merged, tools as functionDeclarations, tool_choice as toolConfig, the sampling keys
// and stop, max_tokens and response_format json_object in generationConfig, reasoning_effort as
// a thinking budget. And an embeddings request as batchEmbedContents.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace gemini_plugin {

// The generateContent body from the OpenAI body `openai_json`. Throws llmh::Error(400) naming
// what the client got wrong (a message without a known role, tool call arguments that are not a
// JSON object, a tool result whose call is not in the conversation).
std::string generate_body(simdjson::dom::parser &parser, std::string_view openai_json);

// The batchEmbedContents body for `inputs` with `model` ("dimensions" from the OpenAI body as
// outputDimensionality).
std::string embed_body(simdjson::dom::parser &parser, std::string_view openai_json, std::string_view model,
                       const std::vector<std::string_view> &inputs);

}  // namespace gemini_plugin
