// The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server,
// Ollama, LM Studio, ...) through the host HTTP service. `openai/MODEL` sends MODEL upstream.
// Built a second time as `azure` (flavour.hpp): `azure/DEPLOYMENT` calls that deployment.
#include <simdjson.h>

#include <llmhost/async.h>
#include <llmhost/http.h>
#include <llmhost/provider.hpp>

#include <cstddef>
#include <cstring>
#include <memory>

#include "body.hpp"
#include "common/pool.hpp"
#include "common/sse.hpp"
#include "flavour.hpp"
#include "parse.hpp"
#include "settings.hpp"
#include "stream_chunk.hpp"

namespace openai_plugin {
namespace {

using llmh_plugins::CallHooks;
using llmh_plugins::HttpClient;
using llmh_plugins::HttpReply;
using llmh_plugins::SseEvent;
using llmh_plugins::SseParser;

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
  std::string members;  // the upstream members an answer or chunk passes through
  std::size_t retained_bytes() const noexcept { return dom.capacity() + members.capacity(); }
};
using ParserPool = llmh_plugins::Pool<Parser>;

// One upstream stream into the consumer: each line of the 2xx body goes to `line`, and once
// the transfer is over `finish` says whether the stream was whole. Shared by `stream` and
// `stream_async`; used from one thread at a time. A parser is borrowed per event, so that a
// stream holds none while it waits.
class StreamReader {
 public:
  StreamReader(ParserPool &parsers, llmh::Stream &out, std::string_view url)
      : parsers_(parsers), out_(out), url_(url), sse_([this](const SseEvent &e) { return event(e); }) {}

  // False: stop the transfer (the consumer has gone). Throws for an event that is not a chunk,
  // and the upstream's error for an error event.
  bool line(std::string_view text) { return sse_.feed_line(text); }
  // The consumer stopped the stream: not an error, whatever the transfer then reports.
  bool consumer_gone() const { return consumer_gone_; }
  // After a 2xx answer: throws unless the stream was whole.
  void finish() {
    sse_.finish();
    if (consumer_gone_) return;
    if (out_.cancelled()) throw llmh::Error(499, OPENAI_PLUGIN_NAME ": the stream was cancelled");
    if (events_ == 0)
      throw llmh::Error(502,
                        OPENAI_PLUGIN_NAME ": stream from " + std::string(url_) + " contained no server-sent events");
  }

 private:
  bool event(const SseEvent &e) {
    if (done_) return true;  // after [DONE] the rest of the body is ignored
    ++events_;
    if (e.data == "[DONE]") return done_ = true, true;
    const ParserPool::Lease lease = parsers_.take();
    if (!emit_chunk(lease->dom, lease->members, e.data, out_, url_)) return consumer_gone_ = true, false;
    return true;
  }

  ParserPool &parsers_;
  llmh::Stream &out_;
  const std::string_view url_;
  SseParser sse_;
  size_t events_ = 0;
  bool done_ = false;
  bool consumer_gone_ = false;
};

class OpenAI final : public llmh::Provider {
 public:
  OpenAI(const llmh_host_api *host, std::string_view config_json)
      : Provider(host, config_json),
        settings_(config_json),
        http_(HttpClient::of(*this, OPENAI_PLUGIN_NAME), OPENAI_PLUGIN_NAME) {}

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

  // The asynchronous call form, when the host's HTTP service can run requests without a thread.
  const void *extension(const char *id) noexcept override {
    return http_.has_async() && std::strcmp(id, LLMH_ASYNC_EXTENSION_ID) == 0 ? &kAsync : nullptr;
  }

 private:
  // The chat body sent upstream. A parser is borrowed only for the rewrite: an asynchronous
  // call must not hold one while it waits.
  std::string chat_body(const llmh::Request &req, BodyKind kind) {
    const ParserPool::Lease lease = parsers_.take();
    return rewrite_body(lease->dom, req, kind);
  }
  // Throws the error a non-2xx answer stands for.
  [[noreturn]] void throw_upstream_error(const Target &target, const HttpReply &reply) {
    const ParserPool::Lease lease = parsers_.take();
    throw upstream_error(lease->dom, reply.status(), reply.body(), target.shown_url);
  }
  // The upstream's answer to a chat completion into `out`, or the error it stands for.
  void answer_completion(const Target &target, const HttpReply &reply, const llmh::Response &out) {
    if (!reply.ok()) throw_upstream_error(target, reply);
    const ParserPool::Lease lease = parsers_.take();
    parse_completion(lease->dom, lease->members, reply.body(), out, target.shown_url);
  }

  void complete_to(const Target &target, const llmh::Request &req, llmh::Response &out) {
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    answer_completion(target, http_.post(target, chat_body(req, BodyKind::kChat), hooks), out);
  }

  // One completion of the asynchronous form, from complete_async until the host's HTTP service
  // answers (on its event loop) and the call is finished.
  struct AsyncCompletion {
    OpenAI *self;
    const llmh_response_builder *out;
    const llmh_call_done *done;
    Target target;
  };

  static void complete_async(void *instance, const llmh_request *request, const llmh_response_builder *out,
                             const llmh_call_done *done) noexcept {
    auto *self = static_cast<OpenAI *>(instance);
    try {
      const llmh::Request req(request);
      auto call = std::make_unique<AsyncCompletion>(
          AsyncCompletion{self, out, done, self->settings_.target(req, "/chat/completions")});
      std::string body;
      without_secrets(call->target, [&] { body = self->chat_body(req, BodyKind::kChat); });
      // From here the call belongs to the HTTP service until `answered`, which may run on the
      // event loop before post_async returns: nothing below may touch it.
      AsyncCompletion *raw = call.release();
      try {
        self->http_.post_async(raw->target, body, &async_cancelled, nullptr, raw, &answered);
      } catch (...) {  // the request could not even be laid out: the service never saw it
        delete raw;
        throw;
      }
    } catch (...) {
      finish_failed(done);
    }
  }

  static int async_cancelled(void *user) noexcept {
    const auto *call = static_cast<const AsyncCompletion *>(user);
    return call->out->cancelled(call->out);
  }

  static void answered(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncCompletion> call(static_cast<AsyncCompletion *>(user));
    const llmh_call_done *done = call->done;
    try {
      const HttpReply reply(call->self->http_.api(), response);
      without_secrets(call->target, [&] {
        if (err) throw call->self->http_.transport_error(*err);
        call->self->answer_completion(call->target, reply, llmh::Response(call->out));
      });
    } catch (...) {
      call.reset();
      return finish_failed(done);
    }
    call.reset();
    done->finish(done, nullptr);
  }

  // Finishes a call with the exception being handled. Call only inside a catch block.
  static void finish_failed(const llmh_call_done *done) noexcept {
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh::detail::fail_current(&err);
    done->finish(done, &err);
  }

  // One stream of the asynchronous form, from stream_async until the HTTP service's `done`.
  // Its lines and its end run on the host's HTTP event loop, one at a time.
  struct AsyncStream {
    AsyncStream(OpenAI *s, const llmh_stream_sink *sink, const llmh_call_done *d, Target t)
        : self(s), out(sink), done(d), target(std::move(t)), reader(s->parsers_, out, target.shown_url) {}
    OpenAI *self;
    llmh::Stream out;
    const llmh_call_done *done;
    Target target;
    StreamReader reader;
    std::exception_ptr error;  // thrown while reading a line; the stream ends with it
  };

  static void stream_async(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                           const llmh_call_done *done) noexcept {
    auto *self = static_cast<OpenAI *>(instance);
    try {
      const llmh::Request req(request);
      auto call = std::make_unique<AsyncStream>(self, sink, done, self->settings_.target(req, "/chat/completions"));
      std::string body;
      without_secrets(call->target, [&] { body = self->chat_body(req, BodyKind::kChatStream); });
      AsyncStream *raw = call.release();  // the HTTP service's until `streamed`, as in complete_async
      try {
        self->http_.post_async(raw->target, body, &stream_cancelled, &stream_line, raw, &streamed);
      } catch (...) {
        delete raw;
        throw;
      }
    } catch (...) {
      finish_failed(done);
    }
  }

  static int stream_cancelled(void *user) noexcept { return static_cast<AsyncStream *>(user)->out.cancelled() ? 1 : 0; }

  static int stream_line(void *user, llmh_str line) noexcept {
    auto *call = static_cast<AsyncStream *>(user);
    try {
      return call->reader.line(llmh::sv(line)) ? 0 : 1;
    } catch (...) {
      call->error = std::current_exception();
      return 1;
    }
  }

  static void streamed(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncStream> call(static_cast<AsyncStream *>(user));
    const llmh_call_done *done = call->done;
    try {
      const HttpReply reply(call->self->http_.api(), response);
      without_secrets(call->target, [&] {
        if (call->error) std::rethrow_exception(call->error);
        if (err) {
          if (call->reader.consumer_gone()) return;  // as in stream_to
          throw call->self->http_.transport_error(*err);
        }
        if (!reply.ok()) call->self->throw_upstream_error(call->target, reply);
        call->reader.finish();
      });
    } catch (...) {
      call.reset();
      return finish_failed(done);
    }
    call.reset();
    done->finish(done, nullptr);
  }

  static constexpr llmh_async_provider kAsync = {sizeof(llmh_async_provider), &OpenAI::complete_async,
                                                 &OpenAI::stream_async};

  void stream_to(const Target &target, const llmh::Request &req, llmh::Stream &out) {
    StreamReader reader(parsers_, out, target.shown_url);
    CallHooks hooks;
    hooks.cancelled = [&] { return out.cancelled(); };
    hooks.on_line = [&](std::string_view line) { return reader.line(line); };
    try {
      const HttpReply reply = http_.post(target, chat_body(req, BodyKind::kChatStream), hooks);
      if (!reply.ok()) throw_upstream_error(target, reply);
    } catch (const llmh::Error &) {
      // The consumer stopping aborts the transfer: not an error for it. A cancel from outside
      // is one (the HTTP service's 499), so that the caller learns the stream did not finish.
      if (reader.consumer_gone()) return;
      throw;
    }
    reader.finish();
  }

  void embed_to(const Target &target, const llmh::Request &req, llmh::Embeddings &out) {
    const ParserPool::Lease lease = parsers_.take();
    simdjson::dom::parser &parser = lease->dom;
    const std::string body = rewrite_body(parser, req, BodyKind::kEmbeddings);
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

#if OPENAI_PLUGIN_AZURE
LLMH_PROVIDER(openai_plugin::OpenAI, "azure", "0.1.0", "Azure OpenAI deployments over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED | LLMH_CAP_BODY_MEMBERS)
#else
LLMH_PROVIDER(openai_plugin::OpenAI, "openai", "0.1.0", "any OpenAI-compatible endpoint over HTTP",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED | LLMH_CAP_BODY_MEMBERS)
#endif
