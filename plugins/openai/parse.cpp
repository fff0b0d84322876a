#include "parse.hpp"

#include <llmhost/json_text.hpp>

#include <vector>

#include "flavour.hpp"

namespace openai_plugin {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(std::string_view url, const std::string &what) {
  throw llmh::Error(502, OPENAI_PLUGIN_NAME ": unexpected response from " + std::string(url) + ": " + what);
}

object parse_object(simdjson::dom::parser &parser, std::string_view body, std::string_view url) {
  object obj;
  if (auto e = parser.parse(body.data(), body.size(), true).get(obj))
    bad(url, std::string("not a JSON object (") + simdjson::error_message(e) + ")");
  return obj;
}

// A chat answer's choices[0].message into `out`.
void read_message(simdjson::simdjson_result<element> message_member, const llmh::Response &out, std::string_view url);

// The array `member` of an answer, named `key`: the upstream's own error when it sent one
// instead, else a 502 saying the array is missing.
array array_or_error(object obj, simdjson::simdjson_result<element> member, const char *key, std::string_view url) {
  array items;
  if (!member.get(items)) return items;
  if (std::string m = error_message_of(obj); !m.empty())
    throw llmh::Error(502, OPENAI_PLUGIN_NAME ": upstream error: " + m);
  bad(url, "no \"" + std::string(key) + "\" array");
}

// Printable start of a non-JSON body, for error messages.
std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  return out;
}

}  // namespace

std::string_view str_or_empty(simdjson::simdjson_result<element> member) {
  std::string_view s;
  if (member.get(s)) return {};
  return s;
}

std::string_view str_or_empty(object obj, const char *key) { return str_or_empty(obj[key]); }

bool read_usage(element usage, llmh_usage &out) {
  object u;
  if (usage.get(u)) return false;
  out = llmh::make_usage(0, 0, 0);
  const auto [prompt, completion, total] = members_named(u, {"prompt_tokens", "completion_tokens", "total_tokens"});
  int64_t v = 0;
  if (!prompt.get(v)) out.prompt_tokens = v;
  if (!completion.get(v)) out.completion_tokens = v;
  if (!total.get(v))
    out.total_tokens = v;
  else
    out.total_tokens = out.prompt_tokens + out.completion_tokens;
  return true;
}

void parse_images(simdjson::dom::parser &parser, std::string_view body, const llmh::Images &out, std::string_view url) {
  object obj = parse_object(parser, body, url);
  array data = array_or_error(obj, obj["data"], "data", url);
  size_t i = 0;
  for (element item : data) {
    object image;
    if (item.get(image)) bad(url, "data[" + std::to_string(i) + "] is not an object");
    const std::string_view revised = str_or_empty(image, "revised_prompt");
    if (std::string_view b64 = str_or_empty(image, "b64_json"); !b64.empty())
      out.add_b64(b64, revised);
    else if (std::string_view link = str_or_empty(image, "url"); !link.empty())
      out.add_url(link, revised);
    else
      bad(url, "data[" + std::to_string(i) + "] has neither \"url\" nor \"b64_json\"");
    ++i;
  }
  object usage;
  if (!obj["usage"].get(usage)) {  // gpt-image-1 counts input_tokens and output_tokens
    int64_t in = 0, outt = 0;
    if (usage["input_tokens"].get(in)) in = 0;
    if (usage["output_tokens"].get(outt)) outt = 0;
    out.usage(in, outt);
  }
}

std::string error_message_of(object obj) {
  element e;
  if (obj["error"].get(e) || e.is_null()) return {};
  std::string_view s;
  if (!e.get(s)) return std::string(s);
  object err;
  if (!e.get(err)) {
    if (!err["message"].get(s)) return std::string(s);
    return simdjson::minify(err);
  }
  return simdjson::minify(e);
}

void parse_completion(simdjson::dom::parser &parser, std::string &scratch, std::string_view body,
                      const llmh::Response &out, std::string_view url, Shape shape) {
  object obj = parse_object(parser, body, url);
  const auto [choices_member, usage_member, model_member] = members_named(obj, {"choices", "usage", "model"});
  array choices = array_or_error(obj, choices_member, "choices", url);
  object choice;
  if (choices.at(0).get(choice)) bad(url, "\"choices\" is empty");
  const auto [text_member, message_member, reason_member] = members_named(choice, {"text", "message", "finish_reason"});
  if (shape == Shape::kText) {
    std::string_view text;
    if (text_member.get(text)) bad(url, "choices[0] has no \"text\" string");
    out.append_content(text);
  } else {
    read_message(message_member, out, url);
  }
  if (std::string_view reason = str_or_empty(reason_member); !reason.empty()) out.finish_reason(reason);
  llmh_usage usage;
  element u;
  if (!usage_member.get(u) && read_usage(u, usage))
    out.usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens);
  if (std::string_view model = str_or_empty(model_member); !model.empty()) out.model(model);
  out.raw_json(body);
  if (shape == Shape::kText) return;  // a text completion's answer has nothing else to pass through
  // The parse above checked the body: what passes through is picked from its text.
  const llmh::UpstreamTexts members = llmh::openai_upstream_members(scratch, body, false);
  out.upstream_members(members.top, members.choice, members.message);
}

namespace {
void read_message(simdjson::simdjson_result<element> message_member, const llmh::Response &out, std::string_view url) {
  object message;
  if (message_member.get(message)) bad(url, "choices[0] has no \"message\" object");
  const auto [content, reasoning_content, reasoning_member, tool_calls] =
      members_named(message, {"content", "reasoning_content", "reasoning", "tool_calls"});
  out.append_content(str_or_empty(content));
  std::string_view reasoning = str_or_empty(reasoning_content);
  if (reasoning.empty()) reasoning = str_or_empty(reasoning_member);
  if (!reasoning.empty()) out.append_reasoning(reasoning);
  array calls;
  if (!tool_calls.get(calls)) {
    for (element c : calls) {
      object call, fn;
      if (c.get(call) || call["function"].get(fn)) bad(url, "a tool call without a \"function\" object");
      std::string_view type = str_or_empty(call, "type");
      out.add_tool_call(str_or_empty(call, "id"), str_or_empty(fn, "name"), str_or_empty(fn, "arguments"),
                        type.empty() ? "function" : type);
    }
  }
}
}  // namespace

void parse_embeddings(simdjson::dom::parser &parser, std::string_view body, const llmh::Embeddings &out, size_t inputs,
                      std::string_view url) {
  object obj = parse_object(parser, body, url);
  array data = array_or_error(obj, obj["data"], "data", url);
  std::vector<float> values;
  size_t position = 0;
  for (element item : data) {
    object entry;
    array vector;
    if (item.get(entry) || entry["embedding"].get(vector))
      bad(url, "data[" + std::to_string(position) + "] has no \"embedding\" array of numbers");
    uint64_t index = position;
    if (entry["index"].get(index)) index = position;  // absent: position in the list
    if (index >= inputs) bad(url, "embedding index " + std::to_string(index) + " is out of range");
    values.clear();
    for (element v : vector) {
      double d;
      if (v.get(d)) bad(url, "data[" + std::to_string(position) + "].embedding holds a non-number");
      values.push_back(static_cast<float>(d));
    }
    out.set(static_cast<size_t>(index), values);
    ++position;
  }
  llmh_usage usage;
  element u;
  if (!obj["usage"].get(u) && read_usage(u, usage)) out.usage(usage.prompt_tokens, usage.total_tokens);
  if (std::string_view model = str_or_empty(obj, "model"); !model.empty()) out.model(model);
}

llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url) {
  const int mapped = status >= 400 && status <= 599 ? status : 502;
  std::string message;
  object obj;
  if (!parser.parse(body.data(), body.size(), true).get(obj)) {
    message = error_message_of(obj);
    std::string_view s;
    if (message.empty() && !obj["message"].get(s)) message = s;
    if (message.empty() && !obj["detail"].get(s)) message = s;
  }
  if (message.empty()) message = body.empty() ? "(empty body)" : snippet(body);
  return llmh::Error(mapped, OPENAI_PLUGIN_NAME ": upstream " + std::string(url) + " returned " +
                                 std::to_string(status) + ": " + message);
}

}  // namespace openai_plugin
