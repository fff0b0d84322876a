// The `anthropic` provider: Anthropic's Messages API through the host HTTP service.
// `anthropic/MODEL` calls MODEL. OpenAI's chat shape in and out (messages_body, messages_answer,
// message_events); chat completions, one-shot and streamed, in both call forms
// (common/relay_calls.hpp). docs/providers/anthropic.md.
#include <simdjson.h>

#include <llmhost/provider.hpp>

#include <cstddef>
#include <cstring>
#include <string>

#include <llmhost/http.hpp>
#include "common/json_fields.hpp"
#include "common/pool.hpp"
#include "common/relay_calls.hpp"
#include "common/sse.hpp"
#include "message_events.hpp"
#include "messages_answer.hpp"
#include "messages_body.hpp"
#include "settings.hpp"

namespace anthropic_plugin {
namespace {

using llmh::HttpClient;
using llmh::HttpResponse;

using ParserPool = llmh_plugins::Pool<llmh_plugins::JsonParser>;

class Anthropic final : public llmh_plugins::RelayProvider<Anthropic> {
 public:
  Anthropic(const llmh_host_api *host, std::string_view config_json)
      : RelayProvider(host, config_json), settings_(config_json), http_(*this, "anthropic") {}

 private:
  friend llmh_plugins::RelayCalls<Anthropic>;
  friend llmh_plugins::RelayProvider<Anthropic>;

  // What RelayCalls asks of a relay provider (common/relay_calls.hpp).
  const HttpClient &http() const { return http_; }
  Target chat_target(const llmh::Request &req, bool) const { return settings_.target(req); }
  std::string chat_body(const llmh::Request &req, bool stream) {
    const ParserPool::Lease parser = parsers_.take();
    return messages_body(parser->dom, req.body_json(), req.model(), stream);
  }
  void answer(const Target &target, const HttpResponse &reply, const llmh::Response &out) {
    if (!reply.ok()) throw upstream_error(target, reply);
    const ParserPool::Lease parser = parsers_.take();
    parse_message(parser->dom, reply.body(), out, target.shown_url);
  }
  llmh::Error upstream_error(const Target &target, const HttpResponse &reply) {
    const ParserPool::Lease parser = parsers_.take();
    return anthropic_plugin::upstream_error(parser->dom, reply.status(), reply.body(), target.shown_url);
  }

  // One stream's typed events into chunks; a parser is borrowed per event.
  class StreamReader {
   public:
    StreamReader(Anthropic &self, llmh::Stream &out, const Target &target)
        : parsers_(self.parsers_), events_(out, target.shown_url), sse_([this](const llmh_plugins::SseEvent &e) {
            const ParserPool::Lease parser = parsers_.take();
            return events_.event(parser->dom, e.data);
          }) {}
    bool line(std::string_view text) { return sse_.feed_line(text); }
    void finish() {
      sse_.finish();
      events_.finish();
    }

   private:
    ParserPool &parsers_;
    MessageEvents events_;
    llmh_plugins::SseParser sse_;
  };

  const Settings settings_;
  const HttpClient http_;
  ParserPool parsers_;
};

}  // namespace
}  // namespace anthropic_plugin

LLMH_PROVIDER(anthropic_plugin::Anthropic, "anthropic", "0.1.0", "Anthropic's Messages API over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM)
