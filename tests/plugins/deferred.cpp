// A provider with the asynchronous call form (llmhost/async.h): complete_async and stream_async
// queue the call and return; one plugin thread finishes each call when it is due. The
// request's extra keys steer it: "delay_ms" (default 0; for a stream, before each chunk),
// "fail_status" (finish with that error; a stream after its chunks), "inline" (run the whole
// call inside complete_async / stream_async), "ignore_cancel" (finish only when due, like a
// plugin that ignores its cancel), "chunks" (a stream's chunk count, default 3). The answer is
// "deferred: <last message>" plus "in_flight=<N>", the number of this instance's calls that
// were pending when it was queued, so tests can see how many calls waited at once without a
// host thread each; a stream sends it in its chunks, and "repeat" (default 1) sends it that
// many times over, for large streams. The blocking `complete` and `stream` say
// "blocking: ..." so a test can tell which form ran.
#include <llmhost/async.h>
#include <llmhost/provider.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#ifndef TP_TAG
#define TP_TAG "v1"  // which build answered, for the hot-swap test
#endif

namespace {

using Clock = std::chrono::steady_clock;

// The integer after "key": in the body; `fallback` when absent. Enough for test bodies.
long number_in(std::string_view body, std::string_view key, long fallback) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const size_t at = body.find(needle);
  if (at == std::string_view::npos) return fallback;
  return std::strtol(std::string(body.substr(at + needle.size(), 24)).c_str(), nullptr, 10);
}

struct Pending {
  Clock::time_point due;
  const llmh_response_builder *out;  // a completion's, or
  const llmh_stream_sink *sink;      // a stream's
  const llmh_call_done *done;
  std::string reply;
  long fail_status;
  bool ignore_cancel;
  long every_ms = 0;      // a stream: between chunks
  long chunks_left = 0;   // a stream: still to send
  size_t sent_bytes = 0;  // a stream: of `reply`

  bool cancelled() const { return out ? out->cancelled(out) != 0 : sink->cancelled(sink) != 0; }

  // A stream's next chunk: the next piece of the reply, the last one taking the rest. False
  // once the consumer stopped the stream.
  bool emit_next() {
    const size_t size = chunks_left <= 1 ? reply.size() - sent_bytes : (reply.size() - sent_bytes) / chunks_left;
    llmh_chunk c{};
    c.struct_size = sizeof c;
    c.content = {reply.data() + sent_bytes, size};
    if (chunks_left == 1) c.finish_reason = {"stop", 4};
    sent_bytes += size;
    --chunks_left;
    return sink->emit(sink, &c) == 0;
  }
};

void finish(const Pending &p) {
  if (p.fail_status) {
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh_error_set(&err, static_cast<int32_t>(p.fail_status), "deferred: failed as asked");
    p.done->finish(p.done, &err);
    return;
  }
  if (p.out) {
    llmh::Response r(p.out);
    r.content(p.reply);
    r.usage(1, 2);
  }
  p.done->finish(p.done, nullptr);
}

class Deferred final : public llmh::Provider {
 public:
  Deferred(const llmh_host_api *host, std::string_view config) : Provider(host, config), thread_([this] { run(); }) {}
  ~Deferred() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void complete(const llmh::Request &req, llmh::Response &out) override {
    out.content("blocking: " + last_message(req));
  }
  void stream(const llmh::Request &req, llmh::Stream &out) override { out.emit_text("blocking: " + last_message(req)); }

  const void *extension(const char *id) noexcept override {
    return std::strcmp(id, LLMH_ASYNC_EXTENSION_ID) == 0 ? &kTable : nullptr;
  }

 private:
  static std::string last_message(const llmh::Request &req) {
    std::string text;
    for (const llmh::Message &m : req.messages()) text = std::string(m.content());
    return text;
  }

  static void complete_async(void *instance, const llmh_request *request, const llmh_response_builder *out,
                             const llmh_call_done *done) {
    static_cast<Deferred *>(instance)->start(llmh::Request(request), out, nullptr, done);
  }
  static void stream_async(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                           const llmh_call_done *done) {
    static_cast<Deferred *>(instance)->start(llmh::Request(request), nullptr, sink, done);
  }

  void start(const llmh::Request &req, const llmh_response_builder *out, const llmh_stream_sink *sink,
             const llmh_call_done *done) {
    const std::string_view body = req.body_json();
    const long delay = number_in(body, "delay_ms", 0);
    Pending p{Clock::now() + std::chrono::milliseconds(delay), out, sink, done, {},
              number_in(body, "fail_status", 0), number_in(body, "ignore_cancel", 0) != 0};
    if (sink) p.every_ms = delay, p.chunks_left = std::max(1L, number_in(body, "chunks", 3));
    std::unique_lock lock(mu_);
    p.reply = "deferred " TP_TAG ": " + last_message(req) + " in_flight=" + std::to_string(pending_.size() + 1);
    if (const long repeat = number_in(body, "repeat", 1); repeat > 1) {
      std::string one = std::move(p.reply);
      for (long i = 0; i < repeat; ++i) p.reply += one;
    }
    if (number_in(body, "inline", 0)) {
      lock.unlock();
      while (p.chunks_left > 0 && p.emit_next()) {
      }
      return finish(p);
    }
    pending_.push_back(std::move(p));
    wake_.notify_all();
  }

  // Sends a stream's chunks and finishes calls when due, or at once when their caller gave up
  // (polled every 5 ms).
  void run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const auto now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        const bool gave_up = !it->ignore_cancel && it->cancelled();
        if (it->due > now && !gave_up) {
          ++it;
          continue;
        }
        Pending p = std::move(*it);
        it = pending_.erase(it);
        lock.unlock();
        if (gave_up) {
          if (!p.fail_status) p.fail_status = 499;
        } else if (p.chunks_left > 0 && p.emit_next() && p.chunks_left > 0) {
          p.due = now + std::chrono::milliseconds(p.every_ms);  // more to send: back in line
          lock.lock();
          pending_.push_back(std::move(p));
          it = pending_.begin();
          continue;
        }
        finish(p);
        lock.lock();
        it = pending_.begin();  // the list may have changed meanwhile
      }
      wake_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }

#ifdef TP_BAD_ASYNC  // an async table without its function, for the loader's check
  static constexpr llmh_async_provider kTable = {sizeof(llmh_async_provider), nullptr, nullptr};
#else
  static constexpr llmh_async_provider kTable = {sizeof(llmh_async_provider), &Deferred::complete_async,
                                                      &Deferred::stream_async};
#endif

  std::mutex mu_;
  std::condition_variable wake_;
  std::list<Pending> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

#ifdef TP_NO_STREAM_CAP  // stream_async without LLMH_CAP_STREAM, for the loader's check
#define TP_CAPS LLMH_CAP_COMPLETE
#else
#define TP_CAPS (LLMH_CAP_COMPLETE | LLMH_CAP_STREAM)
#endif

LLMH_PROVIDER(Deferred, "deferred", "1.0.0", "finishes calls later, through the async call form", TP_CAPS)
