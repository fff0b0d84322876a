// Chat completions and streams of a relay provider (one POST upstream per call: openai, azure,
// anthropic), in both call forms: the blocking ones (complete, stream) and the asynchronous one
// (llmhost/async.h), where the host HTTP service's event loop carries the call and no thread
// waits for the upstream. What differs between vendors is the provider's. P supplies:
//
//   const HttpClient &http() const;
//   HttpTarget chat_target(const llmh::Request &, bool stream) const;  // throws llmh::Error
//   std::string chat_body(const llmh::Request &, bool stream);        // throws
//   // A one-shot answer of any status into `out`; throws the error a non-2xx one stands for.
//   void answer(const HttpTarget &, const HttpReply &, const llmh::Response &out);
//   // The error a non-2xx answer to a stream stands for.
//   llmh::Error upstream_error(const HttpTarget &, const HttpReply &);
//   // One stream's decoder: the lines of the 2xx body in, chunks out. line() returns false once
//   // the consumer has gone and throws for a bad event; finish() runs after a 2xx transfer the
//   // consumer saw to its end and throws unless the stream was whole.
//   class StreamReader { StreamReader(P &, llmh::Stream &, const HttpTarget &); ... };
//
// Every error leaves without the target's secrets in its message.
#pragma once

#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <llmhost/async.h>
#include <llmhost/provider.hpp>

#include "common/http_client.hpp"

namespace llmh_plugins {

// Runs `fn`; an error it throws leaves without the target's secrets in its message.
template <class Fn>
void without_secrets(const HttpTarget &target, Fn &&fn) {
  try {
    fn();
  } catch (const llmh::Error &e) {
    throw llmh::Error(e.status(), redact(e.what(), target));
  }
}

template <class P>
class RelayCalls {
 public:
  // The blocking forms, on the caller's thread.
  static void complete(P &p, const llmh::Request &req, llmh::Response &out) {
    const HttpTarget target = p.chat_target(req, false);
    without_secrets(target, [&] {
      CallHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      p.answer(target, p.http().post(target, p.chat_body(req, false), hooks), out);
    });
  }

  static void stream(P &p, const llmh::Request &req, llmh::Stream &out) {
    const HttpTarget target = p.chat_target(req, true);
    without_secrets(target, [&] {
      Streaming s(p, out, target);
      CallHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      hooks.on_line = [&](std::string_view line) { return s.line(line); };
      try {
        const HttpReply reply = p.http().post(target, p.chat_body(req, true), hooks);
        if (!reply.ok()) throw p.upstream_error(target, reply);
      } catch (const llmh::Error &) {
        // The consumer stopping aborts the transfer: not an error for it. A cancel from outside
        // is one (the HTTP service's 499), so that the caller learns the stream did not finish.
        if (s.consumer_gone) return;
        throw;
      }
      s.finish();
    });
  }

 private:
  // One stream's reader and what the generic part knows of its end.
  struct Streaming {
    Streaming(P &p, llmh::Stream &o, const HttpTarget &target) : self(p), out(o), reader(p, o, target) {}
    bool line(std::string_view text) {
      if (!reader.line(text)) consumer_gone = true;
      return !consumer_gone;
    }
    void finish() {
      if (consumer_gone) return;
      if (out.cancelled()) throw llmh::Error(499, self.http().provider() + ": the stream was cancelled");
      reader.finish();
    }
    P &self;
    llmh::Stream &out;
    typename P::StreamReader reader;
    bool consumer_gone = false;
  };

  // Finishes a call with the exception being handled. Call only inside a catch block.
  static void finish_failed(const llmh_call_done *done) noexcept {
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh::detail::fail_current(&err);
    done->finish(done, &err);
  }

  // One completion, from complete_async until the HTTP service answers (on its event loop).
  struct AsyncCompletion {
    P *self;
    const llmh_response_builder *out;
    const llmh_call_done *done;
    HttpTarget target;
  };

  static void complete_async(void *instance, const llmh_request *request, const llmh_response_builder *out,
                             const llmh_call_done *done) noexcept {
    P *self = static_cast<P *>(instance);
    try {
      const llmh::Request req(request);
      auto call = std::make_unique<AsyncCompletion>(AsyncCompletion{self, out, done, self->chat_target(req, false)});
      std::string body;
      without_secrets(call->target, [&] { body = self->chat_body(req, false); });
      // From here the call belongs to the HTTP service until `answered`, which may run on the
      // event loop before post_async returns: nothing below may touch it.
      AsyncCompletion *raw = call.release();
      try {
        self->http().post_async(raw->target, body, &completion_cancelled, nullptr, raw, &answered);
      } catch (...) {  // the request could not even be laid out: the service never saw it
        delete raw;
        throw;
      }
    } catch (...) {
      finish_failed(done);
    }
  }

  static int completion_cancelled(void *user) noexcept {
    const auto *call = static_cast<const AsyncCompletion *>(user);
    return call->out->cancelled(call->out);
  }

  static void answered(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncCompletion> call(static_cast<AsyncCompletion *>(user));
    const llmh_call_done *done = call->done;
    try {
      const HttpReply reply(call->self->http().api(), response);
      without_secrets(call->target, [&] {
        if (err) throw call->self->http().transport_error(*err);
        call->self->answer(call->target, reply, llmh::Response(call->out));
      });
    } catch (...) {
      call.reset();
      return finish_failed(done);
    }
    call.reset();
    done->finish(done, nullptr);
  }

  // One stream, from stream_async until the HTTP service's `done`. Its lines and its end run on
  // the host's HTTP event loop, one at a time.
  struct AsyncStream {
    AsyncStream(P *s, const llmh_stream_sink *sink, const llmh_call_done *d, HttpTarget t)
        : self(s), out(sink), done(d), target(std::move(t)), streaming(*s, out, target) {}
    P *self;
    llmh::Stream out;
    const llmh_call_done *done;
    HttpTarget target;
    Streaming streaming;
    std::exception_ptr error;  // thrown while reading a line; the stream ends with it
  };

  static void stream_async(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                           const llmh_call_done *done) noexcept {
    P *self = static_cast<P *>(instance);
    try {
      const llmh::Request req(request);
      auto call = std::make_unique<AsyncStream>(self, sink, done, self->chat_target(req, true));
      std::string body;
      without_secrets(call->target, [&] { body = self->chat_body(req, true); });
      AsyncStream *raw = call.release();  // the HTTP service's until `streamed`, as above
      try {
        self->http().post_async(raw->target, body, &stream_cancelled, &stream_line, raw, &streamed);
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
      return call->streaming.line(llmh::sv(line)) ? 0 : 1;
    } catch (...) {
      call->error = std::current_exception();
      return 1;
    }
  }

  static void streamed(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncStream> call(static_cast<AsyncStream *>(user));
    const llmh_call_done *done = call->done;
    try {
      const HttpReply reply(call->self->http().api(), response);
      without_secrets(call->target, [&] {
        if (call->error) std::rethrow_exception(call->error);
        if (err) {
          if (call->streaming.consumer_gone) return;  // as in stream()
          throw call->self->http().transport_error(*err);
        }
        if (!reply.ok()) throw call->self->upstream_error(call->target, reply);
        call->streaming.finish();
      });
    } catch (...) {
      call.reset();
      return finish_failed(done);
    }
    call.reset();
    done->finish(done, nullptr);
  }

 public:
  // The asynchronous form's table, for Provider::extension(LLMH_ASYNC_EXTENSION_ID) when
  // p.http().has_async(); its instance pointer is the P. (Last: it names the functions above.)
  static constexpr llmh_async_provider kAsync = {sizeof(llmh_async_provider), &complete_async, &stream_async};
};

// The provider half every relay provider shares: complete and stream through RelayCalls, and
// the asynchronous form offered when the host's HTTP service can run requests without a
// thread. P derives from RelayProvider<P> and supplies what RelayCalls asks (above).
template <class P>
class RelayProvider : public llmh::Provider {
 public:
  using llmh::Provider::Provider;
  void complete(const llmh::Request &req, llmh::Response &out) override {
    RelayCalls<P>::complete(static_cast<P &>(*this), req, out);
  }
  void stream(const llmh::Request &req, llmh::Stream &out) override {
    RelayCalls<P>::stream(static_cast<P &>(*this), req, out);
  }
  const void *extension(const char *id) noexcept override {
    return static_cast<P &>(*this).http().has_async() && std::strcmp(id, LLMH_ASYNC_EXTENSION_ID) == 0
               ? &RelayCalls<P>::kAsync
               : nullptr;
  }
};

}  // namespace llmh_plugins
