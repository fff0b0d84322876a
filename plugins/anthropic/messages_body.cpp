#include "messages_body.hpp"

#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include <vector>

#include "common/json_fields.hpp"

namespace anthropic_plugin {
namespace {

using llmh_plugins::json_text;
using llmh_plugins::string_of;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(const std::string &why) { throw llmh::Error(400, "anthropic: " + why); }

// The text of an OpenAI content value: a string, or the text parts of an array.
std::string text_of(element content) {
  std::string_view s;
  if (!content.get(s)) return std::string(s);
  std::string out;
  array parts;
  if (content.get(parts)) return out;
  for (element p : parts) {
    object part;
    if (!p.get(part) && string_of(part, "type") == "text") out += string_of(part, "text");
  }
  return out;
}

// An image_url part as an image block: a data: URL carries base64 bytes, an http(s) URL is
// fetched by Anthropic.
std::string image_block(object part) {
  std::string_view url;
  object image;
  if (!part["image_url"].get(image)) {
    url = string_of(image, "url");
  } else if (part["image_url"].get(url)) {
    url = {};
  }
  if (url.rfind("data:", 0) == 0) {
    const size_t semi = url.find(";base64,");
    if (semi == std::string_view::npos) bad("an image data: URL must be base64 (data:<type>;base64,...)");
    return R"({"type":"image","source":{"type":"base64","media_type":)" + json_text(url.substr(5, semi - 5)) +
           R"(,"data":)" + json_text(url.substr(semi + 8)) + "}}";
  }
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

struct Turn {
  std::string role;  // "user" or "assistant"
  std::vector<std::string> blocks;
};

void add(std::vector<Turn> &turns, const char *role, std::vector<std::string> blocks) {
  if (blocks.empty()) return;
  if (turns.empty() || turns.back().role != role) turns.push_back({role, {}});
  for (std::string &b : blocks) turns.back().blocks.push_back(std::move(b));
}

std::string tool_use_block(object call, simdjson::dom::parser &args_parser) {
  object fn;
  if (call["function"].get(fn)) bad("a tool call without a \"function\" object");
  const std::string_view arguments = string_of(fn, "arguments");
  std::string input = "{}";
  if (!arguments.empty()) {
    object parsed;
    if (args_parser.parse(arguments.data(), arguments.size(), true).get(parsed))
      bad("the arguments of tool call \"" + std::string(string_of(call, "id")) + "\" are not a JSON object");
    input = simdjson::minify(parsed);
  }
  return R"({"type":"tool_use","id":)" + json_text(string_of(call, "id")) + R"(,"name":)" +
         json_text(string_of(fn, "name")) + R"(,"input":)" + input + "}";
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
  simdjson::dom::parser args_parser;  // tool call arguments, while `parser` holds the body

  std::string system;
  std::vector<Turn> turns;
  array messages;
  if (!body["messages"].get(messages)) {
    for (element m : messages) {
      object msg;
      if (m.get(msg)) bad("a message must be an object");
      const std::string_view role = string_of(msg, "role");
      element content;
      const bool has_content = !msg["content"].get(content);
      if (role == "system" || role == "developer") {
        if (has_content) system += (system.empty() ? "" : "\n\n") + text_of(content);
      } else if (role == "user") {
        std::vector<std::string> blocks;
        if (has_content) content_blocks(content, blocks);
        add(turns, "user", std::move(blocks));
      } else if (role == "assistant") {
        std::vector<std::string> blocks;
        if (has_content) content_blocks(content, blocks);
        array calls;
        if (!msg["tool_calls"].get(calls))
          for (element c : calls) {
            object call;
            if (c.get(call)) bad("a tool call must be an object");
            blocks.push_back(tool_use_block(call, args_parser));
          }
        add(turns, "assistant", std::move(blocks));
      } else if (role == "tool") {
        add(turns, "user",
            {R"({"type":"tool_result","tool_use_id":)" + json_text(string_of(msg, "tool_call_id")) + R"(,"content":)" +
             json_text(has_content ? text_of(content) : std::string()) + "}"});
      } else {
        bad("a message's role must be system, developer, user, assistant or tool; got \"" + std::string(role) + "\"");
      }
    }
  }

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
  for (size_t i = 0; i < turns.size(); ++i) {
    out += (i ? "," : "") + std::string("{\"role\":\"") + turns[i].role + "\",\"content\":[";
    for (size_t j = 0; j < turns[i].blocks.size(); ++j) out += (j ? "," : "") + turns[i].blocks[j];
    out += "]}";
  }
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
