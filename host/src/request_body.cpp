#include "request_body.hpp"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "json_writer.hpp"
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

// Writes the body members the Request's own fields describe (no braces).
void write_fields(json::Writer &w, const Request &r) {
  w.member("model", r.model);
  if (!r.messages.empty() || r.input.empty()) {
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
  if (!r.input.empty()) {
    w.key("input").begin_array();
    for (const std::string &s : r.input) w.value(s);
    w.end_array();
  }
  const Params &p = r.params;
  if (p.temperature) w.member("temperature", *p.temperature);
  if (p.top_p) w.member("top_p", *p.top_p);
  if (p.presence_penalty) w.member("presence_penalty", *p.presence_penalty);
  if (p.frequency_penalty) w.member("frequency_penalty", *p.frequency_penalty);
  if (p.max_tokens) w.member("max_tokens", *p.max_tokens);
  if (p.n) w.member("n", *p.n);
  if (p.seed) w.member("seed", *p.seed);
  if (!p.stop.empty()) {
    w.key("stop").begin_array();
    for (const std::string &s : p.stop) w.value(s);
    w.end_array();
  }
  if (p.user) w.member("user", *p.user);
}

struct Member {
  std::string key;  // unescaped
  std::string raw;  // the value as JSON text
};

// Parses a JSON object into its members, in order. `what` names the input in errors.
std::vector<Member> members_of(std::string_view json_text, const char *what) {
  // One parser per thread, reused: a parser keeps its buffers, so each call pays for a parse
  // only. A body that would grow it past 1 MiB gets a parser of its own instead.
  thread_local simdjson::dom::parser reused;
  std::optional<simdjson::dom::parser> own;
  simdjson::dom::parser &parser = json_text.size() <= (1u << 20) ? reused : own.emplace();
  simdjson::dom::object obj;
  if (auto e = parser.parse(json_text.data(), json_text.size(), true).get(obj))
    throw Error(400, std::string(what) + " is not a valid JSON object: " + simdjson::error_message(e));
  std::vector<Member> out;
  for (auto [key, value] : obj) out.push_back({std::string(key), simdjson::minify(value)});
  return out;
}

}  // namespace

std::string request_body(const Request &r) {
  std::string out;
  const std::string_view body = request_body(r, out);
  if (body.data() != out.data()) out.assign(body);
  return out;
}

std::string_view request_body(const Request &r, std::string &out) {
  out.clear();
  if (r.extra_json.empty() || r.extra_json == "{}") {
    if (!r.body_json.empty()) return r.body_json;  // the common proxy path: no copy at all
    json::Writer w(out);
    w.begin_object();
    write_fields(w, r);
    w.end_object();
    return out;
  }
  const std::vector<Member> extra = members_of(r.extra_json, "extra parameters");
  auto overridden = [&](std::string_view k) {
    return std::any_of(extra.begin(), extra.end(), [&](const Member &m) { return m.key == k; });
  };
  json::Writer w(out);
  w.begin_object();
  if (r.body_json.empty()) {
    std::string fields;
    json::Writer fw(fields);
    fw.begin_object();
    write_fields(fw, r);
    fw.end_object();
    for (const Member &m : members_of(fields, "request"))
      if (!overridden(m.key)) w.key(m.key).raw(m.raw);
  } else {
    for (const Member &m : members_of(r.body_json, "request body"))
      if (!overridden(m.key)) w.key(m.key).raw(m.raw);
  }
  for (const Member &m : extra) w.key(m.key).raw(m.raw);
  w.end_object();
  return out;
}

}  // namespace llmhost::detail
