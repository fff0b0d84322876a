// The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server,
// Ollama, LM Studio, ...) through the host HTTP service. `openai/MODEL` sends MODEL upstream.
// Built a second time as `azure` (flavour.hpp): `azure/DEPLOYMENT` calls that deployment.
#include <simdjson.h>

#include <llmhost/http.h>
#include <llmhost/provider.hpp>

#include <cstddef>
#include <cstring>
#include <memory>

#include "body.hpp"
#include "common/pool.hpp"
#include "common/relay_calls.hpp"
#include "common/sse.hpp"
#include "flavour.hpp"
#include "parse.hpp"
#include "settings.hpp"
#include "stream_chunk.hpp"

namespace openai_plugin {
namespace {

using llmh::HttpClient;
using llmh::HttpHooks;
using llmh::HttpResponse;
using llmh_plugins::SseEvent;
using llmh_plugins::SseParser;

// A call's JSON parser (request body, then the answer or each stream chunk): pooled, since a
// parser is not thread-safe, calls are concurrent and a new one per call costs allocations.
struct Parser {
  simdjson::dom::parser dom;
  std::string members;  // the upstream members an answer or chunk passes through
  std::size_t retained_bytes() const noexcept { return dom.capacity() + members.capacity(); }
};
using ParserPool = llmh_plugins::Pool<Parser>;

class OpenAI final : public llmh_plugins::RelayProvider<OpenAI> {
 public:
  OpenAI(const llmh_host_api *host, std::string_view config_json)
      : RelayProvider(host, config_json), settings_(config_json), http_(*this, OPENAI_PLUGIN_NAME) {}

  void embed(const llmh::Request &req, llmh::Embeddings &out) override {
    const Target target = settings_.target(req, "/embeddings");
    Calls::post(
        *this, target, [&] { return body(req, BodyKind::kEmbeddings); }, out,
        [&](const HttpResponse &reply) {
          const ParserPool::Lease lease = parsers_.take();
          if (!reply.ok())
            throw openai_plugin::upstream_error(lease->dom, reply.status(), reply.body(), target.shown_url);
          parse_embeddings(lease->dom, reply.body(), out, req.inputs().size(), target.shown_url);
        });
  }

  // Text completions (llmhost/text_completion.h): POST /completions, whose body the host has
  // already given the one prompt; its answer a text_completion.
  void complete_text(const llmh::Request &req, llmh::Response &out) override {
    const Target target = settings_.target(req, "/completions");
    Calls::post(
        *this, target, [&] { return body(req, BodyKind::kChat); }, out,
        [&](const HttpResponse &reply) { answer(target, reply, out, Shape::kText); });
  }
  void stream_text(const llmh::Request &req, llmh::Stream &out) override {
    Calls::stream_with<Reader<Shape::kText>>(
        *this, settings_.target(req, "/completions"), [&] { return body(req, BodyKind::kChatStream); }, out);
  }

  // Images: POST /images/generations with the caller's JSON body; an edit POSTs the images as
  // multipart/form-data to /images/edits, as OpenAI takes it.
  void generate_images(const llmh::ImageRequest &req, llmh::Images &out) override {
    const Target target = settings_.target(req.common(), "/images/generations");
    Calls::post(
        *this, target, [&] { return body(req.common(), BodyKind::kChat); }, out,
        [&](const HttpResponse &reply) { images(target, reply, out); });
  }
  void edit_images(const llmh::ImageRequest &req, llmh::Images &out) override {
    static constexpr std::string_view kBoundary = "llmhost-form-7f3a9c51e2d84b06";
    Target target = settings_.target(req.common(), "/images/edits");
    for (auto &[name, value] : target.headers)
      if (name == "Content-Type") value = "multipart/form-data; boundary=" + std::string(kBoundary);
    Calls::post(
        *this, target,
        [&] {
          const ParserPool::Lease lease = parsers_.take();
          return image_edit_form(lease->dom, req, kBoundary);
        },
        out, [&](const HttpResponse &reply) { images(target, reply, out); });
  }

 private:
  using Calls = llmh_plugins::RelayCalls<OpenAI>;

  void images(const Target &target, const HttpResponse &reply, const llmh::Images &out) {
    const ParserPool::Lease lease = parsers_.take();
    if (!reply.ok()) throw openai_plugin::upstream_error(lease->dom, reply.status(), reply.body(), target.shown_url);
    parse_images(lease->dom, reply.body(), out, target.shown_url);
  }
  friend llmh_plugins::RelayCalls<OpenAI>;
  friend llmh_plugins::RelayProvider<OpenAI>;

  // What RelayCalls asks of a relay provider (common/relay_calls.hpp).
  const HttpClient &http() const { return http_; }
  Target chat_target(const llmh::Request &req, bool) const { return settings_.target(req, "/chat/completions"); }
  // A parser is borrowed only for the rewrite: an asynchronous call must not hold one while it
  // waits.
  std::string chat_body(const llmh::Request &req, bool stream) {
    return body(req, stream ? BodyKind::kChatStream : BodyKind::kChat);
  }
  std::string body(const llmh::Request &req, BodyKind kind) {
    const ParserPool::Lease lease = parsers_.take();
    return rewrite_body(lease->dom, req, kind);
  }
  void answer(const Target &target, const HttpResponse &reply, const llmh::Response &out, Shape shape = Shape::kChat) {
    if (!reply.ok()) throw upstream_error(target, reply);
    const ParserPool::Lease lease = parsers_.take();
    parse_completion(lease->dom, lease->members, reply.body(), out, target.shown_url, shape);
  }
  llmh::Error upstream_error(const Target &target, const HttpResponse &reply) {
    const ParserPool::Lease lease = parsers_.take();
    return openai_plugin::upstream_error(lease->dom, reply.status(), reply.body(), target.shown_url);
  }

  // One stream's chunks: each event's data is a chat.completion.chunk (or a text_completion)
  // until [DONE]. A parser is borrowed per event, so that a stream holds none while it waits.
  template <Shape kShape>
  class Reader {
   public:
    Reader(OpenAI &self, llmh::Stream &out, const Target &target)
        : parsers_(self.parsers_),
          out_(out),
          url_(target.shown_url),
          sse_([this](const SseEvent &e) { return event(e); }) {}
    bool line(std::string_view text) { return sse_.feed_line(text); }
    void finish() {
      sse_.finish();
      if (events_ == 0)
        throw llmh::Error(502, OPENAI_PLUGIN_NAME ": stream from " + url_ + " contained no server-sent events");
    }

   private:
    bool event(const SseEvent &e) {
      if (done_) return true;  // after [DONE] the rest of the body is ignored
      ++events_;
      if (e.data == "[DONE]") return done_ = true, true;
      const ParserPool::Lease lease = parsers_.take();
      return emit_chunk(lease->dom, lease->members, e.data, out_, url_, kShape);
    }

    ParserPool &parsers_;
    llmh::Stream &out_;
    const std::string url_;
    SseParser sse_;
    size_t events_ = 0;
    bool done_ = false;
  };
  using StreamReader = Reader<Shape::kChat>;

  const Settings settings_;
  const HttpClient http_;
  ParserPool parsers_;
};

}  // namespace
}  // namespace openai_plugin

#if OPENAI_PLUGIN_AZURE
LLMH_PROVIDER(openai_plugin::OpenAI, "azure", "0.1.0", "Azure OpenAI deployments over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED | LLMH_CAP_BODY_MEMBERS)
#else
LLMH_PROVIDER(openai_plugin::OpenAI, "openai", "0.1.0", "any OpenAI-compatible endpoint over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED | LLMH_CAP_BODY_MEMBERS)
#endif
