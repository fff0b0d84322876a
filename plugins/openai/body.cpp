#include "body.hpp"

#include <simdjson.h>

#include <array>
#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include "raw_members.hpp"

namespace openai_plugin {
namespace {

constexpr std::array<std::string_view, 6> kGatewayKeys = {"api_key", "api_base", "base_url",
                                                          "timeout", "num_retries", "extra_headers"};

bool dropped(std::string_view key, BodyKind kind) {
  if (key == "model" || key == "stream") return true;  // rewritten below
  if (kind == BodyKind::kChat && key == "stream_options") return true;  // upstreams refuse it
  if (kind == BodyKind::kEmbeddings && key == "encoding_format") return true;
  for (std::string_view k : kGatewayKeys)
    if (key == k) return true;
  return false;
}

}  // namespace

std::string rewrite_body(simdjson::dom::parser &parser, std::string_view body_json, std::string_view model,
                         BodyKind kind) {
  if (body_json.empty()) body_json = "{}";
  simdjson::dom::object obj;
  if (parser.parse(body_json.data(), body_json.size(), true).get(obj))
    throw llmh::Error(400, "openai: the request body is not a JSON object");
  std::string out;
  out.reserve(body_json.size() + model.size() + 32);
  out += "{\"model\":";
  llmh::append_json_string(out, model);
  if (kind == BodyKind::kChatStream) out += ",\"stream\":true";
  if (kind == BodyKind::kEmbeddings) out += ",\"encoding_format\":\"float\"";
  // The parse validated the whole body, so each kept member's text is valid JSON as written:
  // copied, not re-serialized. The parsed object, in step, gives each key unescaped.
  RawMembers raw(body_json);
  std::string_view raw_key, raw_value;
  for (auto member : obj) {
    raw.next(raw_key, raw_value);
    if (dropped(member.key, kind)) continue;
    out.push_back(',');
    out += raw_key;
    out.push_back(':');
    out += raw_value;
  }
  out.push_back('}');
  return out;
}

}  // namespace openai_plugin
