// Chat completions and streams of a relay provider (one POST upstream per call: openai, azure,
// anthropic, gemini), in both call forms: the blocking ones (complete, stream) and the
// asynchronous ones (llmh::AsyncCompletion, llmh::AsyncStream), where the host HTTP service's
// event loop carries the call and no thread waits for the upstream. What differs between vendors is the provider's. P
// supplies:
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

#include <exception>
#include <memory>
#include <string>
#include <utility>

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

  // Ends a call once its state is gone: the build may be unloaded right after the finish. With
  // `failed`, it ends with the exception being handled: call it inside a catch block then.
  template <class State>
  static void end(std::unique_ptr<State> state, bool failed) noexcept {
    auto call = std::move(state->call);
    state.reset();
    failed ? call.fail_current() : call.finish();
  }

  // Hands `state` (the call and its target) to the HTTP service until its `done`, which may run
  // on the event loop before post_async returns: nothing may touch the state after the hand-off.
  template <class State>
  static void hand_to_http(P &self, std::unique_ptr<State> state, const std::string &body, llmh_http_line_fn on_line,
                           llmh_http_done_fn done) {
    State *raw = state.release();
    try {
      self.http().post_async(raw->target, body, &cancelled<State>, on_line, raw, done);
    } catch (...) {  // the request could not even be laid out: the service never saw it
      end(std::unique_ptr<State>(raw), true);
    }
  }

  template <class State>
  static int cancelled(void *user) noexcept {
    return static_cast<State *>(user)->call.cancelled() ? 1 : 0;
  }

  // One completion, from complete_async until the HTTP service answers (on its event loop).
  struct AsyncCompletion {
    P *self;
    llmh::AsyncCompletion call;
    HttpTarget target;
  };

  static void answered(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncCompletion> state(static_cast<AsyncCompletion *>(user));
    try {
      const HttpReply reply(state->self->http().api(), response);
      without_secrets(state->target, [&] {
        if (err) throw state->self->http().transport_error(*err);
        state->self->answer(state->target, reply, state->call.response());
      });
    } catch (...) {
      return end(std::move(state), true);
    }
    end(std::move(state), false);
  }

  // One stream, from stream_async until the HTTP service's `done`. Its lines and its end run on
  // the host's HTTP event loop, one at a time. Never moved once made: `streaming` writes to
  // call.stream().
  struct AsyncStream {
    AsyncStream(P *s, llmh::AsyncStream c, HttpTarget t)
        : self(s), call(std::move(c)), target(std::move(t)), streaming(*s, call.stream(), target) {}
    P *self;
    llmh::AsyncStream call;
    HttpTarget target;
    Streaming streaming;
    std::exception_ptr error;  // thrown while reading a line; the stream ends with it
  };

  static int stream_line(void *user, llmh_str line) noexcept {
    auto *state = static_cast<AsyncStream *>(user);
    try {
      return state->streaming.line(llmh::sv(line)) ? 0 : 1;
    } catch (...) {
      state->error = std::current_exception();
      return 1;
    }
  }

  static void streamed(void *user, llmh_http_response *response, const llmh_error *err) noexcept {
    std::unique_ptr<AsyncStream> state(static_cast<AsyncStream *>(user));
    try {
      const HttpReply reply(state->self->http().api(), response);
      without_secrets(state->target, [&] {
        if (state->error) std::rethrow_exception(state->error);
        if (err) {
          if (state->streaming.consumer_gone) return;  // as in stream()
          throw state->self->http().transport_error(*err);
        }
        if (!reply.ok()) throw state->self->upstream_error(state->target, reply);
        state->streaming.finish();
      });
    } catch (...) {
      return end(std::move(state), true);
    }
    end(std::move(state), false);
  }

 public:
  // The asynchronous forms: the request goes to the HTTP service's perform_async, and the call
  // ends from its callbacks, on its event loop. An error before the hand-off propagates: the
  // SDK's glue, still holding the call, ends it with that error.
  static void complete_async(P &p, llmh::AsyncCompletion &&call) {
    HttpTarget target = p.chat_target(call.request(), false);
    std::string body;
    without_secrets(target, [&] { body = p.chat_body(call.request(), false); });
    hand_to_http(p, std::make_unique<AsyncCompletion>(AsyncCompletion{&p, std::move(call), std::move(target)}), body,
                 nullptr, &answered);
  }

  static void stream_async(P &p, llmh::AsyncStream &&call) {
    HttpTarget target = p.chat_target(call.request(), true);
    std::string body;
    without_secrets(target, [&] { body = p.chat_body(call.request(), true); });
    hand_to_http(p, std::make_unique<AsyncStream>(&p, std::move(call), std::move(target)), body, &stream_line,
                 &streamed);
  }
};

// The provider half every relay provider shares: complete and stream through RelayCalls, and
// the asynchronous forms, offered when the host's HTTP service can run requests without a
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
  void complete_async(llmh::AsyncCompletion &&call) override {
    RelayCalls<P>::complete_async(static_cast<P &>(*this), std::move(call));
  }
  void stream_async(llmh::AsyncStream &&call) override {
    RelayCalls<P>::stream_async(static_cast<P &>(*this), std::move(call));
  }
  bool offers_async() const noexcept override { return static_cast<const P &>(*this).http().has_async(); }
};

}  // namespace llmh_plugins
