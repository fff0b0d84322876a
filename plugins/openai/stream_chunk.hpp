// One streamed chat.completion.chunk, or text_completion (the JSON of an SSE event) -> one ABI
// chunk.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include <llmhost/provider.hpp>

#include "parse.hpp"

namespace openai_plugin {

// Parses `json` and emits it to `out` with its text, reasoning and tool-call deltas, its
// finish_reason, its usage, the members to pass through (built in `scratch`) and the JSON
// itself as raw_json. Reads the first choice (the ABI
// chunk has no choice index; the raw JSON keeps the others). Returns false when the consumer
// has gone away. Throws llmh::Error(502) for JSON that is not a chunk object, and the
// upstream's error for an {"error": ...} event. A text_completion (Shape::kText) gives its
// choice's text, finish_reason and usage, and passes nothing through.
bool emit_chunk(simdjson::dom::parser &parser, std::string &scratch, std::string_view json, llmh::Stream &out,
                std::string_view url, Shape shape = Shape::kChat);

}  // namespace openai_plugin
