// Session's watchdog: one timer per connection for the earliest deadline that applies now
// (the socket's --idle-timeout while reading a request or writing a response; the call's,
// the request's and the stream's while an exchange runs). It re-checks when it fires, so
// deadlines that move later never re-arm it. docs/reliability.md lists what each one answers.
#include <algorithm>
#include <cstdio>

#include "proxy/session_call.hpp"

namespace llmhost::proxy {

namespace beast = boost::beast;

void Session::io_by(std::chrono::milliseconds timeout) {
  io_deadline_ = Clock::now() + timeout;
  arm_watchdog();
}

// The earliest deadline that applies now: the socket's, then the exchange's in its present
// state; max() for none.
Session::Clock::time_point Session::next_deadline() const {
  const ServerOptions &o = shared_.options;
  auto next = io_deadline_;
  if (!busy_ || sse_ended_ || (responded_ && !sse_started_)) return next;  // the response is complete or being written
  next = std::min(next, call_deadline_);
  if (!responded_ && o.request_timeout.count() > 0) next = std::min(next, t0_ + o.request_timeout);
  if (is_stream_ || sse_started_) {
    if (o.stream_idle_timeout.count() > 0) next = std::min(next, last_chunk_ + o.stream_idle_timeout);
    if (o.max_stream_duration.count() > 0) next = std::min(next, t0_ + o.max_stream_duration);
  }
  return next;
}

// Deadlines only ever move later without re-arming (a chunk, a reply): the timer then fires
// early, finds nothing expired and re-arms for what is left.
void Session::arm_watchdog() {
  if (closed_) return;
  const auto next = next_deadline();
  if (next >= armed_until_) return;
  armed_until_ = next;
  watchdog_.expires_at(next);  // cancels the wait before, if any
  watchdog_.async_wait([self = shared_from_this(), seq = ++watchdog_seq_](beast::error_code ec) {
    if (ec == net::error::operation_aborted || seq != self->watchdog_seq_) return;
    self->armed_until_ = Clock::time_point::max();
    if (!self->closed_) self->on_watchdog(false);
  });
}

void Session::stop_watchdog() {
  ++watchdog_seq_;
  armed_until_ = Clock::time_point::max();
  watchdog_.cancel();
}

void Session::on_watchdog(bool requeued) {
  const ServerOptions &o = shared_.options;
  const auto now = Clock::now();
  // The client did not send its request, or take our bytes, within --idle-timeout. Pending
  // reads and writes end as aborted, and their handlers finish the exchange, if any.
  if (now >= io_deadline_) return close_now();
  if (!busy_ || sse_ended_ || (responded_ && !sse_started_)) return arm_watchdog();
  const bool streaming = is_stream_ || sse_started_;
  std::optional<Timeout> kind;
  if (now >= call_deadline_)
    kind = kCall;
  else if (streaming && o.stream_idle_timeout.count() > 0 && now >= last_chunk_ + o.stream_idle_timeout)
    kind = kStreamIdle;
  else if (streaming && o.max_stream_duration.count() > 0 && now >= t0_ + o.max_stream_duration)
    kind = kStreamDuration;
  else if (!responded_ && o.request_timeout.count() > 0 && now >= t0_ + o.request_timeout)
    kind = kRequest;
  if (!kind) return arm_watchdog();
  int running = CallState::kRunning;
  if (state_->phase.compare_exchange_strong(running, CallState::kAbandoned)) {
    shared_.abandoned_running.fetch_add(1);
  } else if (state_->phase.load() == CallState::kReturned && !requeued) {
    // The worker is done and its answer may be queued right behind this handler: let it run
    // first, then look again.
    return net::post(stream_.get_executor(), [self = shared_from_this(), gen = gen_] {
      if (self->current(gen)) self->on_watchdog(true);
    });
  }
  expire(*kind);
}

namespace {
std::string seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", std::chrono::duration<double>(d).count());
  return buf;
}
}  // namespace

// Gives up on the exchange: cancels the call, answers 408 or ends the stream with an error
// event. Whatever the call sends later is dropped (the exchange number moves on).
void Session::expire(Timeout kind) {
  const ServerOptions &o = shared_.options;
  shared_.timeouts[kind].fetch_add(1);
  state_->stop.request_stop();
  take_labels();
  std::string message, code;
  const std::string who = record_.provider.empty() ? "the call" : "provider " + record_.provider;
  switch (kind) {
    case kCall:
      message = who + " did not finish within the call's timeout (plus " + seconds(o.call_grace) +
                "); the call was abandoned";
      code = "call_timeout";
      break;
    case kRequest:
      message = "no response within the request timeout of " + seconds(o.request_timeout) + " (--request-timeout)";
      code = "request_timeout";
      break;
    case kStreamIdle:
      message = who + " sent nothing for " + seconds(o.stream_idle_timeout) +
                " (--stream-idle-timeout); the stream was ended";
      code = "stream_idle_timeout";
      break;
    case kStreamDuration:
      message =
          "the stream ran longer than " + seconds(o.max_stream_duration) + " (--max-stream-duration); it was ended";
      code = "stream_duration_exceeded";
      break;
  }
  outcome_ = 408;
  if (!responded_) return send(error_reply(408, message, {}, code));
  sse_ended_ = true;
  std::string frames = "data: " + openai::error_json(408, message, {}, code) + "\n\ndata: [DONE]\n\n";
  if (writing_) {
    final_frames_ = std::move(frames);
    return;
  }
  write_sse_body(std::move(frames), true, [self = shared_from_this()](bool ok) { self->end_sse(ok); });
}

}  // namespace llmhost::proxy
