#include "http/curl_pool.hpp"

#include <cstdlib>
#include <stdexcept>

namespace llmhost::detail::http {
namespace {

// Idle slots kept beyond this are closed: a burst of concurrency should not pin hundreds of
// sockets forever.
constexpr size_t kMaxIdleSlots = 64;

void close_slot(CurlSlot slot) {
  if (slot.multi) curl_multi_cleanup(slot.multi);  // closes the slot's cached connections
  if (slot.easy) curl_easy_cleanup(slot.easy);
}

}  // namespace

CurlPool::CurlPool() {
  // Thread-safe since libcurl 7.84; calling it here keeps the service usable without the
  // embedding program knowing about curl. Never paired with curl_global_cleanup, which is not
  // safe while other code in the process may still use curl.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  share_ = curl_share_init();
  if (!share_) throw std::runtime_error("curl_share_init failed");
  curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlPool::lock);
  curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlPool::unlock);
  curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

CurlPool::~CurlPool() {
  for (CurlSlot &slot : idle_) close_slot(slot);
  idle_.clear();
  curl_share_cleanup(share_);
}

CurlPool::Lease CurlPool::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CurlSlot slot = idle_.back();
      idle_.pop_back();
      return Lease(this, slot);
    }
  }
  CurlSlot slot{nullptr, curl_multi_init()};
  if (!slot.multi) throw std::runtime_error("libcurl could not create a handle");
  try {
    slot.easy = new_easy();
  } catch (...) {
    close_slot(slot);
    throw;
  }
  return Lease(this, slot);
}

CURL *CurlPool::new_easy() {
  CURL *easy = curl_easy_init();
  if (!easy) throw std::runtime_error("libcurl could not create a handle");
  // Set once for the handle's life: transfers never reset it (see transfer.cpp), so these hold
  // for every call on it.
  curl_easy_setopt(easy, CURLOPT_SHARE, share_);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "llmhost/0.1");
  // The CA overrides OpenSSL reads, and so the Asio client: Debian's libcurl has a CA bundle
  // compiled in and would look nowhere else.
  if (const char *file = std::getenv("SSL_CERT_FILE"); file && *file) curl_easy_setopt(easy, CURLOPT_CAINFO, file);
  if (const char *dir = std::getenv("SSL_CERT_DIR"); dir && *dir) curl_easy_setopt(easy, CURLOPT_CAPATH, dir);
  return easy;
}

void CurlPool::give_back(CurlSlot slot) {
  std::unique_lock lock(mu_);
  if (idle_.size() < kMaxIdleSlots) {
    idle_.push_back(slot);
    return;
  }
  lock.unlock();
  close_slot(slot);
}

void CurlPool::lock(CURL *, curl_lock_data data, curl_lock_access, void *user) {
  static_cast<CurlPool *>(user)->share_mu_[data].lock();
}

void CurlPool::unlock(CURL *, curl_lock_data data, void *user) {
  static_cast<CurlPool *>(user)->share_mu_[data].unlock();
}

}  // namespace llmhost::detail::http
