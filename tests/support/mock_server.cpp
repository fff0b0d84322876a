#include "mock_server.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace test::http {
namespace {

const char *reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads one request from `link` into `req`, using and refilling `buf`. False on EOF or error.
bool read_request(const Link &link, std::string &buf, HttpRequest &req) {
  char tmp[16384];
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const long n = link.recv(tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
  const std::string head = buf.substr(0, head_end);
  buf.erase(0, head_end + 4);
  size_t pos = head.find("\r\n");
  const std::string line = head.substr(0, pos);
  const size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string::npos || s2 == s1) return false;
  req.method = line.substr(0, s1);
  req.target = line.substr(s1 + 1, s2 - s1 - 1);
  req.version = line.substr(s2 + 1);
  while (pos != std::string::npos) {
    const size_t start = pos + 2;
    pos = head.find("\r\n", start);
    const std::string h = head.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    const size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    size_t v = colon + 1;
    while (v < h.size() && h[v] == ' ') ++v;
    req.headers[lower(h.substr(0, colon))] = h.substr(v);
  }
  const size_t length = std::stoul(req.header("content-length").empty() ? "0" : req.header("content-length"));
  while (buf.size() < length) {
    const long n = link.recv(tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
  req.body = buf.substr(0, length);
  buf.erase(0, length);
  return true;
}

// The server side of every TLS mock: the key and the self-signed certificate of tls_ca_file().
struct TlsIdentity {
  EVP_PKEY *key = nullptr;
  X509 *cert = nullptr;
  SSL_CTX *ctx = nullptr;
  std::string ca_file;

  TlsIdentity() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    if (!key || !cert) throw std::runtime_error("OpenSSL could not make a test key");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("llmhost test"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    for (const auto &[nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                                     std::pair{NID_key_usage, "digitalSignature,keyCertSign"}}) {
      X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
      if (!ext) throw std::runtime_error("OpenSSL could not make a test certificate extension");
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("OpenSSL could not sign a test certificate");
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
      throw std::runtime_error("OpenSSL could not make the mock's TLS context");
    ca_file =
        (std::filesystem::temp_directory_path() / ("llmhost-test-ca-" + std::to_string(::getpid()) + ".pem")).string();
    FILE *f = std::fopen(ca_file.c_str(), "w");
    if (!f || PEM_write_X509(f, cert) != 1) throw std::runtime_error("could not write " + ca_file);
    std::fclose(f);
  }
  ~TlsIdentity() {
    std::remove(ca_file.c_str());
    SSL_CTX_free(ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TlsIdentity &tls_identity() {
  static TlsIdentity identity;
  return identity;
}

}  // namespace

long Link::recv(char *into, size_t n) const {
  if (tls) return SSL_read(tls, into, static_cast<int>(n));
  return ::recv(fd, into, n, 0);
}

long Link::send(const char *from, size_t n) const {
  if (tls) return SSL_write(tls, from, static_cast<int>(n));
  return ::send(fd, from, n, MSG_NOSIGNAL);
}

const std::string &MockServer::tls_ca_file() { return tls_identity().ca_file; }

bool Conn::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const long n = link_.send(bytes.data(), bytes.size());
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Conn::respond(int status, std::string_view body, std::vector<std::string> extra_headers,
                   std::string_view content_type) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close_) out += "Connection: close\r\n";
  for (const std::string &h : extra_headers) out += h + "\r\n";
  out += "\r\n";
  out += body;
  return send(out);
}

bool Conn::begin_chunked(int status, std::string_view content_type) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\nTransfer-Encoding: chunked\r\n";
  if (close_) out += "Connection: close\r\n";
  out += "\r\n";
  return send(out);
}

bool Conn::chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the body
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return send(std::string(size) + std::string(data) + "\r\n");
}

bool Conn::end_chunked() { return send("0\r\n\r\n"); }

bool Conn::wait_peer_close(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  char tmp[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{link_.fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    if (r > 0) {
      const long n = link_.recv(tmp, sizeof tmp);
      if (n <= 0) return true;  // EOF or reset: the peer is gone
    }
  }
}

MockServer::MockServer(Handler handler, Transport transport)
    : handler_(std::move(handler)), tls_(transport == Transport::kTls) {
  if (tls_) tls_identity();  // made here, not in a connection thread
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
    throw std::runtime_error(std::string("bind/listen failed: ") + std::strerror(errno));
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

MockServer::~MockServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks reads in connection threads
  }
  for (std::thread &t : threads_) t.join();
}

std::vector<HttpRequest> MockServer::requests() const {
  std::lock_guard lock(mu_);
  return seen_;
}

void MockServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // splits reach the client as sent
    const int id = ++accepted_;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, id] { serve(fd, id); });
  }
}

void MockServer::serve(int fd, int id) {
  Link link{fd, nullptr};
  if (tls_) {
    link.tls = SSL_new(tls_identity().ctx);
    if (link.tls) SSL_set_fd(link.tls, fd);
  }
  // A client that gives up on the handshake (an untrusted certificate) ends the connection here.
  const bool ready = !tls_ || (link.tls && SSL_accept(link.tls) == 1);
  if (ready && link.tls && SSL_session_reused(link.tls)) ++tls_resumed_;
  std::string buf;
  for (;;) {
    HttpRequest req;
    if (!ready || stopping_ || !read_request(link, buf, req)) break;
    req.connection = id;
    ++requests_;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(req);
    }
    Conn conn(link);
    handler_(req, conn);
    if (conn.closing()) break;
  }
  SSL_free(link.tls);  // NULL for plain
  std::lock_guard lock(mu_);
  fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  ::close(fd);
}

RefusedPort::RefusedPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(fd_ >= 0);
  REQUIRE(::bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
}

RefusedPort::~RefusedPort() { ::close(fd_); }

}  // namespace test::http
