// The `gemini` provider: Google's Gemini API (generateContent, streamGenerateContent,
// batchEmbedContents) through the host HTTP service. `gemini/MODEL` calls MODEL. OpenAI's chat
// and embeddings shapes in and out (generate_body, generate_answer); chat completions in both
// call forms (common/relay_calls.hpp). docs/providers/gemini.md.
#include <simdjson.h>

#include <llmhost/provider.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <llmhost/http.hpp>
#include "common/json_fields.hpp"
#include "common/pool.hpp"
#include "common/relay_calls.hpp"
#include "common/sse.hpp"
#include "generate_answer.hpp"
#include "generate_body.hpp"
#include "settings.hpp"

namespace gemini_plugin {
namespace {

using llmh::HttpClient;
using llmh::HttpHooks;
using llmh::HttpResponse;

using ParserPool = llmh_plugins::Pool<llmh_plugins::JsonParser>;

class Gemini final : public llmh_plugins::RelayProvider<Gemini> {
 public:
  Gemini(const llmh_host_api *host, std::string_view config_json)
      : RelayProvider(host, config_json), settings_(config_json), http_(*this, "gemini") {}

  void embed(const llmh::Request &req, llmh::Embeddings &out) override {
    const Target target = settings_.target(req, "batchEmbedContents");
    llmh_plugins::without_secrets(target, [&] {
      const ParserPool::Lease parser = parsers_.take();
      std::vector<std::string_view> inputs;
      for (std::string_view input : req.inputs()) inputs.push_back(input);
      HttpHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      const HttpResponse reply =
          http_.perform(target, embed_body(parser->dom, req.body_json(), req.model(), inputs), hooks);
      if (!reply.ok()) throw gemini_plugin::upstream_error(parser->dom, reply.status(), reply.body(), target.shown_url);
      parse_embeddings(parser->dom, reply.body(), out, inputs.size(), target.shown_url);
    });
  }

 private:
  friend llmh_plugins::RelayCalls<Gemini>;
  friend llmh_plugins::RelayProvider<Gemini>;

  // What RelayCalls asks of a relay provider (common/relay_calls.hpp).
  const HttpClient &http() const { return http_; }
  Target chat_target(const llmh::Request &req, bool stream) const {
    return settings_.target(req, stream ? "streamGenerateContent?alt=sse" : "generateContent");
  }
  std::string chat_body(const llmh::Request &req, bool) {
    const ParserPool::Lease parser = parsers_.take();
    return generate_body(parser->dom, req.body_json());
  }
  void answer(const Target &target, const HttpResponse &reply, const llmh::Response &out) {
    if (!reply.ok()) throw upstream_error(target, reply);
    const ParserPool::Lease parser = parsers_.take();
    parse_response(parser->dom, reply.body(), out, target.shown_url);
  }
  llmh::Error upstream_error(const Target &target, const HttpResponse &reply) {
    const ParserPool::Lease parser = parsers_.take();
    return gemini_plugin::upstream_error(parser->dom, reply.status(), reply.body(), target.shown_url);
  }

  // Each event of the stream is a GenerateContentResponse; a parser is borrowed per event.
  class StreamReader {
   public:
    StreamReader(Gemini &self, llmh::Stream &out, const Target &target)
        : parsers_(self.parsers_), out_(out), url_(target.shown_url), sse_([this](const llmh_plugins::SseEvent &e) {
            ++events_;
            const ParserPool::Lease parser = parsers_.take();
            return emit_event(parser->dom, e.data, out_, tools_, url_);
          }) {}
    bool line(std::string_view text) { return sse_.feed_line(text); }
    void finish() {
      sse_.finish();
      if (events_ == 0) throw llmh::Error(502, "gemini: stream from " + url_ + " contained no server-sent events");
    }

   private:
    ParserPool &parsers_;
    llmh::Stream &out_;
    const std::string url_;
    uint32_t tools_ = 0;
    size_t events_ = 0;
    llmh_plugins::SseParser sse_;
  };

  const Settings settings_;
  const HttpClient http_;
  ParserPool parsers_;
};

}  // namespace
}  // namespace gemini_plugin

LLMH_PROVIDER(gemini_plugin::Gemini, "gemini", "0.1.0", "Google's Gemini API over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED)
