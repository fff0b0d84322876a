// The Exchange of one request as the Session implements it (Session::Call), and what the two
// share (Session::CallState). Private to session.cpp and session_watchdog.cpp.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include "proxy/error_reply.hpp"
#include "proxy/session.hpp"

namespace llmhost::proxy {

namespace net = boost::asio;

// What a Session and the Call of one exchange share; outlives both as long as either needs it.
struct Session::CallState {
  explicit CallState(SessionShared &s) : shared(s) {}
  SessionShared &shared;
  std::stop_source stop;
  // kRunning until the watchdog answers for the call (kAbandoned) or the API lets go of the
  // Call (kReturned: its worker is done). Abandoned calls count in shared.abandoned_running.
  enum { kRunning, kAbandoned, kReturned };
  std::atomic<int> phase{kRunning};

  // A stream's frames wait in `queued` while the socket is busy; a worker that gets further
  // ahead than this (a client reading slowly) waits for room.
  static constexpr size_t kHighWater = 64 * 1024;
  // An I/O thread (a plugin's asynchronous stream) never waits: a client this far behind, on
  // top of what the kernel buffers, has stopped reading, and its connection is closed.
  static constexpr size_t kMaxQueued = 4 * 1024 * 1024;

  // Guarded by mu: written by the API from any thread, read by the Session on its loop.
  // Labels are not posted to the loop: the Session reads them when it needs them (the
  // record, the watchdog's message), which saves the I/O thread a wake-up per label.
  std::mutex mu;
  std::string route, model, provider;
  bool stream = false;
  std::optional<Usage> usage;
  bool deadline = false;  // a call with a timeout of its own has started (the watchdog knows)
  // The event stream: frames the worker produced and the socket has not taken yet.
  std::condition_variable room;  // signalled when `queued` is taken or the stream is gone
  std::string queued;
  bool end = false;       // end_stream() was called: `queued` ends with the last frames
  bool flushing = false;  // a flush is posted or its write is in flight
  bool gone = false;      // nothing more will be written (client gone, stream ended, stale)
};

// The Exchange of one request. Owns the request; everything else is posted to the Session's
// loop with the exchange's number, so that it is dropped once the exchange is over.
class Session::Call final : public Exchange {
 public:
  Call(std::shared_ptr<Session> session, uint64_t gen, Incoming in, std::shared_ptr<CallState> state)
      : session_(std::move(session)),
        ex_(session_->stream_.get_executor()),
        gen_(gen),
        in_(std::move(in)),
        state_(std::move(state)) {}
  ~Call() override {
    if (state_->phase.exchange(CallState::kReturned) == CallState::kAbandoned)
      state_->shared.abandoned_running.fetch_sub(1);
  }

  const Incoming &request() const override { return in_; }
  std::stop_token cancelled() const override { return state_->stop.get_token(); }

  void label(std::string route, std::string model, std::string provider, bool stream) override {
    bool now_stream;
    {
      std::lock_guard lock(state_->mu);
      state_->route = std::move(route);
      state_->model = std::move(model);
      state_->provider = std::move(provider);
      now_stream = stream && !state_->stream;
      state_->stream = stream;
    }
    // A stream has deadlines of its own (idle, duration): the watchdog must know now.
    if (now_stream) post([](Session &s) { s.on_stream_label(); });
  }
  void usage(const Usage &u) override {
    std::lock_guard lock(state_->mu);
    state_->usage = u;
  }
  void outcome(int status) override {
    post([status](Session &s) {
      if (s.may_stream()) s.outcome_ = status;  // not once the watchdog ended the stream
    });
  }
  void reply(Reply r) override {
    post([r = std::move(r)](Session &s) mutable {
      if (!s.responded_) s.send(std::move(r));
    });
  }
  // Frames are queued and written by the Session's loop as the socket takes them, a batch at a time.
  // A worker waits only when it is CallState::kHighWater ahead of the client; on an I/O thread
  // nothing waits, and a client CallState::kMaxQueued behind is dropped.
  bool stream(std::string frames) override {
    CallState &st = *state_;
    std::unique_lock lock(st.mu);
    if (on_io_thread()) {
      if (!st.gone && st.queued.size() + frames.size() > CallState::kMaxQueued) {
        st.gone = true;
        st.queued.clear();
        lock.unlock();
        st.stop.request_stop();
        post([](Session &s) { s.drop_slow_stream(); });
        return false;
      }
    } else {
      while (!st.gone && st.queued.size() >= CallState::kHighWater) {
        st.room.wait_for(lock, std::chrono::milliseconds(50));
        if (session_->shared_.stopped) return false;  // the I/O threads are gone
      }
    }
    if (st.gone) return false;
    st.queued += frames;
    return request_flush(lock);
  }
  void end_stream(std::string frames) override {
    std::unique_lock lock(state_->mu);
    if (state_->end) return;
    if (!state_->gone) state_->queued += frames;
    state_->end = true;
    request_flush(lock);
  }
  void call_started(double timeout_s) override {
    {
      // Nothing to tell the watchdog when neither this call nor the one before has a deadline.
      std::lock_guard lock(state_->mu);
      const bool had = std::exchange(state_->deadline, timeout_s > 0);
      if (!had && timeout_s <= 0) return;
    }
    post([timeout_s](Session &s) { s.on_call_started(timeout_s); });
  }
  std::optional<Reply> check_messages(size_t count) const override {
    const uint32_t max = session_->shared_.options.max_messages;
    if (max == 0 || count <= max) return std::nullopt;
    return error_reply(400,
                       "the request has " + std::to_string(count) + " messages; this server accepts at most " +
                           std::to_string(max) + " (--max-messages, general_settings.max_messages)",
                       "messages", "too_many_messages");
  }

 private:
  bool on_io_thread() const { return session_->shared_.on_io_thread(); }

  bool request_flush(std::unique_lock<std::mutex> &lock) {
    if (std::exchange(state_->flushing, true)) return true;  // the running flush will take it
    lock.unlock();
    net::post(ex_, [s = session_, gen = gen_, st = state_] { s->flush_sse(gen, st); });
    return true;
  }

  template <class Fn>
  void post(Fn fn) {
    net::post(ex_, [s = session_, gen = gen_, fn = std::move(fn)]() mutable {
      if (s->current(gen)) fn(*s);
    });
  }

  const std::shared_ptr<Session> session_;
  const Session::Executor ex_;
  const uint64_t gen_;
  const Incoming in_;
  const std::shared_ptr<CallState> state_;
};

}  // namespace llmhost::proxy
