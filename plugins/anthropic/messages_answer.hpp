// Anthropic's answers in OpenAI's terms: a Message into the response (text, thinking as
// reasoning, tool_use as tool calls, stop_reason as finish_reason, usage), and an error body or
// error event into an llmh::Error with the status a gateway acts on.
#pragma once

#include <simdjson.h>

#include <string_view>

#include <llmhost/provider.hpp>

namespace anthropic_plugin {

// end_turn, stop_sequence -> stop; max_tokens -> length; tool_use -> tool_calls; refusal ->
// content_filter; anything else passes as Anthropic wrote it.
std::string_view finish_reason(std::string_view stop_reason);

// The status for an Anthropic error type, for an error that arrives with no HTTP status of its
// own (a mid-stream error event): overloaded_error 529, rate_limit_error 429, and so on; 502
// for a type it does not know.
int status_of(std::string_view error_type);

// A Message (the 2xx body of /v1/messages) into `out`. Throws llmh::Error(502) naming `url` for
// a body that is not one.
void parse_message(simdjson::dom::parser &parser, std::string_view body, const llmh::Response &out,
                   std::string_view url);

// The error a non-2xx answer stands for: its status (529 overloaded stays 529, so that fallbacks
// move on), and Anthropic's message and error type.
llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url);

}  // namespace anthropic_plugin
