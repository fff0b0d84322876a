#include "openai/response.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <random>

#include <llmhost/json_text.hpp>

#include "json/base64.hpp"
#include "json/locate.hpp"
#include "json/writer.hpp"

namespace llmhost::openai {
namespace {

// The one writer of a usage object. Embeddings generate nothing, so OpenAI's embeddings usage
// has no completion_tokens, and neither has ours.
void usage_members(json::Writer &w, const Usage &u, bool with_completion = true) {
  w.begin_object().member("prompt_tokens", u.prompt_tokens);
  if (with_completion) w.member("completion_tokens", u.completion_tokens);
  w.member("total_tokens", u.total_tokens).end_object();
}

// Usage the host counted because the provider reported none says so, beside the usage object
// (whose members stay OpenAI's own): docs/tokens.md.
void mark_estimated(json::Writer &w, const Usage &u) {
  if (u.estimated) w.member("x_llmhost_usage", "estimated");
}

// Appends base64 of `values` as little-endian float32 bytes, whatever this machine's byte order.
void append_base64_f32le(std::string &out, const std::vector<float> &values) {
  std::string bytes(values.size() * 4, '\0');
  for (size_t k = 0; k < values.size(); ++k) {
    uint32_t bits;
    std::memcpy(&bits, &values[k], 4);
    for (int b = 0; b < 4; ++b) bytes[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  json::append_base64(out, bytes);
}

// What passes through from the upstream at the three objects we write: the top level, the first
// choice, and its message (or delta). From a plugin's upstream_members (ABI 1.3) as they are;
// from an older plugin that hands over only raw_json, picked out of that, which costs the one
// parse of the upstream's answer left on the host. A raw_json that is not a JSON object adds
// nothing: it is an optional courtesy of the plugin.
class Upstream {
 public:
  template <class Text>
  Upstream(const UpstreamMembers<Text> &given, std::string_view raw, bool chunk) {
    if (given.handed_over) {
      top_ = given.top, choice_ = given.choice, message_ = given.message;
      return;
    }
    if (raw.empty() || !json::is_object(raw)) return;
    const llmh::UpstreamTexts picked = llmh::openai_upstream_members(own_, raw, chunk);
    top_ = picked.top, choice_ = picked.choice, message_ = picked.message;
  }

  // Each appends the unmodelled members of its object to the object `w` has open.
  void top(json::Writer &w) const { w.members_of(top_); }
  void choice(json::Writer &w) const { w.members_of(choice_); }
  void message(json::Writer &w) const { w.members_of(message_); }

 private:
  std::string own_;  // the members picked out of raw_json
  std::string_view top_, choice_, message_;
};

}  // namespace

std::string new_id(std::string_view prefix) {
  // A random per-process base plus a counter: unique without a syscall per id.
  static const uint64_t base = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  const uint64_t n = base + counter.fetch_add(1, std::memory_order_relaxed);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  id += '-';
  for (int shift = 60; shift >= 0; shift -= 4) id += kHex[(n >> shift) & 0xf];
  return id;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void write_usage(std::string &out, const Usage &u) {
  json::Writer w(out);
  usage_members(w, u);
}

void write_completion(std::string &out, const Response &r) {
  // One allocation for the whole answer rather than one per doubling: the fixed text is under
  // 400 bytes, the upstream's own fields are at most its whole JSON.
  size_t size = 400 + r.id.size() + r.model.size() + r.content.size() + r.reasoning.size() + r.raw_json.size();
  for (const ToolCall &t : r.tool_calls) size += 64 + t.id.size() + t.name.size() + t.arguments.size();
  out.reserve(out.size() + size);
  const Upstream upstream(r.upstream_members, r.raw_json, false);
  json::Writer w(out);
  w.begin_object()
      .member("id", r.id)
      .member("object", "chat.completion")
      .member("created", r.created)
      .member("model", r.model);
  w.key("choices").begin_array().begin_object().member("index", 0);
  w.key("message").begin_object().member("role", "assistant");
  if (r.content.empty() && !r.tool_calls.empty())
    w.key("content").null();
  else
    w.member("content", r.content);
  if (!r.reasoning.empty()) w.member("reasoning_content", r.reasoning);
  if (!r.tool_calls.empty()) {
    w.key("tool_calls").begin_array();
    for (const ToolCall &t : r.tool_calls) {
      w.begin_object().member("id", t.id).member("type", t.type);
      w.key("function").begin_object().member("name", t.name).member("arguments", t.arguments).end_object();
      w.end_object();
    }
    w.end_array();
  }
  upstream.message(w);
  w.end_object();  // message
  w.member("finish_reason", r.finish_reason);
  upstream.choice(w);
  w.end_object().end_array();
  w.key("usage");
  usage_members(w, r.usage);
  mark_estimated(w, r.usage);
  upstream.top(w);
  w.end_object();
}

StreamMeta::StreamMeta(std::string_view id, int64_t created, std::string_view model, std::string_view object) {
  json::Writer w(prefix_);
  w.begin_object().member("id", id).member("object", object).member("created", created).member("model", model);
  w.key("choices").begin_array();
}

void write_chunk(std::string &out, const StreamMeta &meta, const Chunk &c, bool first) {
  const Upstream upstream(c.upstream_members, c.raw_json, true);
  out += meta.prefix();
  json::Writer w(out);  // inside the choices array the prefix opened
  // A usage-only chunk has an empty choices array, as OpenAI sends with include_usage.
  const bool usage_only =
      c.usage && c.content.empty() && c.reasoning.empty() && c.tool_calls.empty() && c.finish_reason.empty() && !first;
  if (!usage_only) {
    w.begin_object().member("index", 0);
    w.key("delta").begin_object();
    if (first) w.member("role", "assistant");
    if (!c.content.empty() || first) w.member("content", c.content);
    if (!c.reasoning.empty()) w.member("reasoning_content", c.reasoning);
    if (!c.tool_calls.empty()) {
      w.key("tool_calls").begin_array();
      for (const ToolCallDelta &d : c.tool_calls) {
        w.begin_object().member("index", d.index);
        if (!d.id.empty()) w.member("id", d.id).member("type", "function");
        w.key("function").begin_object();
        if (!d.name.empty()) w.member("name", d.name);
        w.member("arguments", d.arguments).end_object();
        w.end_object();
      }
      w.end_array();
    }
    upstream.message(w);
    w.end_object();  // delta
    w.key("finish_reason");
    if (c.finish_reason.empty())
      w.null();
    else
      w.value(c.finish_reason);
    upstream.choice(w);
    w.end_object();
  }
  w.end_array();
  if (c.usage) {
    w.key("usage");
    usage_members(w, *c.usage);
    mark_estimated(w, *c.usage);
  }
  upstream.top(w);
  w.end_object();
}

namespace {
// One choice of a text completion, whole or streamed; `finish_reason` empty writes null.
void text_choice(json::Writer &w, size_t index, std::string_view text, std::string_view finish_reason) {
  w.begin_object().member("text", text).member("index", static_cast<int64_t>(index));
  w.key("logprobs").null().key("finish_reason");
  if (finish_reason.empty())
    w.null();
  else
    w.value(finish_reason);
  w.end_object();
}
}  // namespace

void write_text_completion(std::string &out, const TextCompletion &r) {
  json::Writer w(out);
  w.begin_object()
      .member("id", r.id)
      .member("object", "text_completion")
      .member("created", r.created)
      .member("model", r.model);
  w.key("choices").begin_array();
  for (size_t i = 0; i < r.choices.size(); ++i) text_choice(w, i, r.choices[i].text, r.choices[i].finish_reason);
  w.end_array().key("usage");
  usage_members(w, r.usage);
  mark_estimated(w, r.usage);
  w.end_object();
}

void write_text_chunk(std::string &out, const StreamMeta &meta, size_t index, const Chunk &c) {
  out += meta.prefix();
  json::Writer w(out);  // inside the choices array the prefix opened
  if (!c.usage || !c.content.empty() || !c.finish_reason.empty()) text_choice(w, index, c.content, c.finish_reason);
  w.end_array();
  if (c.usage) {
    w.key("usage");
    usage_members(w, *c.usage);
    mark_estimated(w, *c.usage);
  }
  w.end_object();
}

void write_rerank(std::string &out, const RerankResponse &r, const std::vector<std::string> *documents) {
  json::Writer w(out);
  w.begin_object().member("id", r.id).member("model", r.model);
  w.key("results").begin_array();
  for (const RerankResult &x : r.results) {
    w.begin_object().member("index", static_cast<int64_t>(x.index)).member("relevance_score", x.relevance_score);
    if (documents) w.key("document").begin_object().member("text", documents->at(x.index)).end_object();
    w.end_object();
  }
  w.end_array();
  w.key("meta").begin_object();
  w.key("billed_units").begin_object().member("search_units", 1).end_object();
  w.key("tokens").begin_object().member("input_tokens", r.usage.prompt_tokens).member("output_tokens", 0).end_object();
  w.end_object();
  w.key("usage");
  usage_members(w, r.usage, /*with_completion=*/false);
  w.end_object();
}

void write_images(std::string &out, const ImageResponse &r) {
  size_t size = 64;
  for (const Image &i : r.data) size += 64 + i.url.size() + i.b64_json.size() + i.revised_prompt.size();
  out.reserve(out.size() + size);
  json::Writer w(out);
  w.begin_object().member("created", r.created);
  w.key("data").begin_array();
  for (const Image &i : r.data) {
    w.begin_object();
    if (!i.b64_json.empty())
      w.member("b64_json", i.b64_json);
    else
      w.member("url", i.url);
    if (!i.revised_prompt.empty()) w.member("revised_prompt", i.revised_prompt);
    w.end_object();
  }
  w.end_array();
  if (r.usage.total_tokens || r.usage.prompt_tokens) {
    w.key("usage");
    usage_members(w, r.usage);
  }
  w.end_object();
}

void write_embeddings(std::string &out, const EmbeddingResponse &r, EmbeddingEncoding encoding) {
  json::Writer w(out);
  w.begin_object().member("object", "list");
  w.key("data").begin_array();
  std::string base64;
  for (size_t i = 0; i < r.data.size(); ++i) {
    w.begin_object().member("object", "embedding").member("index", static_cast<int64_t>(i));
    if (encoding == EmbeddingEncoding::kBase64) {
      base64.clear();
      append_base64_f32le(base64, r.data[i]);
      w.member("embedding", base64);
    } else {
      w.key("embedding").begin_array();
      for (float f : r.data[i]) w.value(f);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.member("model", r.model);
  w.key("usage");
  usage_members(w, r.usage, /*with_completion=*/false);
  w.end_object();
}

}  // namespace llmhost::openai
