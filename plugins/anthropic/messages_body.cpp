#include "messages_body.hpp"

#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include <optional>
#include <vector>

#include "common/json_fields.hpp"
#include "common/openai_chat.hpp"

namespace anthropic_plugin {
namespace {

using llmh_plugins::json_text;
using llmh_plugins::string_of;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(const std::string &why) { throw llmh::Error(400, "anthropic: " + why); }

// An image_url part as an image block: a data: URL carries base64 bytes, an http(s) URL is
// fetched by Anthropic.
std::string image_block(object part) {
  const std::string_view url = llmh_plugins::image_url_of(part);
  if (const auto data = llmh_plugins::data_url(url, "anthropic"))
    return R"({"type":"image","source":{"type":"base64","media_type":)" + json_text(data->mime) + R"(,"data":)" +
           json_text(data->data) + "}}";
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0)
    return R"({"type":"image","source":{"type":"url","url":)" + json_text(url) + "}}";
  bad("an image_url must be a data: or http(s): URL");
}

// The blocks of a user or assistant content value.
void content_blocks(element content, std::vector<std::string> &blocks) {
  std::string_view s;
  if (!content.get(s)) {
    if (!s.empty()) blocks.push_back(R"({"type":"text","text":)" + json_text(s) + "}");
    return;
  }
  array parts;
  if (content.get(parts)) return;  // null
  for (element p : parts) {
    object part;
    if (p.get(part)) bad("a content part must be an object");
    const std::string_view type = string_of(part, "type");
    if (type == "text") {
      blocks.push_back(R"({"type":"text","text":)" + json_text(string_of(part, "text")) + "}");
    } else if (type == "image_url") {
      blocks.push_back(image_block(part));
    } else {
      blocks.push_back(simdjson::minify(part));  // an Anthropic block sent as is (document, ...)
    }
  }
}

std::string tool_use_block(object call, simdjson::dom::parser &args_parser) {
  const llmh_plugins::ToolCall c = llmh_plugins::tool_call_of(args_parser, call, "anthropic");
  return R"({"type":"tool_use","id":)" + json_text(c.id) + R"(,"name":)" + json_text(c.name) + R"(,"input":)" +
         c.arguments + "}";
}

std::string tools_of(array tools) {
  std::string out = "[";
  for (element t : tools) {
    object tool, fn;
    if (t.get(tool)) bad("a tool must be an object");
    if (tool["function"].get(fn)) {  // already Anthropic's shape
      out += (out.size() > 1 ? "," : "") + simdjson::minify(tool);
      continue;
    }
    out += out.size() > 1 ? "," : "";
    out += R"({"name":)" + json_text(string_of(fn, "name"));
    if (std::string_view d = string_of(fn, "description"); !d.empty()) out += R"(,"description":)" + json_text(d);
    element params;
    out += R"(,"input_schema":)" + (fn["parameters"].get(params) ? std::string(R"({"type":"object","properties":{}})")
                                                                 : simdjson::minify(params));
    out += "}";
  }
  return out + "]";
}

std::string tool_choice_of(element choice) {
  std::string_view s;
  if (!choice.get(s)) {
    if (s == "auto") return R"({"type":"auto"})";
    if (s == "required") return R"({"type":"any"})";
    if (s == "none") return R"({"type":"none"})";
    bad("tool_choice must be auto, required, none or a function; got \"" + std::string(s) + "\"");
  }
  object o, fn;
  if (!choice.get(o) && !o["function"].get(fn))
    return R"({"type":"tool","name":)" + json_text(string_of(fn, "name")) + "}";
  return simdjson::minify(choice);  // Anthropic's own shape
}

bool is_one_of(std::string_view key, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys)
    if (key == k) return true;
  return false;
}

}  // namespace

std::string messages_body(simdjson::dom::parser &parser, std::string_view openai_json, std::string_view model,
                          bool stream) {
  if (openai_json.empty()) openai_json = "{}";
  object body;
  if (parser.parse(openai_json.data(), openai_json.size(), true).get(body))
    bad("the request body is not a JSON object");
  // The conversation: the system text apart, the rest as alternating turns of content blocks.
  struct Conversation {
    simdjson::dom::parser &args_parser;  // tool call arguments, while `parser` holds the body
    std::string system_text;
    std::vector<llmh_plugins::Turn> turns;

    void system(const std::string &text) { system_text += (system_text.empty() ? "" : "\n\n") + text; }
    void user(std::optional<element> content) {
      std::vector<std::string> blocks;
      if (content) content_blocks(*content, blocks);
      llmh_plugins::add_to_turns(turns, "user", std::move(blocks));
    }
    void assistant(std::optional<element> content, const std::vector<object> &calls) {
      std::vector<std::string> blocks;
      if (content) content_blocks(*content, blocks);
      for (object call : calls) blocks.push_back(tool_use_block(call, args_parser));
      llmh_plugins::add_to_turns(turns, "assistant", std::move(blocks));
    }
    void tool(std::string_view id, const std::string &text) {
      llmh_plugins::add_to_turns(
          turns, "user",
          {R"({"type":"tool_result","tool_use_id":)" + json_text(id) + R"(,"content":)" + json_text(text) + "}"});
    }
  };
  simdjson::dom::parser args_parser;
  Conversation c{args_parser, {}, {}};
  llmh_plugins::for_each_message(body, "anthropic", c);
  const std::string &system = c.system_text;
  const std::vector<llmh_plugins::Turn> &turns = c.turns;

  std::string out = "{\"model\":" + json_text(model);
  int64_t max_tokens = kDefaultMaxTokens;
  if (body["max_tokens"].get(max_tokens) && body["max_completion_tokens"].get(max_tokens))
    max_tokens = kDefaultMaxTokens;
  // LiteLLM's mapping of reasoning_effort, when the client did not ask for thinking itself.
  int64_t budget = 0;
  element thinking;
  if (std::string_view effort; body["thinking"].get(thinking) && !body["reasoning_effort"].get(effort)) {
    budget = effort == "low" ? 1024 : effort == "medium" ? 2048 : effort == "high" ? 4096 : 0;
    if (budget && max_tokens <= budget) max_tokens = budget + kDefaultMaxTokens;
  }
  out += ",\"max_tokens\":" + std::to_string(max_tokens);
  if (budget) out += R"(,"thinking":{"type":"enabled","budget_tokens":)" + std::to_string(budget) + "}";
  if (!system.empty()) out += ",\"system\":" + json_text(system);
  out += ",\"messages\":[";
  for (size_t i = 0; i < turns.size(); ++i)
    out += (i ? "," : "") + std::string("{\"role\":\"") + turns[i].role + "\",\"content\":[" +
           llmh_plugins::join(turns[i].items) + "]}";
  out += "]";
  if (stream) out += ",\"stream\":true";

  for (auto [key, value] : body) {
    if (value.is_null()) continue;
    if (key == "stop") {
      std::string_view one;
      out += ",\"stop_sequences\":" + (value.get(one) ? simdjson::minify(value) : "[" + json_text(one) + "]");
    } else if (key == "tools") {
      array tools;
      if (value.get(tools)) bad("tools must be an array");
      out += ",\"tools\":" + tools_of(tools);
    } else if (key == "tool_choice") {
      out += ",\"tool_choice\":" + tool_choice_of(value);
    } else if (key == "user") {
      std::string_view user;
      if (!value.get(user)) out += R"(,"metadata":{"user_id":)" + json_text(user) + "}";
    } else if (is_one_of(key, {"temperature", "top_p", "top_k", "thinking", "metadata", "service_tier", "container",
                               "mcp_servers"})) {
      out += ",";
      out += json_text(key);
      out += ":" + simdjson::minify(value);
    }
    // Everything else is OpenAI's or the gateway's (n, seed, stream_options, api_key, ...):
    // Anthropic refuses unknown keys.
  }
  return out + "}";
}

}  // namespace anthropic_plugin
