#include "body.hpp"

#include <simdjson.h>

#include <array>
#include <llmhost/json_text.hpp>
#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include "flavour.hpp"

namespace openai_plugin {
namespace {

// api_version is Azure's, sent in the URL.
constexpr std::array<std::string_view, 7> kGatewayKeys = {"api_key",     "api_base",      "base_url",   "timeout",
                                                          "num_retries", "extra_headers", "api_version"};

bool dropped(std::string_view key, BodyKind kind) {
  if (key == "model" || key == "stream") return true;                   // rewritten below
  if (kind == BodyKind::kChat && key == "stream_options") return true;  // upstreams refuse it
  if (kind == BodyKind::kEmbeddings && key == "encoding_format") return true;
  for (std::string_view k : kGatewayKeys)
    if (key == k) return true;
  return false;
}

// The rewritten body around `copy_kept`, which appends each kept member as ",key:value".
template <class CopyKept>
std::string write_body(std::string_view model, BodyKind kind, size_t size_hint, CopyKept copy_kept) {
  std::string out;
  out.reserve(size_hint + model.size() + 32);
  out += "{\"model\":";
  llmh::append_json_string(out, model);
  if (kind == BodyKind::kChatStream) out += ",\"stream\":true";
  if (kind == BodyKind::kEmbeddings) out += ",\"encoding_format\":\"float\"";
  copy_kept(out);
  out.push_back('}');
  return out;
}

void append_member(std::string &out, std::string_view raw_key, std::string_view raw_value) {
  out.push_back(',');
  out += raw_key;
  out.push_back(':');
  out += raw_value;
}

}  // namespace

std::string rewrite_body(simdjson::dom::parser &parser, std::string_view body_json, std::string_view model,
                         BodyKind kind) {
  if (body_json.empty()) body_json = "{}";
  simdjson::dom::object obj;
  if (parser.parse(body_json.data(), body_json.size(), true).get(obj))
    throw llmh::Error(400, OPENAI_PLUGIN_NAME ": the request body is not a JSON object");
  return write_body(model, kind, body_json.size(), [&](std::string &out) {
    // The parse validated the whole body, so each kept member's text is valid JSON as written:
    // copied, not re-serialized. The parsed object, in step, gives each key unescaped.
    llmh::JsonMembers raw(body_json);
    std::string_view raw_key, raw_value;
    for (auto member : obj) {
      raw.next(raw_key, raw_value);
      if (!dropped(member.key, kind)) append_member(out, raw_key, raw_value);
    }
  });
}

std::string rewrite_body(simdjson::dom::parser &parser, const llmh::Request &req, BodyKind kind) {
  // A key written with escapes ("api\u005fkey") is only known by unescaping it: the parse does.
  bool escaped_key = !req.has_body_members();
  for (llmh::JsonMember m : req.body_members())
    escaped_key = escaped_key || m.key().find('\\') != std::string_view::npos;
  if (escaped_key) return rewrite_body(parser, req.body_json(), req.model(), kind);
  // The host checked the body and lists its members: nothing to parse.
  return write_body(req.model(), kind, req.body_json().size(), [&](std::string &out) {
    for (llmh::JsonMember m : req.body_members()) {
      const std::string_view k = m.key();
      if (!dropped(k.substr(1, k.size() - 2), kind)) append_member(out, k, m.value());
    }
  });
}

namespace {
void form_part(std::string &out, std::string_view boundary, std::string_view name, std::string_view filename,
               std::string_view content_type, std::string_view data) {
  out.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(name).append("\"");
  if (!filename.empty() || !content_type.empty()) {
    out.append("; filename=\"");
    for (char c : filename.empty() ? std::string_view("image.png") : filename)
      if (c != '"' && c != '\r' && c != '\n') out += c;
    out.append("\"\r\nContent-Type: ").append(content_type.empty() ? std::string_view("image/png") : content_type);
  }
  out.append("\r\n\r\n").append(data).append("\r\n");
}
}  // namespace

std::string image_edit_form(simdjson::dom::parser &parser, const llmh::ImageRequest &req, std::string_view boundary) {
  const std::string_view body_json = req.common().body_json();
  simdjson::dom::object obj;
  if (parser.parse(body_json.data(), body_json.size(), true).get(obj))
    throw llmh::Error(400, OPENAI_PLUGIN_NAME ": the request body is not a JSON object");
  std::string out;
  form_part(out, boundary, "model", {}, {}, req.common().model());
  for (auto member : obj) {
    if (dropped(member.key, BodyKind::kChat)) continue;
    std::string_view text;
    std::string scalar;
    if (member.value.get(text)) {  // not a string: numbers and booleans as written, the rest left out
      if (!member.value.is_number() && !member.value.is_bool()) continue;
      scalar = simdjson::minify(member.value);
      text = scalar;
    }
    form_part(out, boundary, member.key, {}, {}, text);
  }
  for (llmh::ImageFile f : req.images()) form_part(out, boundary, "image[]", f.filename(), f.content_type(), f.data());
  if (const std::optional<llmh::ImageFile> m = req.mask())
    form_part(out, boundary, "mask", m->filename(), m->content_type(), m->data());
  out.append("--").append(boundary).append("--\r\n");
  return out;
}

}  // namespace openai_plugin
