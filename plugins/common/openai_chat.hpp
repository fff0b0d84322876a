// Reading an OpenAI chat request as the vendor translations (anthropic, gemini) do: a content
// value's text, a data: URL's parts, tool call arguments as a JSON object, and turns of one role
// merged, as both vendors want them alternating. Header-only, like the rest of plugins/common.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <llmhost/provider.hpp>

#include "common/json_fields.hpp"

namespace llmh_plugins {

// The text of an OpenAI content value: a string, or the text parts of an array ("" for null).
inline std::string text_of(simdjson::dom::element content) {
  std::string_view s;
  if (!content.get(s)) return std::string(s);
  std::string out;
  simdjson::dom::array parts;
  if (content.get(parts)) return out;
  for (simdjson::dom::element p : parts) {
    simdjson::dom::object part;
    if (!p.get(part) && string_of(part, "type") == "text") out += string_of(part, "text");
  }
  return out;
}

// An image_url part's URL: {"image_url": {"url": ...}} or {"image_url": "..."}; "" when none.
inline std::string_view image_url_of(simdjson::dom::object part) {
  simdjson::dom::object image;
  if (!part["image_url"].get(image)) return string_of(image, "url");
  std::string_view url;
  return part["image_url"].get(url) ? std::string_view() : url;
}

// data:<mime>;base64,<data>. Nothing for another URL; Error 400 (`provider`: ...) for a data:
// URL that is not base64.
struct DataUrl {
  std::string_view mime, data;
};
inline std::optional<DataUrl> data_url(std::string_view url, std::string_view provider) {
  if (url.rfind("data:", 0) != 0) return std::nullopt;
  const size_t semi = url.find(";base64,");
  if (semi == std::string_view::npos)
    throw llmh::Error(400, std::string(provider) + ": an image data: URL must be base64 (data:<type>;base64,...)");
  return DataUrl{url.substr(5, semi - 5), url.substr(semi + 8)};
}

// An assistant's tool call: its id, its function's name, and its "arguments" (a JSON string) as
// the object they hold, minified ("{}" when empty), parsed with `parser`. Error 400 naming the
// call when it has no function or its arguments are not a JSON object.
struct ToolCall {
  std::string_view id, name;
  std::string arguments;
};
inline ToolCall tool_call_of(simdjson::dom::parser &parser, simdjson::dom::object call, std::string_view provider) {
  simdjson::dom::object fn;
  if (call["function"].get(fn))
    throw llmh::Error(400, std::string(provider) + ": a tool call without a \"function\" object");
  ToolCall c{string_of(call, "id"), string_of(fn, "name"), "{}"};
  const std::string_view arguments = string_of(fn, "arguments");
  if (arguments.empty()) return c;
  simdjson::dom::object parsed;
  if (parser.parse(arguments.data(), arguments.size(), true).get(parsed))
    throw llmh::Error(400, std::string(provider) + ": the arguments of tool call \"" + std::string(c.id) +
                               "\" are not a JSON object");
  c.arguments = simdjson::minify(parsed);
  return c;
}

// Walks the "messages" of an OpenAI chat body, handing each to the member of `on` for its role:
//   on.system(std::string text)                       system and developer messages
//   on.user(std::optional<element> content)
//   on.assistant(std::optional<element> content, std::vector<object> tool_calls)
//   on.tool(std::string_view tool_call_id, std::string text)
// Error 400 (`provider`: ...) for a message that is not an object, a tool call that is not one,
// or another role.
template <class On>
void for_each_message(simdjson::dom::object body, std::string_view provider, On &&on) {
  auto bad = [&](const std::string &why) { throw llmh::Error(400, std::string(provider) + ": " + why); };
  simdjson::dom::array messages;
  if (body["messages"].get(messages)) return;
  for (simdjson::dom::element m : messages) {
    simdjson::dom::object msg;
    if (m.get(msg)) bad("a message must be an object");
    const std::string_view role = string_of(msg, "role");
    std::optional<simdjson::dom::element> content;
    if (simdjson::dom::element c; !msg["content"].get(c)) content = c;
    if (role == "system" || role == "developer") {
      on.system(content ? text_of(*content) : std::string());
    } else if (role == "user") {
      on.user(content);
    } else if (role == "assistant") {
      std::vector<simdjson::dom::object> calls;
      simdjson::dom::array list;
      if (!msg["tool_calls"].get(list))
        for (simdjson::dom::element c : list) {
          simdjson::dom::object call;
          if (c.get(call)) bad("a tool call must be an object");
          calls.push_back(call);
        }
      on.assistant(content, std::move(calls));
    } else if (role == "tool") {
      on.tool(string_of(msg, "tool_call_id"), content ? text_of(*content) : std::string());
    } else {
      bad("a message's role must be system, developer, user, assistant or tool; got \"" + std::string(role) + "\"");
    }
  }
}

// The conversation as the vendor's turns: each a role and its items (content blocks, parts),
// consecutive items of one role in one turn.
struct Turn {
  std::string role;
  std::vector<std::string> items;
};
inline void add_to_turns(std::vector<Turn> &turns, std::string_view role, std::vector<std::string> items) {
  if (items.empty()) return;
  if (turns.empty() || turns.back().role != role) turns.push_back({std::string(role), {}});
  for (std::string &i : items) turns.back().items.push_back(std::move(i));
}

// `items` joined by commas, for a JSON array's body.
inline std::string join(const std::vector<std::string> &items) {
  std::string out;
  for (const std::string &i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace llmh_plugins
