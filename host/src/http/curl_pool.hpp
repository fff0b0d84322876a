// Pooled libcurl handles. Each pooled connection slot is an easy handle driven by its own multi
// handle; the multi keeps the slot's connection cache, so a slot reused for the next call
// reuses its keep-alive connection. Slots are handed out last-in first-out, which makes N
// sequential calls from any threads land on one slot and one TCP connection, while concurrent
// calls each get a slot of their own. The DNS cache is shared between all slots. A slot's easy
// handle keeps the options every call shares (share handle, protocols, keep-alive, user agent)
// from its creation on.
//
// The connection cache itself is not put in the curl share handle: libcurl documents that
// sharing connections between concurrent threads that way is not safe.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <vector>

namespace llmhost::detail::http {

struct CurlSlot {
  CURL *easy = nullptr;
  CURLM *multi = nullptr;
};

class CurlPool {
 public:
  CurlPool();
  ~CurlPool();
  CurlPool(const CurlPool &) = delete;
  CurlPool &operator=(const CurlPool &) = delete;

  // A slot on loan; goes back to the pool when destroyed. Use from one thread at a time.
  class Lease {
   public:
    Lease(CurlPool *pool, CurlSlot slot) : pool_(pool), slot_(slot) {}
    Lease(Lease &&other) noexcept : pool_(other.pool_), slot_(other.slot_) { other.pool_ = nullptr; }
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    Lease &operator=(Lease &&) = delete;
    ~Lease() {
      if (pool_) pool_->give_back(slot_);
    }
    const CurlSlot &slot() const { return slot_; }

   private:
    CurlPool *pool_;
    CurlSlot slot_;
  };

  // Takes an idle slot (the most recently returned) or makes a new one. Throws
  // std::runtime_error when libcurl cannot make handles. Any thread.
  Lease acquire();

  // A new easy handle with the options every call shares (this pool's DNS cache included), for
  // a caller that drives it on a multi handle of its own (async_client.cpp); the caller cleans
  // it up, before this pool is destroyed. Throws std::runtime_error. Any thread.
  CURL *new_easy();

 private:
  void give_back(CurlSlot slot);
  static void lock(CURL *, curl_lock_data data, curl_lock_access, void *user);
  static void unlock(CURL *, curl_lock_data data, void *user);

  CURLSH *share_ = nullptr;
  std::mutex share_mu_[CURL_LOCK_DATA_LAST];
  std::mutex mu_;
  std::vector<CurlSlot> idle_;  // guarded by mu_
};

}  // namespace llmhost::detail::http
