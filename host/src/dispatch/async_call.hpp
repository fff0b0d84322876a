// The callback forms of a completion and a stream over a plugin's asynchronous call form
// (llmhost/async.h): the call's request, builder or sink and state live on the heap until the
// plugin finishes it, and no host thread waits meanwhile. Also counts the Host's callback-form calls in flight, so that
// ~Host can cancel them and wait for them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>

#include "llmhost/host.hpp"
#include "loader/registry.hpp"

namespace llmhost::detail {

// The Host's callback-form calls in flight. Any thread.
class CallTracker {
 public:
  // Counts one call until the returned handle (and its copies) are dropped.
  std::shared_ptr<void> hold();
  // Requested when the Host shuts down: every call in flight is to end (as cancelled).
  std::stop_token stopping() const { return stop_.get_token(); }
  // Requests stopping() and waits until no call is held. Not from inside a held call.
  void stop_and_wait();

  // Calls in a plugin's asynchronous form now (start_async_complete until finish).
  size_t async_calls() const { return async_.load(std::memory_order_relaxed); }
  void async_started() { async_.fetch_add(1, std::memory_order_relaxed); }
  void async_ended() { async_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  size_t held_ = 0;
  std::stop_source stop_;
  std::atomic<size_t> async_{0};
};

// A stop source requested when either of two tokens is. Not copyable or movable: the
// callbacks point at it.
class EitherStop {
 public:
  EitherStop(const std::stop_token &a, const std::stop_token &b) : on_a_(a, Forward{&src_}), on_b_(b, Forward{&src_}) {}
  std::stop_token token() const { return src_.get_token(); }

 private:
  struct Forward {
    std::stop_source *src;
    void operator()() const noexcept { src->request_stop(); }
  };
  std::stop_source src_;
  std::stop_callback<Forward> on_a_, on_b_;
};

// Starts a completion of `model` (as the plugin sees it: resolved, no provider prefix) on
// `plugin`'s asynchronous form (plugin->async() must be non-null and the plugin must have
// LLMH_CAP_COMPLETE). Returns once the plugin has started it;
// `done` runs once the plugin finishes, on the thread that finishes it (possibly this one,
// before this returns). The call is held in `tracker` until `done` has returned.
void start_async_complete(Registry::PluginPtr plugin, std::string model, Request &&request, CompleteHandler done,
                          std::stop_token cancel, CallTracker &tracker);
// The same for a stream (plugin->async_stream() non-null, LLMH_CAP_STREAM): chunks go to
// `on_chunk` on the thread the plugin emits them from, then `done` runs once.
void start_async_stream(Registry::PluginPtr plugin, std::string model, Request &&request, ChunkCallback on_chunk,
                        StreamDoneHandler done, std::stop_token cancel, CallTracker &tracker);

}  // namespace llmhost::detail
