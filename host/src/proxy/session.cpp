#include "proxy/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <iterator>

#include "proxy/openai_error.hpp"

namespace llmhost::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// A stream's frames wait here while the socket is busy; a worker that gets further ahead than
// this (a client reading slowly) waits for room.
constexpr size_t kStreamHighWater = 64 * 1024;
}  // namespace

// What a Session and the Call of one exchange share; outlives both as long as either needs it.
struct Session::CallState {
  explicit CallState(SessionShared &s) : shared(s) {}
  SessionShared &shared;
  std::stop_source stop;
  // kRunning until the watchdog answers for the call (kAbandoned) or the API lets go of the
  // Call (kReturned: its worker is done). Abandoned calls count in shared.abandoned_running.
  enum { kRunning, kAbandoned, kReturned };
  std::atomic<int> phase{kRunning};

  // Guarded by mu: written by the API from any thread, read by the Session on its strand.
  // Labels are not posted to the strand: the Session reads them when it needs them (the
  // record, the watchdog's message), which saves the I/O thread a wake-up per label.
  std::mutex mu;
  std::string route, model, provider;
  bool stream = false;
  bool deadline = false;  // a call with a timeout of its own has started (the watchdog knows)
  // The event stream: frames the worker produced and the socket has not taken yet.
  std::condition_variable room;  // signalled when `queued` is taken or the stream is gone
  std::string queued;
  bool end = false;       // end_stream() was called: `queued` ends with the last frames
  bool flushing = false;  // a flush is posted or its write is in flight
  bool gone = false;      // nothing more will be written (client gone, stream ended, stale)
};

// The Exchange of one request. Owns the request; everything else is posted to the Session's
// strand with the exchange's number, so that it is dropped once the exchange is over.
class Session::Call final : public Exchange {
 public:
  Call(std::shared_ptr<Session> session, uint64_t gen, Incoming in, std::shared_ptr<CallState> state)
      : session_(std::move(session)), ex_(session_->stream_.get_executor()), gen_(gen), in_(std::move(in)),
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
  // Frames are queued and written by the strand as the socket takes them, a batch at a time:
  // the worker waits only when it is kStreamHighWater ahead of the client.
  bool stream(std::string frames) override {
    CallState &st = *state_;
    std::unique_lock lock(st.mu);
    while (!st.gone && st.queued.size() >= kStreamHighWater) {
      st.room.wait_for(lock, std::chrono::milliseconds(50));
      if (session_->shared_.stopped) return false;  // the I/O threads are gone
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
    return error_reply(400, "the request has " + std::to_string(count) + " messages; this server accepts at most " +
                                std::to_string(max) + " (--max-messages, general_settings.max_messages)",
                       "messages", "too_many_messages");
  }

 private:
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
  const net::any_io_executor ex_;
  const uint64_t gen_;
  const Incoming in_;
  const std::shared_ptr<CallState> state_;
};

Session::Session(tcp::socket socket, SessionShared &shared)
    : stream_(std::move(socket)), shared_(shared), watchdog_(stream_.get_executor()) {
  shared_.open.fetch_add(1);
}

Session::~Session() {
  if (!counted_out_) shared_.open.fetch_sub(1);
  std::lock_guard lock(shared_.mu);
  shared_.sessions.erase(this);
}

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_) self->close_now();
  });
}

void Session::abort() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->state_) self->state_->stop.request_stop();
    self->close_now();
  });
}

void Session::read_header() {
  if (closed_) return;
  parser_.emplace();
  parser_->header_limit(shared_.options.max_header_bytes);
  parser_->body_limit(shared_.options.max_body_bytes);
  io_by(shared_.options.idle_timeout);  // the whole request, header and body
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

namespace {
bool is_http_error(const beast::error_code &ec) {
  return ec.category() == beast::error_code(http::error::bad_version).category();
}
}  // namespace

void Session::on_header(beast::error_code ec) {
  const ServerOptions &o = shared_.options;
  if (ec == http::error::header_limit)
    return reject(431, "request headers are larger than the limit of " + std::to_string(o.max_header_bytes) + " bytes");
  if (ec == http::error::body_limit)  // the Content-Length alone is over the limit
    return reject(413, "request body is larger than the limit of " + std::to_string(o.max_body_bytes) + " bytes");
  if (ec && is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return reject(400, std::string("malformed HTTP request: ") + ec.message());
  if (ec) return close_now();  // the client closed, went idle too long, or the socket failed
  const auto &h = parser_->get();
  if (o.max_header_count) {
    const auto fields = static_cast<size_t>(std::distance(h.begin(), h.end()));
    if (fields > o.max_header_count)
      return reject(431, "request has " + std::to_string(fields) + " header fields; the limit is " +
                             std::to_string(o.max_header_count));
  }
  const auto length = parser_->content_length();
  if (length && *length > o.max_body_bytes)
    return reject(413, "request body of " + std::to_string(*length) + " bytes is larger than the limit of " +
                           std::to_string(o.max_body_bytes) + " bytes");
  auto read_body = [self = shared_from_this()] {
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t n) { self->on_body(ec, n); });
  };
  if (beast::iequals(h[http::field::expect], "100-continue")) {
    auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
    return net::async_write(stream_, net::buffer(*cont), [self = shared_from_this(), cont, read_body](beast::error_code ec, size_t) {
      if (ec) return self->close_now();
      read_body();
    });
  }
  read_body();
}

void Session::on_body(beast::error_code ec, size_t) {
  if (ec == http::error::body_limit)
    return reject(413, "request body is larger than the limit of " + std::to_string(shared_.options.max_body_bytes) + " bytes");
  if (ec && is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return reject(400, std::string("malformed HTTP request: ") + ec.message());
  if (ec) return close_now();
  dispatch();
}

// The record, the in-flight count, a fresh cancel source, a clean response state.
void Session::begin_exchange(std::string method, std::string path, uint64_t bytes_in) {
  busy_ = true;
  ++gen_;
  state_ = std::make_shared<CallState>(shared_);
  outcome_ = 0;
  responded_ = is_stream_ = sse_started_ = sse_ended_ = writing_ = false;
  final_frames_.reset();
  record_ = Record{};
  record_.start = std::chrono::system_clock::now();
  record_.method = std::move(method);
  record_.path = std::move(path);
  record_.bytes_in = bytes_in;
  t0_ = last_chunk_ = Clock::now();
  call_deadline_ = Clock::time_point::max();
  if (shared_.hooks.started) shared_.hooks.started();
}

void Session::dispatch() {
  auto req = parser_->release();
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  Incoming in;
  in.method = std::string(req.method_string());
  const std::string_view target = req.target();
  in.path = std::string(target.substr(0, target.find('?')));
  in.authorization = std::string(req[http::field::authorization]);
  in.body = std::move(req.body());
  begin_exchange(in.method, in.path, in.body.size());
  io_deadline_ = Clock::time_point::max();  // a plugin call may take long: the exchange's deadlines apply
  watch_disconnect();
  arm_watchdog();
  shared_.hooks.handle(std::make_shared<Call>(shared_from_this(), gen_, std::move(in), state_));
}

void Session::reject(int status, std::string message) {
  std::string method, path;
  if (parser_) {
    method = std::string(parser_->get().method_string());
    const std::string_view target = parser_->get().target();
    path = std::string(target.substr(0, target.find('?')));
  }
  begin_exchange(std::move(method), std::move(path), 0);
  keep_alive_ = false;  // the rest of the request was not read
  send(error_reply(status, message));
}

void Session::on_stream_label() {
  if (is_stream_) return;
  is_stream_ = true;
  arm_watchdog();
}

void Session::take_labels() {
  std::lock_guard lock(state_->mu);
  record_.route = state_->route;
  record_.model = state_->model;
  record_.provider = state_->provider;
  record_.stream = state_->stream;
}

void Session::on_call_started(double timeout_s) {
  if (timeout_s > 0) {
    const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::min(timeout_s, 1e7)));
    call_deadline_ = Clock::now() + timeout + shared_.options.call_grace;
  } else {
    call_deadline_ = Clock::time_point::max();
  }
  arm_watchdog();
}

void Session::send(Reply r) {
  responded_ = true;
  record_.status = r.status;
  if (closed_) return exchange_done(false);
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
  res->set(http::field::server, "llmhost");
  res->set(http::field::content_type, r.content_type);
  for (auto &[k, v] : r.headers) res->set(k, v);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive_ && !shared_.draining);
  res->prepare_payload();
  io_by(shared_.options.idle_timeout);
  http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t n) {
    self->record_.bytes_out += n;
    self->exchange_done(!ec && res->keep_alive());
  });
}

// Writes `frames` as one HTTP chunk (after the header, the first time); `last` adds the
// terminating chunk. One write in flight at a time: the worker waits for each, and the
// watchdog queues its closing event behind the one in flight (final_frames_).
void Session::write_sse(std::string frames, bool last, std::function<void(bool)> done) {
  responded_ = true;
  if (record_.status == 0) record_.status = 200;
  if (closed_) return done(false);
  if (sse_started_) return write_sse_body(std::move(frames), last, std::move(done));
  sse_started_ = true;
  sse_head_.emplace(http::status::ok, version_);
  sse_head_->set(http::field::server, "llmhost");
  sse_head_->set(http::field::content_type, "text/event-stream");
  sse_head_->set(http::field::cache_control, "no-cache");
  sse_head_->set("X-Accel-Buffering", "no");
  sse_head_->keep_alive(keep_alive_ && !shared_.draining);
  sse_head_->chunked(true);
  sse_sr_.emplace(*sse_head_);
  writing_ = true;
  io_by(shared_.options.idle_timeout);
  http::async_write_header(stream_, *sse_sr_,
      [self = shared_from_this(), frames = std::move(frames), last, done = std::move(done)](beast::error_code ec, size_t n) mutable {
        self->writing_ = false;
        self->io_deadline_ = Clock::time_point::max();
        self->record_.bytes_out += n;
        if (ec) return self->after_sse_write(false, last, std::move(done));
        self->write_sse_body(std::move(frames), last, std::move(done));
      });
}

void Session::write_sse_body(std::string frames, bool last, std::function<void(bool)> done) {
  if (closed_) return after_sse_write(false, last, std::move(done));
  out_.clear();
  if (!frames.empty()) {
    char size[20];
    out_.append(size, static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", frames.size())));
    out_ += frames;
    out_ += "\r\n";
  }
  if (last) out_ += "0\r\n\r\n";
  if (out_.empty()) return after_sse_write(true, last, std::move(done));
  writing_ = true;
  io_by(shared_.options.idle_timeout);
  net::async_write(stream_, net::buffer(out_), [self = shared_from_this(), last, done = std::move(done)](beast::error_code ec, size_t n) mutable {
    self->writing_ = false;
    self->io_deadline_ = Clock::time_point::max();
    self->record_.bytes_out += n;
    self->after_sse_write(!ec, last, std::move(done));
  });
}

// Writes what the worker queued since the last write, as one HTTP chunk; then looks again.
void Session::flush_sse(uint64_t gen, const std::shared_ptr<CallState> &st) {
  std::string frames;
  bool last;
  {
    std::lock_guard lock(st->mu);
    // Over, ended by the watchdog, or the client is gone: nothing more goes out.
    if (!current(gen) || !may_stream()) st->gone = true;
    if (st->gone || (st->queued.empty() && !st->end)) {
      st->queued.clear();
      st->flushing = false;
      st->room.notify_all();
      return;
    }
    frames.swap(st->queued);
    last = st->end;
  }
  st->room.notify_all();
  last_chunk_ = Clock::now();
  if (last) {
    sse_ended_ = true;
    return write_sse(std::move(frames), true, [self = shared_from_this()](bool ok) { self->end_sse(ok); });
  }
  write_sse(std::move(frames), false, [self = shared_from_this(), gen, st](bool ok) {
    if (ok) return self->flush_sse(gen, st);
    {
      std::lock_guard lock(st->mu);
      st->gone = true;
      st->flushing = false;
      st->queued.clear();
      st->room.notify_all();
    }
    // Unless the watchdog ended the stream (it writes the closing event and ends the
    // exchange), the client is gone: stop the call and end the exchange now, without writing
    // again to the broken socket.
    if (!self->current(gen) || self->sse_ended_) return;
    st->stop.request_stop();
    self->sse_ended_ = true;
    self->end_sse(false);
  });
}

void Session::after_sse_write(bool ok, bool last, std::function<void(bool)> done) {
  if (last || !final_frames_) return done(ok);
  // The watchdog ended the stream while this chunk was being written: tell the worker to stop,
  // then write the closing event.
  std::string frames = std::move(*final_frames_);
  final_frames_.reset();
  done(false);
  if (!ok) return end_sse(false);
  write_sse_body(std::move(frames), true, [self = shared_from_this()](bool ok2) { self->end_sse(ok2); });
}

void Session::end_sse(bool ok) { exchange_done(ok && keep_alive_ && !shared_.draining); }

void Session::exchange_done(bool keep_alive) {
  if (!busy_) return;
  busy_ = false;
  ++gen_;
  if (outcome_) record_.status = outcome_;
  take_labels();
  record_.latency = Clock::now() - t0_;
  if (shared_.hooks.finished) shared_.hooks.finished(record_);
  // The watchdog stays armed: the next deadline is the idle one, further out, and a timer
  // that fires early only re-arms (one timer update per connection now and then, rather
  // than three per request).
  beast::error_code ec;
  stream_.socket().cancel(ec);  // the disconnect watch
  if (closed_) return;
  if (!keep_alive || shared_.draining) return close();
  read_header();
}

// While a call runs, watch the socket: a peek that sees end-of-stream (or a reset) means the
// client is gone. A readiness report with nothing to read is stale (edge-triggered epoll
// reports data a read already took): wait again. Pipelined bytes end the watch.
void Session::watch_disconnect() {
  stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen = gen_](beast::error_code ec) {
    if (!self->current(gen) || ec == net::error::operation_aborted) return;
    if (ec) return void(self->state_->stop.request_stop());
    char byte;
    const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      return void(self->state_->stop.request_stop());
    if (n < 0) self->watch_disconnect();
  });
}

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
      message = who + " did not finish within the call's timeout (plus " + seconds(o.call_grace) + "); the call was abandoned";
      code = "call_timeout";
      break;
    case kRequest:
      message = "no response within the request timeout of " + seconds(o.request_timeout) + " (--request-timeout)";
      code = "request_timeout";
      break;
    case kStreamIdle:
      message = who + " sent nothing for " + seconds(o.stream_idle_timeout) + " (--stream-idle-timeout); the stream was ended";
      code = "stream_idle_timeout";
      break;
    case kStreamDuration:
      message = "the stream ran longer than " + seconds(o.max_stream_duration) + " (--max-stream-duration); it was ended";
      code = "stream_duration_exceeded";
      break;
  }
  outcome_ = 408;
  if (!responded_) return send(error_reply(408, message, {}, code));
  sse_ended_ = true;
  std::string frames = "data: " + error_json(408, message, {}, code) + "\n\ndata: [DONE]\n\n";
  if (writing_) {
    final_frames_ = std::move(frames);
    return;
  }
  write_sse_body(std::move(frames), true, [self = shared_from_this()](bool ok) { self->end_sse(ok); });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  stop_watchdog();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close_now();
  // Read (and drop) what the client still sends for a moment, so that a reply to a request
  // whose body was not read is not lost to a TCP reset.
  stream_.expires_after(std::chrono::seconds(2));
  linger(std::make_shared<std::array<char, 16384>>(), 64u << 20);
}

void Session::linger(std::shared_ptr<std::array<char, 16384>> sink, size_t budget) {
  stream_.async_read_some(net::buffer(*sink), [self = shared_from_this(), sink, budget](beast::error_code ec, size_t n) {
    if (ec || n >= budget) {
      beast::error_code ignored;
      self->stream_.socket().close(ignored);
      self->socket_closed();
      return;
    }
    self->linger(sink, budget - n);
  });
}

void Session::close_now() {
  closed_ = true;
  stop_watchdog();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  socket_closed();
}

void Session::socket_closed() {
  if (counted_out_) return;
  counted_out_ = true;
  shared_.open.fetch_sub(1);
}

}  // namespace llmhost::proxy
