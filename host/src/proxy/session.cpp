#include "proxy/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <future>

#include "proxy/openai_error.hpp"

namespace llmhost::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

Session::Session(tcp::socket socket, SessionShared &shared) : stream_(std::move(socket)), shared_(shared) {}

Session::~Session() {
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
    self->stop_.request_stop();
    self->close_now();
  });
}

void Session::read_header() {
  if (closed_) return;
  parser_.emplace();
  parser_->header_limit(shared_.options.max_header_bytes);
  parser_->body_limit(shared_.options.max_body_bytes);
  stream_.expires_after(shared_.options.idle_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

namespace {
bool is_http_error(const beast::error_code &ec) {
  return ec.category() == beast::error_code(http::error::bad_version).category();
}
}  // namespace

void Session::on_header(beast::error_code ec) {
  if (ec == http::error::header_limit) return reject(431, "request headers are larger than the limit");
  if (ec == http::error::body_limit)  // the Content-Length alone is over the limit
    return reject(413, "request body is larger than the limit of " + std::to_string(shared_.options.max_body_bytes) + " bytes");
  if (ec && is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return reject(400, std::string("malformed HTTP request: ") + ec.message());
  if (ec) return close_now();  // the client closed, went idle too long, or the socket failed
  const auto &h = parser_->get();
  const auto length = parser_->content_length();
  if (length && *length > shared_.options.max_body_bytes)
    return reject(413, "request body of " + std::to_string(*length) + " bytes is larger than the limit of " +
                           std::to_string(shared_.options.max_body_bytes) + " bytes");
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

// Starts an exchange: the record, the in-flight count, a fresh cancel source.
void Session::dispatch() {
  auto req = parser_->release();
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  in_ = Incoming{};
  in_.method = std::string(req.method_string());
  const std::string_view target = req.target();
  in_.path = std::string(target.substr(0, target.find('?')));
  in_.authorization = std::string(req[http::field::authorization]);
  in_.body = std::move(req.body());
  busy_ = true;
  ++gen_;
  stop_ = std::stop_source();
  outcome_ = 0;
  sse_started_ = false;
  record_ = Record{};
  record_.start = std::chrono::system_clock::now();
  record_.method = in_.method;
  record_.path = in_.path;
  record_.bytes_in = in_.body.size();
  t0_ = std::chrono::steady_clock::now();
  stream_.expires_never();  // a plugin call may take long; watch_disconnect covers the client
  if (shared_.hooks.started) shared_.hooks.started();
  watch_disconnect();
  shared_.hooks.handle(shared_from_this());
}

void Session::reject(int status, std::string message) {
  in_ = Incoming{};
  busy_ = true;
  ++gen_;
  record_ = Record{};
  record_.start = std::chrono::system_clock::now();
  if (parser_) {
    record_.method = std::string(parser_->get().method_string());
    const std::string_view target = parser_->get().target();
    record_.path = std::string(target.substr(0, target.find('?')));
  }
  t0_ = std::chrono::steady_clock::now();
  keep_alive_ = false;  // the rest of the request was not read
  if (shared_.hooks.started) shared_.hooks.started();
  send(error_reply(status, message));
}

void Session::label(std::string route, std::string model, std::string provider, bool stream) {
  record_.route = std::move(route);
  record_.model = std::move(model);
  record_.provider = std::move(provider);
  record_.stream = stream;
}

void Session::reply(Reply r) {
  net::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable { self->send(std::move(r)); });
}

void Session::send(Reply r) {
  record_.status = r.status;
  if (closed_) return exchange_done(false);
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
  res->set(http::field::server, "llmhost");
  res->set(http::field::content_type, r.content_type);
  for (auto &[k, v] : r.headers) res->set(k, v);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive_ && !shared_.draining);
  res->prepare_payload();
  stream_.expires_after(shared_.options.idle_timeout);
  http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t n) {
    self->record_.bytes_out += n;
    self->exchange_done(!ec && res->keep_alive());
  });
}

bool Session::stream(std::string frames) {
  auto done = std::make_shared<std::promise<bool>>();
  auto written = done->get_future();
  net::post(stream_.get_executor(), [self = shared_from_this(), frames = std::move(frames), done]() mutable {
    self->write_sse(std::move(frames), false, [done](bool ok) { done->set_value(ok); });
  });
  while (written.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
    if (shared_.stopped) return false;
  try {
    return written.get();
  } catch (const std::future_error &) {  // the I/O threads dropped the write at shutdown
    return false;
  }
}

void Session::end_stream(std::string frames) {
  net::post(stream_.get_executor(), [self = shared_from_this(), frames = std::move(frames)]() mutable {
    self->write_sse(std::move(frames), true, [self](bool ok) { self->exchange_done(ok && self->keep_alive_ && !self->shared_.draining); });
  });
}

// Writes `frames` as one HTTP chunk (after the header, the first time); `last` adds the
// terminating chunk. One write in flight at a time: the worker waits for each.
void Session::write_sse(std::string frames, bool last, std::function<void(bool)> done) {
  if (record_.status == 0) record_.status = 200;
  if (closed_) return done(false);
  if (!sse_started_) {
    sse_started_ = true;
    sse_head_.emplace(http::status::ok, version_);
    sse_head_->set(http::field::server, "llmhost");
    sse_head_->set(http::field::content_type, "text/event-stream");
    sse_head_->set(http::field::cache_control, "no-cache");
    sse_head_->set("X-Accel-Buffering", "no");
    sse_head_->keep_alive(keep_alive_ && !shared_.draining);
    sse_head_->chunked(true);
    sse_sr_.emplace(*sse_head_);
    stream_.expires_after(shared_.options.idle_timeout);
    return http::async_write_header(stream_, *sse_sr_,
        [self = shared_from_this(), frames = std::move(frames), last, done = std::move(done)](beast::error_code ec, size_t n) mutable {
          self->record_.bytes_out += n;
          if (ec) return done(false);
          self->write_sse(std::move(frames), last, std::move(done));
        });
  }
  out_.clear();
  if (!frames.empty()) {
    char size[20];
    out_.append(size, static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", frames.size())));
    out_ += frames;
    out_ += "\r\n";
  }
  if (last) out_ += "0\r\n\r\n";
  if (out_.empty()) return done(true);
  stream_.expires_after(shared_.options.idle_timeout);
  net::async_write(stream_, net::buffer(out_), [self = shared_from_this(), done = std::move(done)](beast::error_code ec, size_t n) {
    self->record_.bytes_out += n;
    done(!ec);
  });
}

void Session::exchange_done(bool keep_alive) {
  if (!busy_) return;
  busy_ = false;
  ++gen_;
  if (const int o = outcome_.load()) record_.status = o;
  record_.latency = std::chrono::steady_clock::now() - t0_;
  if (shared_.hooks.finished) shared_.hooks.finished(record_);
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
    if (gen != self->gen_ || !self->busy_ || ec == net::error::operation_aborted) return;
    if (ec) return void(self->stop_.request_stop());
    char byte;
    const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return void(self->stop_.request_stop());
    if (n < 0) self->watch_disconnect();
  });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
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
      return;
    }
    self->linger(sink, budget - n);
  });
}

void Session::close_now() {
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace llmhost::proxy
