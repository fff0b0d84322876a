// The Asio client's keep-alive connections and resolved addresses, per origin (the URL's
// scheme://host[:port]), and its TLS settings. A connection that carried a complete exchange
// waits here for the next call to the same origin, most recently used first; addresses are
// kept for a minute, as curl's DNS cache keeps them. Everything here runs on the client's
// executor ("loop only").
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/asio.hpp"

namespace llmhost::detail::http {

// One connection, TCP or TLS over TCP, and the buffers its exchanges reuse, so that a kept
// connection costs no allocation per call.
class WireConnection {
 public:
  using Tls = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  // A TLS connection when `tls` is given (its settings must outlive the connection), to
  // `origin`.
  WireConnection(const boost::asio::any_io_executor &executor, boost::asio::ssl::context *tls, std::string_view origin)
      : origin(origin) {
    if (tls) {
      tls_.emplace(executor, *tls);
    } else {
      tcp_.emplace(executor);
    }
  }

  // The TCP socket under it all: connect, options, close.
  boost::asio::ip::tcp::socket &socket() { return tls_ ? tls_->next_layer() : *tcp_; }
  // The TLS stream, or null for plain TCP.
  Tls *tls() { return tls_ ? &*tls_ : nullptr; }
  // Calls f(stream) with the stream that carries HTTP: the TLS stream or the socket.
  template <class F>
  void with_stream(F &&f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }

  boost::beast::flat_buffer buffer;  // read and not yet parsed
  std::string head;                  // the request head being sent
  std::chrono::steady_clock::time_point idle_since;
  const std::string origin;  // whose TLS sessions it takes and gives (WirePool::fresh)

 private:
  std::optional<boost::asio::ip::tcp::socket> tcp_;
  std::optional<Tls> tls_;
};

class WirePool {
 public:
  using Endpoints = boost::asio::ip::tcp::resolver::results_type;

  explicit WirePool(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  const boost::asio::any_io_executor &executor() const { return executor_; }

  // The most recently kept connection to `origin`, or null. Loop only.
  std::unique_ptr<WireConnection> take(std::string_view origin);
  // A connection to `origin` not yet connected, with TLS for `tls`: then offering the TLS
  // session `origin` last gave, so that the handshake resumes it (no key exchange, no
  // certificate chain), as curl and nginx's proxy_ssl_session_reuse do; a server that
  // declines makes it a full handshake. Sessions are kept per origin (host and port), never
  // offered to another. Throws what loading the TLS settings throws
  // (boost::system::system_error). Loop only.
  std::unique_ptr<WireConnection> fresh(bool tls, std::string_view origin);
  // Keeps `c`, which has just carried a complete exchange and has nothing left to read, for the
  // next call to `origin`. Connections idle for long are closed here, since an upstream closes
  // them on its own side anyway (nginx after 75 s). Loop only.
  void keep(std::string_view origin, std::unique_ptr<WireConnection> c);

  // The addresses `origin` resolved to less than a minute ago, or null. Loop only.
  const Endpoints *addresses(std::string_view origin);
  void remember(std::string_view origin, Endpoints endpoints);

  // Closes every kept connection; later keep() calls close theirs. Loop only.
  void close();

  // Where TLS certificates are verified against: OpenSSL's default store (on Debian
  // /etc/ssl/certs), or SSL_CERT_FILE / SSL_CERT_DIR, which OpenSSL reads; loaded at the first
  // https call, not when the service starts.
  boost::asio::ssl::context &tls_settings();

 private:
  struct SessionFree {
    void operator()(SSL_SESSION *s) const { SSL_SESSION_free(s); }
  };
  struct Origin {
    std::vector<std::unique_ptr<WireConnection>> idle;  // oldest first
    Endpoints endpoints;
    std::chrono::steady_clock::time_point resolved_at{};
    std::unique_ptr<SSL_SESSION, SessionFree> session;  // the last one its server gave
  };
  // OpenSSL's new-session callback: keeps the session for the connection's origin.
  static int on_new_session(SSL *ssl, SSL_SESSION *session);
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Origin &origin(std::string_view name);

  boost::asio::any_io_executor executor_;
  std::optional<boost::asio::ssl::context> tls_;
  std::unordered_map<std::string, Origin, Hash, std::equal_to<>> origins_;
  bool closed_ = false;
};

}  // namespace llmhost::detail::http
