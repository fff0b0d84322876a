// A real HTTP/1.1 server on 127.0.0.1 for the HTTP service and openai provider tests: plain
// sockets (or TLS over them, with OpenSSL), one thread per connection, keep-alive, and a
// scripted handler per request that can answer in one piece, stream in chunks with delays,
// hang, or close. Counts what it saw.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct ssl_st;

namespace test::http {

struct HttpRequest {
  std::string method, target, version;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int connection = 0;  // which accepted connection (1-based) carried it
  std::string header(const std::string &lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One accepted connection's byte stream: the socket, or TLS over it.
struct Link {
  int fd = -1;
  ssl_st *tls = nullptr;  // OpenSSL's SSL, when the server speaks TLS
  long recv(char *into, size_t n) const;
  long send(const char *from, size_t n) const;
};

// The connection a handler answers on. Writes report false once the peer has gone.
class Conn {
 public:
  explicit Conn(Link link) : link_(link) {}
  // Writes raw bytes.
  bool send(std::string_view bytes);
  // A complete response with Content-Length. `extra_headers` are full lines without CRLF.
  bool respond(int status, std::string_view body, std::vector<std::string> extra_headers = {},
               std::string_view content_type = "application/json");
  // Starts a chunked response (SSE by default); then chunk()... and end_chunked().
  bool begin_chunked(int status = 200, std::string_view content_type = "text/event-stream");
  bool chunk(std::string_view data);  // one chunk; empty data is skipped
  bool end_chunked();
  // Closes the connection after this request (the next read sees EOF).
  void close_after() { close_ = true; }
  // Blocks until the peer closes the connection or `timeout` passes; true when it closed.
  bool wait_peer_close(std::chrono::milliseconds timeout);
  bool closing() const { return close_; }

 private:
  Link link_;
  bool close_ = false;
};

enum class Transport { kPlain, kTls };

class MockServer {
 public:
  using Handler = std::function<void(const HttpRequest &, Conn &)>;
  // kTls: HTTPS with the certificate in tls_ca_file().
  explicit MockServer(Handler handler, Transport transport = Transport::kPlain);
  ~MockServer();
  MockServer(const MockServer &) = delete;
  MockServer &operator=(const MockServer &) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (https:// for kTls)
  std::string origin() const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  // origin() + "/v1"
  std::string base_url() const { return origin() + "/v1"; }

  // The self-signed certificate every TLS mock of this process presents, for 127.0.0.1 and
  // localhost, as a PEM file: trust it with SSL_CERT_FILE. Made at the first use.
  static const std::string &tls_ca_file();
  int accepted() const { return accepted_.load(); }
  // TLS connections whose handshake resumed a session the server had given before.
  int tls_resumed() const { return tls_resumed_.load(); }
  int request_count() const { return requests_.load(); }
  std::vector<HttpRequest> requests() const;

 private:
  void accept_loop();
  void serve(int fd, int id);

  Handler handler_;
  bool tls_ = false;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> tls_resumed_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<HttpRequest> seen_;
  std::vector<int> fds_;  // open connection sockets, to shut down on stop
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// A port on 127.0.0.1 that refuses connections: held by a bound socket that never listens, so
// that no other test (ctest -j) can take it while this lives.
class RefusedPort {
 public:
  RefusedPort();
  ~RefusedPort();
  RefusedPort(const RefusedPort &) = delete;
  RefusedPort &operator=(const RefusedPort &) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace test::http
