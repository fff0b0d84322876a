#include "dispatch/request_body.hpp"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <vector>

#include <llmhost/json_text.hpp>

#include "json/parser.hpp"
#include "json/writer.hpp"
#include "llmhost/errors.hpp"

namespace llmhost::detail {
namespace {

void write_tool_calls(json::Writer &w, const std::vector<ToolCall> &calls) {
  w.key("tool_calls").begin_array();
  for (const ToolCall &c : calls) {
    w.begin_object().member("id", c.id).member("type", c.type);
    w.key("function").begin_object().member("name", c.name).member("arguments", c.arguments).end_object();
    w.end_object();
  }
  w.end_array();
}

// Writes the body members the Request's own fields describe (no braces), leaving out the keys
// `skip` returns true for.
template <class Skip>
void write_fields(json::Writer &w, const Request &r, Skip skip) {
  // One allocation for the usual body: the texts plus room for the keys and numbers.
  size_t size = 256 + r.model.size();
  for (const Message &m : r.messages) size += 32 + m.role.size() + m.content.size();
  w.reserve(size);
  if (!skip("model")) w.member("model", r.model);
  if ((!r.messages.empty() || r.input.empty()) && !skip("messages")) {
    w.key("messages").begin_array();
    for (const Message &m : r.messages) {
      w.begin_object().member("role", m.role).member("content", m.content);
      if (!m.name.empty()) w.member("name", m.name);
      if (!m.tool_call_id.empty()) w.member("tool_call_id", m.tool_call_id);
      if (!m.tool_calls.empty()) write_tool_calls(w, m.tool_calls);
      w.end_object();
    }
    w.end_array();
  }
  if (!r.input.empty() && !skip("input")) {
    w.key("input").begin_array();
    for (const std::string &s : r.input) w.value(s);
    w.end_array();
  }
  const Params &p = r.params;
  auto optional = [&]<size_t N>(const char(&key)[N], const auto &v) {
    if (v && !skip(key)) w.member(key, *v);
  };
  optional("temperature", p.temperature);
  optional("top_p", p.top_p);
  optional("presence_penalty", p.presence_penalty);
  optional("frequency_penalty", p.frequency_penalty);
  optional("max_tokens", p.max_tokens);
  optional("n", p.n);
  optional("seed", p.seed);
  if (!p.stop.empty() && !skip("stop")) {
    w.key("stop").begin_array();
    for (const std::string &s : p.stop) w.value(s);
    w.end_array();
  }
  optional("user", p.user);
}

struct Member {
  std::string key;  // unescaped
  std::string raw;  // the value as JSON text
};

simdjson::dom::object parse_object(std::string_view json_text, const char *what,
                                   std::optional<simdjson::dom::parser> &own) {
  simdjson::dom::parser &parser = json::reusable_parser(json_text.size(), own);
  simdjson::dom::object obj;
  if (auto e = parser.parse(json_text.data(), json_text.size(), true).get(obj))
    throw Error(400, std::string(what) + " is not a valid JSON object: " + simdjson::error_message(e));
  return obj;
}

// The members of a JSON object, in order. `what` names the input in errors.
std::vector<Member> members_of(std::string_view json_text, const char *what) {
  std::optional<simdjson::dom::parser> own;
  std::vector<Member> out;
  for (auto [key, value] : parse_object(json_text, what, own))
    out.push_back({std::string(key), simdjson::minify(value)});
  return out;
}

}  // namespace

std::string request_body(const Request &r) {
  std::string out;
  const std::string_view body = request_body(r, out).text;
  if (body.data() != out.data()) out.assign(body);
  return out;
}

namespace {

// Whether a checked body has a top-level key that an extra member replaces, found by walking
// its text; nothing when a key is written with escapes (then only a parse can tell).
template <class Overridden>
std::optional<bool> clashes_unparsed(std::string_view body, Overridden overridden) {
  llmh::JsonMembers walk(body);
  std::string_view key, value;
  bool clash = false;
  while (walk.next(key, value)) {
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    clash = clash || overridden(key.substr(1, key.size() - 2));
  }
  return clash;
}

}  // namespace

Body request_body(const Request &r, std::string &out) {
  out.clear();
  auto none = [](std::string_view) { return false; };
  if (r.extra_json.empty() || r.extra_json == "{}") {
    // The common proxy path: the caller's text, no copy at all.
    if (!r.body_json.empty()) return {r.body_json, r.body_json_checked};
    json::Writer w(out);
    w.begin_object();
    write_fields(w, r, none);
    w.end_object();
    // Well formed as written; valid JSON too when its strings are UTF-8. Otherwise the plugin
    // parses it and says so.
    return {out, simdjson::validate_utf8(out.data(), out.size())};
  }
  const std::vector<Member> extra = members_of(r.extra_json, "extra parameters");
  auto overridden = [&](std::string_view k) {
    return std::any_of(extra.begin(), extra.end(), [&](const Member &m) { return m.key == k; });
  };
  auto write_extra = [&](json::Writer &w) {
    for (const Member &m : extra) w.key(m.key).raw(m.raw);
  };
  if (r.body_json.empty()) {  // our own fields: their keys are known, no parse needed
    json::Writer w(out);
    w.begin_object();
    write_fields(w, r, overridden);
    write_extra(w);
    w.end_object();
    // The fields are not parsed here, so check what parsing would have: text a plugin can read.
    if (!simdjson::validate_utf8(out.data(), out.size())) throw Error(400, "request is not valid UTF-8");
    return {out, true};
  }
  // A body checked on its way in is not parsed again unless an extra member replaces one of
  // its keys; one not checked yet is parsed here, which checks it.
  std::optional<simdjson::dom::parser> own;
  std::optional<simdjson::dom::object> parsed;
  std::optional<bool> clash;
  if (r.body_json_checked) clash = clashes_unparsed(r.body_json, overridden);
  if (!clash) {
    parsed = parse_object(r.body_json, "request body", own);
    clash = false;
    for (auto [key, value] : *parsed) *clash = *clash || overridden(key);
  }
  if (!*clash) {  // the caller's text as is, the extra members spliced in before its last brace
    const size_t close = r.body_json.rfind('}');
    out.append(r.body_json, 0, close);
    const bool empty_body = r.body_json.find_first_not_of(" \t\r\n", r.body_json.find('{') + 1) == close;
    if (!empty_body && !extra.empty()) out += ',';
    json::Writer w(out);
    write_extra(w);
    out += '}';
    return {out, true};
  }
  if (!parsed) parsed = parse_object(r.body_json, "request body", own);
  json::Writer w(out);
  w.begin_object();
  for (auto [key, value] : *parsed)
    if (!overridden(key)) w.key(key).raw(simdjson::minify(value));
  write_extra(w);
  w.end_object();
  return {out, true};
}

Request prompt_request(const Request &r, size_t index) {
  Request one;
  one.model = r.model;
  one.params = r.params;
  one.api_key = r.api_key;
  one.api_base = r.api_base;
  one.timeout_s = r.timeout_s;
  one.num_retries = r.num_retries;
  one.input = {r.input.at(index)};
  if (!simdjson::validate_utf8(one.input.front().data(), one.input.front().size()))
    throw Error(400, "prompt " + std::to_string(index) + " is not valid UTF-8");
  std::string storage;
  const Body body = request_body(r, storage);
  std::optional<simdjson::dom::parser> own;
  json::Writer w(one.body_json);
  w.begin_object();
  for (auto [key, value] : parse_object(body.text, "request body", own))
    if (key != "prompt" && key != "messages" && key != "input") w.key(key).raw(simdjson::minify(value));
  w.member("prompt", one.input.front());
  w.end_object();
  one.body_json_checked = true;
  return one;
}

}  // namespace llmhost::detail
