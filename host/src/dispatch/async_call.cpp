#include "dispatch/async_call.hpp"

#include <cstring>
#include <optional>

#include "dispatch/abi_call.hpp"
#include "dispatch/request_body.hpp"

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

// One call in flight, from its start until the plugin finishes it. Members are destroyed in
// reverse order, the plugin pin before the tracker's hold; finish moves the hold out and drops
// it only after the caller's handler has returned, so a Host waiting for its calls waits for
// their pins and their handlers.
struct AsyncCall {
  AsyncCall(CallTracker &t, Registry::PluginPtr p, std::string m, Request &&r, const std::stop_token &cancel)
      : tracker(t),
        hold(t.hold()),
        plugin(std::move(p)),
        model(std::move(m)),
        request(std::move(r)),
        stop(cancel, t.stopping()),
        control(stop.token(), request.timeout_s) {
    tracker.async_started();
  }
  ~AsyncCall() { tracker.async_ended(); }
  AsyncCall(const AsyncCall &) = delete;
  AsyncCall &operator=(const AsyncCall &) = delete;

  // The plugin's error as ours: its struct may be older (smaller), so only what it holds.
  static llmh_error copy_error(const llmh_error &plugin_err) {
    llmh_error err = fresh_error();
    err.status = plugin_err.status;
    if (LLMH_HAS_FIELD(&plugin_err, llmh_error, message))
      std::memcpy(err.message, plugin_err.message, sizeof err.message);
    return err;
  }

  CallTracker &tracker;
  std::shared_ptr<void> hold;
  Registry::PluginPtr plugin;
  std::string model;  // as the plugin sees it
  Request request;
  EitherStop stop;  // the caller's cancel, or the Host shutting down
  CallControl control;
  std::string body_storage;
  std::optional<CRequest> creq;
  llmh_call_done finish{};
};

struct AsyncComplete : AsyncCall {
  AsyncComplete(CallTracker &t, Registry::PluginPtr p, std::string m, Request &&r, CompleteHandler d,
                const std::stop_token &cancel)
      : AsyncCall(t, std::move(p), std::move(m), std::move(r), cancel), done(std::move(d)) {}

  CompleteResult outcome(const llmh_error *plugin_err) {
    if (plugin_err) {
      llmh_error err = copy_error(*plugin_err);
      return call_failure(*plugin, err, control, *creq->get(), "complete");
    }
    if (std::optional<Error> e = response_failure(*plugin, state)) return std::move(*e);
    fill_defaults(response, request, *plugin);
    return std::move(response);
  }
  // Hands the call to the plugin; `this` may be gone once the plugin's function is entered.
  void start() {
    builder = response_builder(state);
    plugin->async()->complete_async(plugin->instance(), creq->get(), &builder, &finish);
  }

  CompleteHandler done;
  Response response;
  CompleteState state{&response, &control};
  llmh_response_builder builder{};
};

struct AsyncStream : AsyncCall {
  AsyncStream(CallTracker &t, Registry::PluginPtr p, std::string m, Request &&r, ChunkCallback c, StreamDoneHandler d,
              const std::stop_token &cancel)
      : AsyncCall(t, std::move(p), std::move(m), std::move(r), cancel), on_chunk(std::move(c)), done(std::move(d)) {}

  std::optional<Error> outcome(const llmh_error *plugin_err) {
    llmh_error err = plugin_err ? copy_error(*plugin_err) : fresh_error();
    std::optional<Error> failure = stream_failure(*plugin, plugin_err != nullptr, err, state, control, *creq->get());
    if (!failure) close_stream_usage(state, request);
    return failure;
  }
  void start() {  // as AsyncComplete::start
    tally = StreamTally::for_call(*plugin);
    state.tally = tally.get();
    sink = stream_sink(state);
    plugin->async_stream()(plugin->instance(), creq->get(), &sink, &finish);
  }

  ChunkCallback on_chunk;
  StreamDoneHandler done;
  StreamState state{&on_chunk, &control};
  std::unique_ptr<StreamTally> tally;
  llmh_stream_sink sink{};
};

template <class Call>
void finish(const llmh_call_done *self, const llmh_error *err) noexcept {
  std::unique_ptr<Call> call(static_cast<Call *>(self->host_data));
  // This runs inside the plugin's code: if the call held its last pin (it was replaced
  // meanwhile), the unload must wait until the plugin's frames are gone.
  const InsidePlugin inside_plugin;
  auto result = call->outcome(err);
  auto done = std::move(call->done);
  // Held until `done` has returned and this thread has left the plugin's code: ~Host waits
  // for the handlers, and then unloads the plugins.
  std::shared_ptr<void> hold = std::move(call->hold);
  call.reset();
  done(std::move(result));
  release_after_plugin_frames(std::move(hold));
}

// Lays the request out and hands the call to the plugin, which owns it until finish.
template <class Call>
void launch(std::unique_ptr<Call> call) {
  try {
    const Body body = request_body(call->request, call->body_storage);
    call->creq.emplace(call->request, call->model, body, call->plugin->reads_body_members());
  } catch (...) {
    auto handler = std::move(call->done);
    const std::shared_ptr<void> hold = std::move(call->hold);
    call.reset();
    return handler(current_error());
  }
  call->finish = {sizeof(llmh_call_done), call.get(), &finish<Call>};
  // Our own pin for the duration of the start: the call's pin may be dropped by a finish on
  // another thread while this thread is still in the plugin's code.
  const Registry::PluginPtr keep = call->plugin;
  call.release()->start();  // from here on, owned by the plugin until finish
}

}  // namespace

void start_async_complete(Registry::PluginPtr plugin, std::string model, Request &&request, CompleteHandler done,
                          std::stop_token cancel, CallTracker &tracker) {
  launch(std::make_unique<AsyncComplete>(tracker, std::move(plugin), std::move(model), std::move(request),
                                         std::move(done), cancel));
}

void start_async_stream(Registry::PluginPtr plugin, std::string model, Request &&request, ChunkCallback on_chunk,
                        StreamDoneHandler done, std::stop_token cancel, CallTracker &tracker) {
  launch(std::make_unique<AsyncStream>(tracker, std::move(plugin), std::move(model), std::move(request),
                                       std::move(on_chunk), std::move(done), cancel));
}

}  // namespace llmhost::detail
