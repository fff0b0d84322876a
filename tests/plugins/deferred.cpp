// A provider with the asynchronous call form (llmhost/async.h): complete_async queues the call
// and returns; one plugin thread finishes each call when it is due. The request's extra keys
// steer it: "delay_ms" (default 0), "fail_status" (finish with that error), "inline" (finish
// inside complete_async), "ignore_cancel" (finish only when due, like a plugin that ignores
// its cancel). The answer is "deferred: <last message>" plus "in_flight=<N>", the
// number of this instance's calls that were pending when it was queued, so tests can see how
// many calls waited at once without a host thread each. The blocking `complete` says
// "blocking: ..." so a test can tell which form ran.
#include <llmhost/async.h>
#include <llmhost/provider.hpp>

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
  const llmh_response_builder *out;
  const llmh_call_done *done;
  std::string reply;
  long fail_status;
  bool ignore_cancel;
};

void finish(const Pending &p) {
  if (p.fail_status) {
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh_error_set(&err, static_cast<int32_t>(p.fail_status), "deferred: failed as asked");
    p.done->finish(p.done, &err);
    return;
  }
  llmh::Response r(p.out);
  r.content(p.reply);
  r.usage(1, 2);
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
    static_cast<Deferred *>(instance)->start(llmh::Request(request), out, done);
  }

  void start(const llmh::Request &req, const llmh_response_builder *out, const llmh_call_done *done) {
    const std::string_view body = req.body_json();
    Pending p{Clock::now() + std::chrono::milliseconds(number_in(body, "delay_ms", 0)), out, done, {},
              number_in(body, "fail_status", 0), number_in(body, "ignore_cancel", 0) != 0};
    std::unique_lock lock(mu_);
    p.reply = "deferred " TP_TAG ": " + last_message(req) + " in_flight=" + std::to_string(pending_.size() + 1);
    if (number_in(body, "inline", 0)) {
      lock.unlock();
      return finish(p);
    }
    pending_.push_back(std::move(p));
    wake_.notify_all();
  }

  // Finishes calls when due, or at once when their caller gave up (polled every 5 ms).
  void run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const auto now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->due <= now || (!it->ignore_cancel && it->out->cancelled(it->out))) {
          Pending p = std::move(*it);
          it = pending_.erase(it);
          if (p.due > now && !p.fail_status) p.fail_status = 499;  // gave up early
          lock.unlock();
          finish(p);
          lock.lock();
          it = pending_.begin();  // the list may have changed meanwhile
        } else {
          ++it;
        }
      }
      wake_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }

#ifdef TP_BAD_ASYNC  // an async table without its function, for the loader's check
  static constexpr llmh_async_provider kTable = {sizeof(llmh_async_provider), nullptr};
#else
  static constexpr llmh_async_provider kTable = {sizeof(llmh_async_provider), &Deferred::complete_async};
#endif

  std::mutex mu_;
  std::condition_variable wake_;
  std::list<Pending> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

LLMH_PROVIDER(Deferred, "deferred", "1.0.0", "finishes calls later, through the async call form", LLMH_CAP_COMPLETE)
