// Gemini's answers in OpenAI's terms: a GenerateContentResponse (whole, or one event of a
// stream) into the response or a chunk (text parts as content, thought parts as reasoning,
// functionCall parts as tool calls, finishReason, usageMetadata), an error body into an
// llmh::Error with the status a gateway acts on, and batchEmbedContents' vectors.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include <llmhost/provider.hpp>

namespace gemini_plugin {

// STOP -> stop (tool_calls when the answer calls a function); MAX_TOKENS -> length; SAFETY,
// RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY -> content_filter; others in
// lower case.
std::string finish_reason(std::string_view gemini_reason, bool called_functions);

// A generateContent answer into `out`. Throws llmh::Error(502) naming `url` for a body that is
// not one.
void parse_response(simdjson::dom::parser &parser, std::string_view body, const llmh::Response &out,
                    std::string_view url);

// One streamed event into a chunk on `out`; `tools` counts the tool calls emitted so far (their
// indexes). Returns false once the consumer has gone. Throws 502 for an event that is not one,
// and the upstream's error for an error object.
bool emit_event(simdjson::dom::parser &parser, std::string_view data, llmh::Stream &out, uint32_t &tools,
                std::string_view url);

// The error a non-2xx answer stands for: its status and Gemini's message; an invalid key is 401
// (Gemini says 400), so that it reads as what it is.
llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url);

// batchEmbedContents' answer into `out`: one vector per input, in order.
void parse_embeddings(simdjson::dom::parser &parser, std::string_view body, const llmh::Embeddings &out, size_t inputs,
                      std::string_view url);

}  // namespace gemini_plugin
