// The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server,
// Ollama, LM Studio, ...) through the host HTTP service. `openai/MODEL` sends MODEL upstream.
#include <simdjson.h>

#include <llmhost/http.h>
#include <llmhost/provider.hpp>

#include "body.hpp"
#include "common/pool.hpp"
#include "http_client.hpp"
#include "parse.hpp"
#include "settings.hpp"
#include "sse.hpp"
#include "stream_chunk.hpp"

namespace openai_plugin {
namespace {

const llmh_http_api *require_http(const llmh::Provider &self) {
  const auto *api = static_cast<const llmh_http_api *>(self.host_extension(LLMH_HTTP_EXTENSION_ID));
  if (!api || api->struct_size < sizeof(llmh_http_api))
    throw llmh::Error(500, "openai: this host offers no HTTP service (" LLMH_HTTP_EXTENSION_ID ")");
  return api;
}

// Runs `fn`; an error it throws leaves without the target's secrets in its message.
template <class Fn>
void without_secrets(const Target &target, Fn &&fn) {
  try {
    fn();
  } catch (const llmh::Error &e) {
    throw llmh::Error(e.status(), redact(e.what(), target));
  }
}

// A call's JSON parser (request body, then the answer or each stream chunk): pooled, since a
// parser is not thread-safe, calls are concurrent and a new one per call costs allocations.
struct Parser {
  simdjson::dom::parser dom;
  std::size_t retained_bytes() const noexcept { return dom.capacity(); }
};
using ParserPool = llmh_plugins::Pool<Parser>;

class OpenAI final : public llmh::Provider {
 public:
  OpenAI(const llmh_host_api *host, std::string_view config_json)
      : Provider(host, config_json), settings_(config_json), http_(require_http(*this)) {}

  void complete(const llmh::Request &req, llmh::Response &out) override {
    const Target target = settings_.target(req, "/chat/completions");
    without_secrets(target, [&] { complete_to(target, req, out); });
  }
  void stream(const llmh::Request &req, llmh::Stream &out) override {
    const Target target = settings_.target(req, "/chat/completions");
    without_secrets(target, [&] { stream_to(target, req, out); });
  }
  void embed(const llmh::Request &req, llmh::Embeddings &out) override {
    const Target target = settings_.target(req, "/embeddings");
    without_secrets(target, [&] { embed_to(target, req, out); });
  }

 private:
  void complete_to(const Target &target, const llmh::Request &req, llmh::Response &out) {
    const ParserPool::Lease lease = parsers_.take();
    simdjson::dom::parser &parser = lease->dom;
    const std::string body = rewrite_body(parser, req.body_json(), req.model(), BodyKind::kChat);
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    const HttpReply reply = http_.post(target, body, hooks);
    if (!reply.ok()) throw upstream_error(parser, reply.status(), reply.body(), target.shown_url);
    parse_completion(parser, reply.body(), out, target.shown_url);
  }

  void stream_to(const Target &target, const llmh::Request &req, llmh::Stream &out) {
    const ParserPool::Lease lease = parsers_.take();
    simdjson::dom::parser &parser = lease->dom;
    const std::string body = rewrite_body(parser, req.body_json(), req.model(), BodyKind::kChatStream);
    bool done = false;      // [DONE] seen: the rest of the body is ignored
    bool consumer_gone = false;
    size_t events = 0;
    SseParser sse([&](const SseEvent &event) {
      if (done) return true;
      ++events;
      if (event.data == "[DONE]") return done = true, true;
      if (!emit_chunk(parser, event.data, out, target.shown_url)) return consumer_gone = true, false;
      return true;
    });
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    hooks.on_line = [&](std::string_view line) { return sse.feed_line(line); };
    try {
      const HttpReply reply = http_.post(target, body, hooks);
      if (!reply.ok()) throw upstream_error(parser, reply.status(), reply.body(), target.shown_url);
    } catch (const llmh::Error &) {
      // The consumer stopping aborts the transfer: not an error for it. A cancel from outside
      // is one (the HTTP service's 499), so that the caller learns the stream did not finish.
      if (consumer_gone) return;
      throw;
    }
    sse.finish();
    if (consumer_gone) return;
    if (out.cancelled()) throw llmh::Error(499, "openai: the stream was cancelled");
    if (events == 0)
      throw llmh::Error(502, "openai: stream from " + target.shown_url + " contained no server-sent events");
  }

  void embed_to(const Target &target, const llmh::Request &req, llmh::Embeddings &out) {
    const ParserPool::Lease lease = parsers_.take();
    simdjson::dom::parser &parser = lease->dom;
    const std::string body = rewrite_body(parser, req.body_json(), req.model(), BodyKind::kEmbeddings);
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    const HttpReply reply = http_.post(target, body, hooks);
    if (!reply.ok()) throw upstream_error(parser, reply.status(), reply.body(), target.shown_url);
    parse_embeddings(parser, reply.body(), out, req.inputs().size(), target.shown_url);
  }

  const Settings settings_;
  const HttpClient http_;
  ParserPool parsers_;
};

}  // namespace
}  // namespace openai_plugin

LLMH_PROVIDER(openai_plugin::OpenAI, "openai", "0.1.0", "any OpenAI-compatible endpoint over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED)
