#include "messages_answer.hpp"

#include <string>

#include "common/json_fields.hpp"

namespace anthropic_plugin {
namespace {

using llmh_plugins::int_of;
using llmh_plugins::string_of;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(std::string_view url, const std::string &what) {
  throw llmh::Error(502, "anthropic: unexpected response from " + std::string(url) + ": " + what);
}

}  // namespace

std::string_view finish_reason(std::string_view stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return stop_reason;
}

int status_of(std::string_view type) {
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "api_error") return 500;
  if (type == "overloaded_error") return 529;
  return 502;
}

void parse_message(simdjson::dom::parser &parser, std::string_view body, const llmh::Response &out,
                   std::string_view url) {
  object msg;
  if (auto e = parser.parse(body.data(), body.size(), true).get(msg))
    bad(url, std::string("not a JSON object (") + simdjson::error_message(e) + ")");
  array content;
  if (msg["content"].get(content)) bad(url, "no \"content\" array");
  for (element b : content) {
    object block;
    if (b.get(block)) bad(url, "a content block that is not an object");
    const std::string_view type = string_of(block, "type");
    if (type == "text") {
      out.append_content(string_of(block, "text"));
    } else if (type == "thinking") {
      out.append_reasoning(string_of(block, "thinking"));
    } else if (type == "tool_use") {
      element input;
      const std::string arguments = block["input"].get(input) ? std::string("{}") : simdjson::minify(input);
      out.add_tool_call(string_of(block, "id"), string_of(block, "name"), arguments, "function");
    }
    // redacted_thinking, server tool blocks: nothing an OpenAI client reads.
  }
  if (const std::string_view reason = string_of(msg, "stop_reason"); !reason.empty())
    out.finish_reason(finish_reason(reason));
  object usage;
  if (!msg["usage"].get(usage)) {
    // OpenAI counts cached prompt tokens among the prompt's; Anthropic counts them apart.
    const int64_t prompt = int_of(usage, "input_tokens") + int_of(usage, "cache_creation_input_tokens") +
                           int_of(usage, "cache_read_input_tokens");
    const int64_t completion = int_of(usage, "output_tokens");
    out.usage(prompt, completion, prompt + completion);
  }
  if (const std::string_view model = string_of(msg, "model"); !model.empty()) out.model(model);
  out.raw_json(body);
}

llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url) {
  std::string message;
  object obj, err;
  if (!parser.parse(body.data(), body.size(), true).get(obj) && !obj["error"].get(err)) {
    message = std::string(string_of(err, "message"));
    if (const std::string_view type = string_of(err, "type"); !type.empty()) message += " (" + std::string(type) + ")";
  } else {
    message = std::string(body.substr(0, 200));
  }
  return llmh::Error(
      status, "anthropic: upstream " + std::string(url) + " returned " + std::to_string(status) + ": " + message);
}

}  // namespace anthropic_plugin
