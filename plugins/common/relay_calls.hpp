// Chat completions and streams of a relay provider (one POST upstream per call: openai, azure,
// anthropic, gemini), in both call forms: the blocking ones (complete, stream) and the
// asynchronous ones (llmh::AsyncCompletion, llmh::AsyncStream), where the host HTTP service's
// event loop carries the call and no thread waits for the upstream. What differs between
// vendors is the provider's. P supplies:
//
//   const llmh::HttpClient &http() const;
//   llmh::HttpRequest chat_target(const llmh::Request &, bool stream) const;  // throws llmh::Error
//   std::string chat_body(const llmh::Request &, bool stream);               // throws
//   // A one-shot answer of any status into `out`; throws the error a non-2xx one stands for.
//   void answer(const llmh::HttpRequest &, const llmh::HttpResponse &, const llmh::Response &out);
//   // The error a non-2xx answer to a stream stands for.
//   llmh::Error upstream_error(const llmh::HttpRequest &, const llmh::HttpResponse &);
//   // One stream's decoder: the lines of the 2xx body in, chunks out. line() returns false once
//   // the consumer has gone and throws for a bad event; finish() runs after a 2xx transfer the
//   // consumer saw to its end and throws unless the stream was whole.
//   class StreamReader { StreamReader(P &, llmh::Stream &, const llmh::HttpRequest &); ... };
//
// Every error leaves without the target's secrets in its message.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <llmhost/http.hpp>
#include <llmhost/provider.hpp>

namespace llmh_plugins {

// Runs `fn`; an error it throws leaves without the target's secrets in its message.
template <class Fn>
void without_secrets(const llmh::HttpRequest &target, Fn &&fn) {
  try {
    fn();
  } catch (const llmh::Error &e) {
    throw llmh::Error(e.status(), llmh::redact_secrets(e.what(), target));
  }
}

template <class P>
class RelayCalls {
 public:
  // The blocking forms, on the caller's thread.
  static void complete(P &p, const llmh::Request &req, llmh::Response &out) {
    const llmh::HttpRequest target = p.chat_target(req, false);
    post(
        p, target, [&] { return p.chat_body(req, false); }, out,
        [&](const llmh::HttpResponse &reply) { p.answer(target, reply, out); });
  }

  static void stream(P &p, const llmh::Request &req, llmh::Stream &out) {
    stream_with<typename P::StreamReader>(
        p, p.chat_target(req, true), [&] { return p.chat_body(req, true); }, out);
  }

  // One blocking POST of `body()` to `target`, whose answer goes to `answer`; cancelled when
  // `out` (the call's builder) is. For calls beyond chat (embeddings, text completions).
  template <class Body, class Out, class Answer>
  static void post(P &p, const llmh::HttpRequest &target, Body body, const Out &out, Answer answer) {
    without_secrets(target, [&] {
      llmh::HttpHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      answer(p.http().perform(target, body(), hooks));
    });
  }

  // A blocking stream of `body()` to `target`, its lines read by a Reader (as P::StreamReader).
  template <class Reader, class Body>
  static void stream_with(P &p, const llmh::HttpRequest &target, Body body, llmh::Stream &out) {
    without_secrets(target, [&] {
      Streaming<Reader> s(p, out, target);
      llmh::HttpHooks hooks;
      hooks.cancelled = [&] { return out.cancelled(); };
      hooks.on_line = [&](std::string_view line) { return s.line(line); };
      try {
        const llmh::HttpResponse reply = p.http().perform(target, body(), hooks);
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
  template <class Reader>
  struct Streaming {
    Streaming(P &p, llmh::Stream &o, const llmh::HttpRequest &target) : self(p), out(o), reader(p, o, target) {}
    bool line(std::string_view text) {
      if (!reader.line(text)) consumer_gone = true;
      return !consumer_gone;
    }
    void finish() {
      if (consumer_gone) return;
      if (out.cancelled()) throw llmh::Error(499, self.http().name() + ": the stream was cancelled");
      reader.finish();
    }
    P &self;
    llmh::Stream &out;
    Reader reader;
    bool consumer_gone = false;
  };

  // What an asynchronous call holds while the HTTP service carries it: the provider, the call's
  // handle and its target; a transport failure ends the call without the target's secrets.
  template <class Call>
  class UpstreamCall : public llmh::HttpCall {
   public:
    UpstreamCall(P &p, Call call, llmh::HttpRequest target)
        : self_(p), call_(std::move(call)), target_(std::move(target)) {}
    bool cancelled() override { return call_.cancelled(); }
    void on_error(llmh::Error error) noexcept override {
      call_.fail(error.status(), llmh::redact_secrets(error.what(), target_));
    }
    const llmh::HttpRequest &target() const { return target_; }

   protected:
    P &self_;
    Call call_;
    const llmh::HttpRequest target_;
  };

  // One completion from complete_async until the HTTP service answers, on its event loop.
  class CompletionCall final : public UpstreamCall<llmh::AsyncCompletion> {
   public:
    using UpstreamCall<llmh::AsyncCompletion>::UpstreamCall;
    void on_response(llmh::HttpResponse reply) noexcept override {
      try {
        without_secrets(this->target_, [&] { this->self_.answer(this->target_, reply, this->call_.response()); });
      } catch (...) {
        return this->call_.fail_current();
      }
      this->call_.finish();
    }
  };

  // One stream from stream_async until the HTTP service's end; its lines arrive on the event
  // loop, one at a time.
  class StreamCall final : public UpstreamCall<llmh::AsyncStream> {
   public:
    StreamCall(P &p, llmh::AsyncStream call, llmh::HttpRequest target)
        : UpstreamCall<llmh::AsyncStream>(p, std::move(call), std::move(target)),
          streaming_(p, this->call_.stream(), this->target_) {}
    bool streams_lines() const noexcept override { return true; }
    bool on_line(std::string_view line) override {
      without_secrets(this->target_, [&] { streaming_.line(line); });
      return !streaming_.consumer_gone;
    }
    void on_response(llmh::HttpResponse reply) noexcept override {
      try {
        without_secrets(this->target_, [&] {
          if (!reply.ok()) throw this->self_.upstream_error(this->target_, reply);
          streaming_.finish();
        });
      } catch (...) {
        return this->call_.fail_current();
      }
      this->call_.finish();
    }
    void on_error(llmh::Error error) noexcept override {
      if (streaming_.consumer_gone) return this->call_.finish();  // as in stream()
      UpstreamCall<llmh::AsyncStream>::on_error(std::move(error));
    }

   private:
    Streaming<typename P::StreamReader> streaming_;  // it writes to call_.stream() and reads target_
  };

  // Lays out the request of `call` and hands both to the HTTP service. An error before the
  // hand-off propagates: the SDK's glue, still holding the call, ends it with that error.
  template <class HttpCallT, class Call>
  static void start(P &p, Call &&call, bool stream) {
    llmh::HttpRequest target = p.chat_target(call.request(), stream);
    std::string body;
    without_secrets(target, [&] { body = p.chat_body(call.request(), stream); });
    auto http_call = std::make_unique<HttpCallT>(p, std::move(call), std::move(target));
    const llmh::HttpRequest &request = http_call->target();  // lives in http_call, which the service keeps
    p.http().perform_async(request, body, std::move(http_call));
  }

 public:
  // The asynchronous forms: the request goes to the HTTP service's perform_async, and the call
  // ends from its callbacks, on its event loop.
  static void complete_async(P &p, llmh::AsyncCompletion &&call) { start<CompletionCall>(p, std::move(call), false); }
  static void stream_async(P &p, llmh::AsyncStream &&call) { start<StreamCall>(p, std::move(call), true); }
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
