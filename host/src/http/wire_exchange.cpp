#include "http/wire_exchange.hpp"

#include <strings.h>

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

namespace llmhost::detail::http {
namespace {

using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// One read's room: an SSE event or a typical JSON answer in one read, and a large body in
// few. Only the pages a read touches count in memory, so an idle stream costs little of it.
constexpr size_t kReadSize = 16 * 1024;
constexpr std::string_view kUserAgent = "llmhost/0.1";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One line of the call's header list, which HttpCall lays out for curl: "Name: value",
// "Name;" (an empty value) or "Name:" (curl's "do not send this header").
struct HeaderLine {
  std::string_view name, value;
  bool suppress = false;
};

HeaderLine split(std::string_view line) {
  HeaderLine h;
  const size_t end = llmh::find_any(line, ":;");
  h.name = line.substr(0, end);
  if (end == std::string_view::npos) return h;
  h.value = line.substr(end + 1);
  while (!h.value.empty() && h.value.front() == ' ') h.value.remove_prefix(1);
  h.suppress = line[end] == ':' && h.value.empty();
  return h;
}

}  // namespace

WireExchange::WireExchange(WirePool &pool, PendingHandlers &pending, DoneFn done, void *owner)
    : pool_(pool), pending_(pending), done_(done), owner_(owner), timer_(pool.executor()) {}

void WireExchange::start(const TransferSpec &spec, const WireTarget &target) {
  spec_ = &spec;
  target_ = target;
  out_ = TransferResult{};
  out_.headers.reserve(16);  // a typical response's, in one allocation
  body_.begin(spec.on_line, spec.user, out_);
  stop_ = Stop::kNone;
  busy_ = true;
  deadline_ = Clock::now() + spec.timeout;
  conn_ = pool_.take(target.authority);
  if (!conn_) return connect();
  reused_ = true;
  got_bytes_ = false;
  connecting_ = false;
  arm_timer(deadline_);
  send();
}

void WireExchange::cancel() {
  if (!busy_ || stop_ != Stop::kNone) return;
  stop_ = Stop::kCancelled;
  interrupt();
}

void WireExchange::abandon() {
  if (!busy_) return;
  stop_ = Stop::kAbandoned;
  interrupt();
}

void WireExchange::interrupt() {
  // The pending operation completes as aborted; its handler sees stop_ and ends the attempt.
  error_code ignored;
  timer_.cancel();
  if (resolver_) resolver_->cancel();
  if (conn_) conn_->socket().close(ignored);
}

void WireExchange::arm_timer(Clock::time_point at) {
  timer_.expires_at(at);  // a wait still pending completes as aborted
  timer_.async_wait(
      pending_.tracked([self = shared_from_this(), armed = ++armed_](const boost::system::error_code &ec) {
        // A firing already queued when the timer was re-armed belongs to an earlier arming.
        if (ec || armed != self->armed_ || !self->busy_ || self->stop_ != Stop::kNone) return;
        self->stop_ = Stop::kTimedOut;
        self->interrupt();
      }));
}

// Called first by every handler: true when the attempt was stopped from outside while the
// operation ran (and has now been ended accordingly).
bool WireExchange::stopped_meanwhile() {
  switch (stop_) {
    case Stop::kNone: return false;
    case Stop::kCancelled:
      out_.cancelled = true;
      complete(false);
      return true;
    case Stop::kTimedOut:
      fail(Failure::kTimeout, connecting_ ? "connection timed out" : "timed out waiting for the response");
      return true;
    case Stop::kAbandoned:
      // The owner and what spec_ and target_ view are gone: touch none of it.
      release_connection(false);
      busy_ = false;
      return true;
  }
  return false;
}

void WireExchange::connect() {
  reused_ = false;
  got_bytes_ = false;
  connecting_ = true;
  try {
    conn_ = pool_.fresh(target_.tls, target_.authority);
  } catch (const std::exception &e) {
    return fail(Failure::kBroken, std::string("the TLS settings could not be loaded: ") + e.what());
  }
  arm_timer(std::min(Clock::now() + spec_->connect_timeout, deadline_));
  if (const WirePool::Endpoints *known = pool_.addresses(target_.authority)) return dial(*known);
  if (!resolver_) resolver_.emplace(pool_.executor());
  resolver_->async_resolve(
      target_.host, target_.port,
      pending_.tracked([self = shared_from_this()](const error_code &ec, WirePool::Endpoints endpoints) {
        if (self->stopped_meanwhile()) return;
        if (ec) return self->fail(Failure::kConnect, "could not resolve the host: " + ec.message());
        self->pool_.remember(self->target_.authority, endpoints);
        self->dial(endpoints);
      }));
}

// The addresses in turn, as curl tries them. Asio's range connect would do the same, but it
// reports a socket it could not open (out of descriptors, say) as "Operation canceled"; here
// the operator reads the real cause.
void WireExchange::dial(const WirePool::Endpoints &endpoints) {
  endpoints_ = endpoints;  // shares the resolver's list: no copy
  next_endpoint_ = endpoints_.begin();
  if (next_endpoint_ == endpoints_.end()) return fail(Failure::kConnect, "the host has no address");
  dial_next();
}

void WireExchange::dial_next() {
  const tcp::endpoint to = *next_endpoint_++;
  tcp::socket &socket = conn_->socket();
  error_code ec;
  socket.close(ec);
  if (socket.open(to.protocol(), ec)) return fail(Failure::kConnect, "could not open a socket: " + ec.message());
  socket.async_connect(to, pending_.tracked([self = shared_from_this()](const error_code &ec) {
    if (self->stopped_meanwhile()) return;
    if (ec) {
      if (self->next_endpoint_ != self->endpoints_.end()) return self->dial_next();
      return self->fail(Failure::kConnect, ec.message());
    }
    error_code ignored;
    self->conn_->socket().set_option(tcp::no_delay(true), ignored);
    self->conn_->socket().set_option(boost::asio::socket_base::keep_alive(true), ignored);
    if (self->conn_->tls()) return self->handshake();
    self->connected();
  }));
}

// TLS under the connect timeout, as curl counts it: the server's name sent (SNI) and checked
// against its certificate, which must chain to a trusted root.
void WireExchange::handshake() {
  WireConnection::Tls &tls = *conn_->tls();
  const std::string host(target_.host);
  error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  // RFC 6066: a name, never an address literal (curl sends none for one either).
  if (not_ip && !SSL_set_tlsext_host_name(tls.native_handle(), host.c_str()))
    return fail(Failure::kBroken, "TLS: the server name could not be set");
  tls.set_verify_callback(boost::asio::ssl::host_name_verification(host));
  tls.async_handshake(boost::asio::ssl::stream_base::client,
                      pending_.tracked([self = shared_from_this()](const error_code &ec) {
                        if (self->stopped_meanwhile()) return;
                        if (ec) return self->fail(Failure::kBroken, "TLS handshake failed: " + ec.message());
                        self->connected();
                      }));
}

void WireExchange::connected() {
  connecting_ = false;
  arm_timer(deadline_);
  send();
}

void WireExchange::send() {
  write_head(conn_->head);
  const std::array<boost::asio::const_buffer, 2> request{boost::asio::buffer(conn_->head),
                                                         boost::asio::buffer(spec_->body)};
  conn_->with_stream([&](auto &stream) {
    boost::asio::async_write(stream, request,
                             pending_.tracked([self = shared_from_this()](const error_code &ec, size_t) {
                               if (self->stopped_meanwhile()) return;
                               if (ec) return self->broken_before_answer("sending the request failed: " + ec.message());
                               self->reader_.emplace(self->out_, self->body_, self->head_request());
                               self->receive();
                             }));
  });
}

void WireExchange::receive() {
  if (parse()) return;
  conn_->with_stream([&](auto &stream) {
    stream.async_read_some(conn_->buffer.prepare(kReadSize),
                           pending_.tracked([self = shared_from_this()](const error_code &ec, size_t n) {
                             if (self->stopped_meanwhile()) return;
                             // A TLS peer that closes without close_notify (most do) ends the stream as truncated.
                             if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated)
                               return self->on_eof();
                             if (ec)
                               return self->broken_before_answer("receiving the response failed: " + ec.message());
                             self->conn_->buffer.commit(n);
                             self->got_bytes_ = true;
                             self->receive();
                           }));
  });
}

// Feeds what is buffered to the reader; true when that ended the attempt.
bool WireExchange::parse() {
  error_code ec;
  switch (ResponseReader::feed(reader_, conn_->buffer, ec)) {
    case ResponseReader::Parsed::kNeedMore: return false;
    case ResponseReader::Parsed::kDone: complete(reader_->keep_alive() && conn_->buffer.size() == 0); break;
    case ResponseReader::Parsed::kStopped:
      if (out_.too_large) {
        fail(Failure::kBroken, "the response body is too large");
      } else {
        complete(false);  // on_line said stop: a complete answer as far as the caller cares
      }
      break;
    case ResponseReader::Parsed::kMalformed:
      fail(Failure::kBroken, "the response is malformed: " + ec.message());
      break;
  }
  return true;
}

void WireExchange::on_eof() {
  // Beast reads an end before any byte as a complete empty message: it is no answer at all.
  if (!reader_->got_some()) return broken_before_answer("the upstream closed the connection without answering");
  error_code ec;
  if (reader_->closed(ec) == ResponseReader::Parsed::kDone) return complete(false);  // a body that ends at the close
  fail(Failure::kBroken, "the upstream closed the connection before the response ended");
}

void WireExchange::broken_before_answer(std::string cause) {
  if (reused_ && !got_bytes_) {
    // The upstream closed the kept connection while it was idle: once more, on a new one.
    release_connection(false);
    return connect();
  }
  fail(Failure::kBroken, std::move(cause));
}

void WireExchange::complete(bool keep) {
  if (!out_.cancelled && !out_.consumer_stop) body_.end();  // on_line may still say stop: fine
  release_connection(keep);
  end();
}

void WireExchange::fail(Failure failure, std::string cause) {
  out_.failure = failure;
  out_.cause = std::move(cause);
  release_connection(false);
  end();
}

void WireExchange::end() {
  timer_.cancel();
  reader_.reset();
  busy_ = false;
  done_(owner_, out_);  // may start the next attempt, or let the owner go
}

void WireExchange::release_connection(bool keep) {
  if (!conn_) return;
  if (keep) return pool_.keep(target_.authority, std::move(conn_));
  error_code ignored;
  conn_->socket().close(ignored);
  conn_.reset();
}

void WireExchange::write_head(std::string &head) const {
  const TransferSpec &s = *spec_;
  bool host = false, agent = false, accept = false, type = false;
  for (const curl_slist *n = s.headers; n; n = n->next) {
    const HeaderLine h = split(n->data);
    host |= iequals(h.name, "host");
    agent |= iequals(h.name, "user-agent");
    accept |= iequals(h.name, "accept");
    type |= iequals(h.name, "content-type");
  }
  head.clear();
  head.append(s.method).append(" ");
  if (target_.target.empty() || target_.target.front() != '/') head.push_back('/');
  head.append(target_.target).append(" HTTP/1.1\r\n");
  // curl's defaults, so that an upstream sees the same request from either client; a header
  // the plugin names replaces (or, as "Name:", removes) the default.
  if (!host) head.append("Host: ").append(target_.authority).append("\r\n");
  if (!agent) head.append("User-Agent: ").append(kUserAgent).append("\r\n");
  if (!accept) head.append("Accept: */*\r\n");
  for (const curl_slist *n = s.headers; n; n = n->next) {
    const HeaderLine h = split(n->data);
    if (h.suppress || iequals(h.name, "content-length")) continue;  // the length is the body's
    head.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (s.method != "GET") {
    if (!type) head.append("Content-Type: application/x-www-form-urlencoded\r\n");
    head.append("Content-Length: ").append(std::to_string(s.body.size())).append("\r\n");
  }
  head.append("\r\n");
}

}  // namespace llmhost::detail::http
