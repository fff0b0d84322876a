// One client connection: reading requests, dispatching them, writing replies and event
// streams, closing. The exchange's own object is in session_call.hpp, the watchdog in
// session_watchdog.cpp.
#include "proxy/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "proxy/response_head.hpp"
#include "proxy/session_call.hpp"

namespace llmhost::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

bool SessionShared::on_io_thread() const {
  for (const auto &loop : loops)
    if (loop.running_in_this_thread()) return true;
  return false;
}

Session::Session(Socket socket, SessionShared &shared, SessionLoop &loop)
    : stream_(std::move(socket)), shared_(shared), loop_(loop), watchdog_(stream_.get_executor()) {
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
  if (o.max_header_count) {
    const size_t fields = parser_->field_count();
    if (fields > o.max_header_count)
      return reject(431, "request has " + std::to_string(fields) + " header fields; the limit is " +
                             std::to_string(o.max_header_count));
  }
  const auto length = parser_->content_length();
  if (length && *length > o.max_body_bytes)
    return reject(413, "request body of " + std::to_string(*length) + " bytes is larger than the limit of " +
                           std::to_string(o.max_body_bytes) + " bytes");
  if (parser_->expects_continue()) {
    auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
    return net::async_write(stream_, net::buffer(*cont),
                            [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                              if (ec) return self->close_now();
                              self->read_body();
                            });
  }
  read_body();
}

void Session::read_body() {
  // A small body mostly arrives in the same read as its header. Parsed from the buffer here, it
  // takes no second read operation, whose completion Beast would post as one more handler.
  beast::error_code ec;
  while (!parser_->is_done() && buffer_.size() > 0) {
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) ec = {};
    if (ec || used == 0) break;
  }
  if (ec || parser_->is_done()) return on_body(ec, 0);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_body(ec, n); });
}

void Session::on_body(beast::error_code ec, size_t) {
  if (ec == http::error::body_limit)
    return reject(
        413, "request body is larger than the limit of " + std::to_string(shared_.options.max_body_bytes) + " bytes");
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
  RequestReader &req = *parser_;
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  Incoming in;
  in.method = req.method();
  const std::string_view target = req.target();
  in.path = target.substr(0, target.find('?'));
  in.authorization = req.authorization();
  // Kept only for a form (image edits): a JSON body's type would cost every request a copy.
  if (const std::string_view type = req.content_type(); type.size() >= 10 && type.substr(0, 10) == "multipart/")
    in.content_type = type;
  in.body = req.take_body();
  begin_exchange(in.method, in.path, in.body.size());
  io_deadline_ = Clock::time_point::max();  // a plugin call may take long: the exchange's deadlines apply
  loop_.watch_later(weak_from_this(), gen_);
  arm_watchdog();
  shared_.hooks.handle(std::make_shared<Call>(shared_from_this(), gen_, std::move(in), state_));
}

void Session::reject(int status, std::string message) {
  std::string method, path;
  if (parser_) {
    method = parser_->method();
    const std::string_view target = parser_->target();
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
  record_.usage = state_->usage;
}

void Session::on_call_started(double timeout_s) {
  if (timeout_s > 0) {
    const auto timeout =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::min(timeout_s, 1e7)));
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
  const bool keep_alive = keep_alive_ && !shared_.draining;
  begin_response_head(head_, r.status, version_, r.content_type);
  for (const auto &[name, value] : r.headers) add_response_field(head_, name, value);
  end_response_head(head_, version_, keep_alive, r.body.size());
  reply_body_ = std::move(r.body);
  io_by(shared_.options.idle_timeout);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(reply_body_)};
  net::async_write(stream_, buffers, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t n) {
    self->record_.bytes_out += n;
    std::string().swap(self->reply_body_);  // an idle connection keeps no answer (an embedding's may be MBs)
    self->exchange_done(!ec && keep_alive);
  });
}

// Writes `frames` as one HTTP chunk (after the header, in the same write, the first time);
// `last` adds the terminating chunk. One write in flight at a time: the worker waits for each,
// and the watchdog queues its closing event behind the one in flight (final_frames_).
void Session::write_sse(std::string frames, bool last, std::function<void(bool)> done) {
  responded_ = true;
  if (record_.status == 0) record_.status = 200;
  if (closed_) return done(false);
  if (!sse_started_) {
    sse_started_ = head_pending_ = true;
    begin_response_head(head_, 200, version_, "text/event-stream");
    add_response_field(head_, "Cache-Control", "no-cache");
    add_response_field(head_, "X-Accel-Buffering", "no");
    end_response_head(head_, version_, keep_alive_ && !shared_.draining, std::nullopt);
  }
  write_sse_body(std::move(frames), last, std::move(done));
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
  if (out_.empty() && !head_pending_) return after_sse_write(true, last, std::move(done));
  const std::array<net::const_buffer, 2> buffers{head_pending_ ? net::buffer(head_) : net::const_buffer(),
                                                 net::buffer(out_)};
  head_pending_ = false;
  writing_ = true;
  io_by(shared_.options.idle_timeout);
  net::async_write(stream_, buffers,
                   [self = shared_from_this(), last, done = std::move(done)](beast::error_code ec, size_t n) mutable {
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

// The client fell CallState::kMaxQueued behind an asynchronous plugin's stream (Call::stream):
// nothing more is written, the exchange is recorded as 408 and the connection closed.
void Session::drop_slow_stream() {
  if (sse_ended_) return;
  sse_ended_ = true;
  outcome_ = 408;
  exchange_done(false);
}

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
  if (std::exchange(watching_, false)) {
    beast::error_code ec;
    stream_.socket().cancel(ec);
  }
  if (closed_) return;
  if (!keep_alive || shared_.draining) return close();
  read_header();
}

void Session::watch_disconnect(uint64_t gen) {
  if (!current(gen) || closed_ || std::exchange(watching_, true)) return;
  watch();
}

// While a call runs, watch the socket: a peek that sees end-of-stream (or a reset) means the
// client is gone. A readiness report with nothing to read is stale (edge-triggered epoll
// reports data a read already took): wait again. Pipelined bytes end the watch. The wait (not
// a receive) also sees an end that came with the request: Asio re-arms the descriptor for it.
void Session::watch() {
  stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen = gen_](beast::error_code ec) {
    if (!self->current(gen) || ec == net::error::operation_aborted) return;
    if (ec) return void(self->state_->stop.request_stop());
    char byte;
    const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      return void(self->state_->stop.request_stop());
    if (n < 0) self->watch();
  });
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
  stream_.async_read_some(net::buffer(*sink),
                          [self = shared_from_this(), sink, budget](beast::error_code ec, size_t n) {
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
