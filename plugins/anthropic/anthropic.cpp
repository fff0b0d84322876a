// The `anthropic` provider: Anthropic's Messages API through the host HTTP service.
// `anthropic/MODEL` calls MODEL. OpenAI's chat shape in and out (messages_body, messages_answer,
// message_events); chat completions, one-shot and streamed. docs/providers/anthropic.md.
#include <simdjson.h>

#include <llmhost/provider.hpp>

#include <cstddef>
#include <string>

#include "common/http_client.hpp"
#include "common/pool.hpp"
#include "common/sse.hpp"
#include "message_events.hpp"
#include "messages_answer.hpp"
#include "messages_body.hpp"
#include "settings.hpp"

namespace anthropic_plugin {
namespace {

using llmh_plugins::CallHooks;
using llmh_plugins::HttpClient;
using llmh_plugins::HttpReply;

struct Parser {
  simdjson::dom::parser dom;
  std::size_t retained_bytes() const noexcept { return dom.capacity(); }
};
using ParserPool = llmh_plugins::Pool<Parser>;

// Runs `fn`; an error it throws leaves without the target's secrets in its message.
template <class Fn>
void without_secrets(const Target &target, Fn &&fn) {
  try {
    fn();
  } catch (const llmh::Error &e) {
    throw llmh::Error(e.status(), llmh_plugins::redact(e.what(), target));
  }
}

class Anthropic final : public llmh::Provider {
 public:
  Anthropic(const llmh_host_api *host, std::string_view config_json)
      : Provider(host, config_json), settings_(config_json), http_(HttpClient::of(*this, "anthropic"), "anthropic") {}

  void complete(const llmh::Request &req, llmh::Response &out) override {
    const Target target = settings_.target(req);
    without_secrets(target, [&] {
      CallHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      const HttpReply reply = http_.post(target, body(req, false), hooks);
      const ParserPool::Lease parser = parsers_.take();
      if (!reply.ok()) throw upstream_error(parser->dom, reply.status(), reply.body(), target.shown_url);
      parse_message(parser->dom, reply.body(), out, target.shown_url);
    });
  }

  void stream(const llmh::Request &req, llmh::Stream &out) override {
    const Target target = settings_.target(req);
    without_secrets(target, [&] { stream_to(target, req, out); });
  }

 private:
  std::string body(const llmh::Request &req, bool stream) {
    const ParserPool::Lease parser = parsers_.take();
    return messages_body(parser->dom, req.body_json(), req.model(), stream);
  }

  void stream_to(const Target &target, const llmh::Request &req, llmh::Stream &out) {
    MessageEvents events(out, target.shown_url);
    bool consumer_gone = false;
    llmh_plugins::SseParser sse([&](const llmh_plugins::SseEvent &e) {
      const ParserPool::Lease parser = parsers_.take();
      if (!events.event(parser->dom, e.data)) return consumer_gone = true, false;
      return true;
    });
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    hooks.on_line = [&](std::string_view line) { return sse.feed_line(line); };
    try {
      const HttpReply reply = http_.post(target, body(req, true), hooks);
      if (!reply.ok()) {
        const ParserPool::Lease parser = parsers_.take();
        throw upstream_error(parser->dom, reply.status(), reply.body(), target.shown_url);
      }
    } catch (const llmh::Error &) {
      if (consumer_gone) return;  // the consumer stopping aborts the transfer: not an error
      throw;
    }
    sse.finish();
    if (consumer_gone) return;
    if (out.cancelled()) throw llmh::Error(499, "anthropic: the stream was cancelled");
    events.finish();
  }

  const Settings settings_;
  const HttpClient http_;
  ParserPool parsers_;
};

}  // namespace
}  // namespace anthropic_plugin

LLMH_PROVIDER(anthropic_plugin::Anthropic, "anthropic", "0.1.0", "Anthropic's Messages API over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM)
