// One attempt of a call to an HTTP/1.1 upstream, carried by the Asio client on the event loop:
// a kept connection or a new one (resolve, connect and, for https, the TLS handshake under
// connect_timeout), the request written in one gather (head, then the caller's body as it is),
// and the response parsed from the connection's own buffer by a ResponseReader, its body handed
// to the BodySink as views. The attempt's timeout, a cancel and an abandon all end it by
// closing its connection.
//
// A kept connection the upstream closed while it sat idle fails before any byte of an answer
// arrives; the exchange then goes once more on a new connection, as curl and nginx do, and the
// caller sees nothing of it.
//
// Lifetime: shared, because the handlers of an ended attempt may still be queued when its
// owner goes; they hold the exchange, never the owner. Loop only, one attempt at a time.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/asio.hpp"
#include "http/body_sink.hpp"
#include "http/pending_handlers.hpp"
#include "http/response_reader.hpp"
#include "http/transfer.hpp"
#include "http/transfer_result.hpp"
#include "http/url.hpp"
#include "http/wire_pool.hpp"

namespace llmhost::detail::http {

class WireExchange : public std::enable_shared_from_this<WireExchange> {
 public:
  // How an attempt ends: on the loop, with what it got (`result` may be moved from).
  using DoneFn = void (*)(void *owner, TransferResult &result);

  // Connections come from and go back to `pool`; every wait is tracked in `pending`. Both must
  // outlive the exchange's handlers (the owner drains `pending` before destroying them).
  WireExchange(WirePool &pool, PendingHandlers &pending, DoneFn done, void *owner);

  // Starts an attempt of `spec` to `target`: done(owner, result) runs on the loop when it ends,
  // never inside start. `spec` and `target` (and what they view) must stay valid until then, or
  // until abandon(). Loop only, when no attempt is in flight.
  void start(const TransferSpec &spec, const WireTarget &target);
  // Ends the attempt in flight with `cancelled` set; its connection is closed (never reused
  // half-read). done still comes, from a handler. No-op when nothing is in flight. Loop only.
  void cancel();
  // Ends the attempt in flight without calling done: its owner is going away. Loop only.
  void abandon();
  bool in_flight() const { return busy_; }

 private:
  enum class Stop { kNone, kCancelled, kTimedOut, kAbandoned };
  using error_code = boost::system::error_code;

  void connect();
  void dial(const WirePool::Endpoints &endpoints);
  void dial_next();
  void handshake();
  void connected();
  void send();
  void receive();
  bool parse();
  void on_eof();
  bool stopped_meanwhile();
  void broken_before_answer(std::string cause);
  void complete(bool keep);
  void fail(Failure failure, std::string cause);
  void end();
  void release_connection(bool keep);
  void arm_timer(std::chrono::steady_clock::time_point at);
  void interrupt();
  void write_head(std::string &head) const;
  bool head_request() const { return spec_->method == "HEAD"; }

  WirePool &pool_;
  PendingHandlers &pending_;
  DoneFn done_;
  void *owner_;

  const TransferSpec *spec_ = nullptr;
  WireTarget target_;
  std::unique_ptr<WireConnection> conn_;
  std::optional<boost::asio::ip::tcp::resolver> resolver_;  // made at the first resolve
  WirePool::Endpoints endpoints_;                           // the addresses being dialled
  WirePool::Endpoints::iterator next_endpoint_;             // the one to try next
  boost::asio::steady_timer timer_;
  uint64_t armed_ = 0;  // which arming of timer_ a firing belongs to: a stale one is ignored
  std::chrono::steady_clock::time_point deadline_;
  std::optional<ResponseReader> reader_;
  TransferResult out_;
  BodySink body_;
  Stop stop_ = Stop::kNone;
  bool busy_ = false;
  bool connecting_ = false;
  bool reused_ = false;     // conn_ carried an exchange before this one
  bool got_bytes_ = false;  // some of the answer has arrived on conn_
};

}  // namespace llmhost::detail::http
