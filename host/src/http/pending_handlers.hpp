// Counts the handlers an object has pending on an executor, so that its shutdown can wait until
// none is left: after drain's `then`, nothing of the object runs on the executor again.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace llmhost::detail::http {

class PendingHandlers {
 public:
  // Wraps a handler that will run on the executor (a completion handler, or a post from
  // another thread) so that drain() waits for it. Any thread.
  template <class Handler>
  auto tracked(Handler handler) {
    pending_.fetch_add(1, std::memory_order_relaxed);
    // Constrained, so that Asio's overloads that test a handler's signature (async_connect's)
    // see the handler's own.
    return [ this, handler = std::move(handler) ](
        auto &&...args) mutable requires std::is_invocable_v<Handler &, decltype(args)...> {
      handler(std::forward<decltype(args)>(args)...);
      done();
    };
  }

  // Calls `then` (at once, or from the last tracked handler) when no tracked handler is
  // pending; `then` must be the last thing to touch the tracked object on the loop. Loop only,
  // once everything that starts new waits has stopped.
  void drain(std::function<void()> then) {
    if (pending_.load(std::memory_order_acquire) == 0) return then();
    drained_ = std::move(then);
  }

 private:
  void done() {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1 || !drained_) return;
    std::function<void()> then = std::move(drained_);
    drained_ = nullptr;
    then();  // may let the owner destroy this object: nothing after it touches `this`
  }

  std::atomic<size_t> pending_{0};
  std::function<void()> drained_;
};

}  // namespace llmhost::detail::http
