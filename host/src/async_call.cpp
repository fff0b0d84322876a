#include "async_call.hpp"

#include <cstring>
#include <optional>

#include "abi_call.hpp"
#include "request_body.hpp"
#include "router.hpp"

namespace llmhost::detail {

std::shared_ptr<void> CallTracker::hold() {
  {
    std::lock_guard lock(mu_);
    ++held_;
  }
  return std::shared_ptr<void>(nullptr, [this](void *) {
    std::lock_guard lock(mu_);
    if (--held_ == 0) idle_.notify_all();  // under the lock: ~Host may free us once it sees 0
  });
}

void CallTracker::stop_and_wait() {
  stop_.request_stop();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return held_ == 0; });
}

namespace {

// One call in flight, from start_async_complete until the plugin finishes it. Members are
// destroyed in reverse order, the plugin pin before the tracker's hold; finish moves the hold
// out and drops it only after `done` has returned, so a Host waiting for its calls waits for
// their pins and their handlers.
struct AsyncComplete {
  AsyncComplete(CallTracker &t, Registry::PluginPtr p, Request r, CompleteHandler d, const std::stop_token &cancel)
      : tracker(t), hold(t.hold()), plugin(std::move(p)), request(std::move(r)), done(std::move(d)),
        stop(cancel, t.stopping()), control(stop.token(), request.timeout_s) {
    tracker.async_started();
  }
  ~AsyncComplete() { tracker.async_ended(); }
  AsyncComplete(const AsyncComplete &) = delete;
  AsyncComplete &operator=(const AsyncComplete &) = delete;

  CompleteResult outcome(const llmh_error *plugin_err) {
    if (plugin_err) {
      // The plugin's struct may be older (smaller) than ours: copy what it holds.
      llmh_error err = fresh_error();
      err.status = plugin_err->status;
      if (LLMH_HAS_FIELD(plugin_err, llmh_error, message))
        std::memcpy(err.message, plugin_err->message, sizeof err.message);
      return call_failure(*plugin, err, control, *creq->get(), "complete");
    }
    fill_defaults(response, request, *plugin);
    return std::move(response);
  }

  CallTracker &tracker;
  std::shared_ptr<void> hold;
  Registry::PluginPtr plugin;
  Request request;
  CompleteHandler done;
  EitherStop stop;  // the caller's cancel, or the Host shutting down
  CallControl control;
  std::string body_storage;
  std::optional<CRequest> creq;
  Response response;
  CompleteState state{&response, &control};
  llmh_response_builder builder{};
  llmh_call_done finish{};
};

void finish(const llmh_call_done *self, const llmh_error *err) noexcept {
  std::unique_ptr<AsyncComplete> call(static_cast<AsyncComplete *>(self->host_data));
  // This runs inside the plugin's code: if the call held its last pin (it was replaced
  // meanwhile), the unload must wait until the plugin's frames are gone.
  const InsidePlugin inside_plugin;
  CompleteResult result = call->outcome(err);
  CompleteHandler done = std::move(call->done);
  // Held until `done` has returned and this thread has left the plugin's code: ~Host waits
  // for the handlers, and then unloads the plugins.
  std::shared_ptr<void> hold = std::move(call->hold);
  call.reset();
  done(std::move(result));
  release_after_plugin_frames(std::move(hold));
}

}  // namespace

void start_async_complete(Registry::PluginPtr plugin, Request request, CompleteHandler done,
                          std::stop_token cancel, CallTracker &tracker) {
  auto call = std::make_unique<AsyncComplete>(tracker, std::move(plugin), std::move(request), std::move(done), cancel);
  try {
    const std::string_view body = request_body(call->request, call->body_storage);
    call->creq.emplace(call->request, split_model(call->request.model).model, body);
  } catch (...) {
    CompleteHandler handler = std::move(call->done);
    const std::shared_ptr<void> hold = std::move(call->hold);
    call.reset();
    return handler(current_error());
  }
  call->builder = response_builder(call->state);
  call->finish = {sizeof(llmh_call_done), call.get(), &finish};
  // Our own pin for the duration of complete_async: the call's pin may be dropped by a finish
  // on another thread while this thread is still in the plugin's code.
  const Registry::PluginPtr keep = call->plugin;
  AsyncComplete *raw = call.release();  // from here on, owned by the plugin until finish
  keep->async()->complete_async(keep->instance(), raw->creq->get(), &raw->builder, &raw->finish);
}

}  // namespace llmhost::detail
