#include "http/wire_pool.hpp"

#include <openssl/ssl.h>

#include <algorithm>

namespace llmhost::detail::http {
namespace {

using Clock = std::chrono::steady_clock;

// Under the idle timeouts of common upstreams (nginx 75 s, Node 5 s is the outlier: a reused
// connection it closed is retried on a new one by the exchange).
constexpr auto kIdleFor = std::chrono::seconds(60);
// Kept per origin at most: past the concurrency of a busy gateway, with room for bursts.
constexpr size_t kIdleCap = 1024;
constexpr auto kAddressesFor = std::chrono::seconds(60);  // curl's DNS cache timeout

// Our slots in OpenSSL's per-object data: the pool on its context, the connection on each of
// its streams (Asio keeps its verify callback in the "app data" slot of both).
int context_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}
int stream_slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

}  // namespace

WirePool::Origin &WirePool::origin(std::string_view name) {
  auto it = origins_.find(name);
  if (it == origins_.end()) it = origins_.emplace(std::string(name), Origin{}).first;
  return it->second;
}

std::unique_ptr<WireConnection> WirePool::take(std::string_view name) {
  auto it = origins_.find(name);
  if (it == origins_.end() || it->second.idle.empty()) return nullptr;
  std::vector<std::unique_ptr<WireConnection>> &idle = it->second.idle;
  if (Clock::now() - idle.back()->idle_since >= kIdleFor) {  // the newest is stale: all are
    idle.clear();
    return nullptr;
  }
  std::unique_ptr<WireConnection> c = std::move(idle.back());
  idle.pop_back();
  return c;
}

void WirePool::keep(std::string_view name, std::unique_ptr<WireConnection> c) {
  if (closed_) return;  // destroying `c` closes it
  std::vector<std::unique_ptr<WireConnection>> &idle = origin(name).idle;
  const Clock::time_point now = Clock::now();
  // Oldest first: the stale ones are a prefix.
  const auto fresh =
      std::find_if(idle.begin(), idle.end(), [&](const auto &k) { return now - k->idle_since < kIdleFor; });
  idle.erase(idle.begin(), fresh);
  if (idle.size() >= kIdleCap) idle.erase(idle.begin());
  c->idle_since = now;
  idle.push_back(std::move(c));
}

const WirePool::Endpoints *WirePool::addresses(std::string_view name) {
  auto it = origins_.find(name);
  if (it == origins_.end() || it->second.endpoints.empty()) return nullptr;
  if (Clock::now() - it->second.resolved_at >= kAddressesFor) return nullptr;
  return &it->second.endpoints;
}

void WirePool::remember(std::string_view name, Endpoints endpoints) {
  Origin &o = origin(name);
  o.endpoints = std::move(endpoints);
  o.resolved_at = Clock::now();
}

std::unique_ptr<WireConnection> WirePool::fresh(bool tls, std::string_view name) {
  auto c = std::make_unique<WireConnection>(executor_, tls ? &tls_settings() : nullptr, name);
  if (!tls) return c;
  SSL *ssl = c->tls()->native_handle();
  SSL_set_ex_data(ssl, stream_slot(), c.get());
  auto it = origins_.find(name);
  if (it != origins_.end() && it->second.session) SSL_set_session(ssl, it->second.session.get());
  return c;
}

int WirePool::on_new_session(SSL *ssl, SSL_SESSION *session) {
  auto *pool = static_cast<WirePool *>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_slot()));
  const auto *c = static_cast<const WireConnection *>(SSL_get_ex_data(ssl, stream_slot()));
  if (!pool || !c || pool->closed_) return 0;
  // A copy: OpenSSL marks the connection's own session not resumable when the connection ends
  // in an error, and an upstream that closes without close_notify (most do) ends in one.
  if (SSL_SESSION *copy = SSL_SESSION_dup(session)) pool->origin(c->origin).session.reset(copy);
  return 0;  // OpenSSL keeps its reference
}

boost::asio::ssl::context &WirePool::tls_settings() {
  if (!tls_) {
    boost::asio::ssl::context c(boost::asio::ssl::context::tls_client);
    c.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                  boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                  boost::asio::ssl::context::no_tlsv1_1);
    c.set_verify_mode(boost::asio::ssl::verify_peer);
    c.set_default_verify_paths();
    tls_.emplace(std::move(c));
    // Client-side session caching, the sessions kept by origin here rather than by OpenSSL
    // (whose internal store is keyed for servers).
    SSL_CTX *ctx = tls_->native_handle();
    SSL_CTX_set_ex_data(ctx, context_slot(), this);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &WirePool::on_new_session);
  }
  return *tls_;
}

void WirePool::close() {
  closed_ = true;
  origins_.clear();
}

}  // namespace llmhost::detail::http
