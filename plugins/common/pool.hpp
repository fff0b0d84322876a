// A mutex-guarded pool of reusable per-call scratch objects (JSON parsers and their buffers),
// one per provider instance.
//
// Why: constructing a simdjson parser costs about ten allocations, and a parser that has parsed
// a body keeps its buffers, so a reused one parses a body of the same size without allocating.
// Why not thread_local: glibc keeps a library mapped until every thread that touched one of its
// thread_locals with a destructor has exited, and the host's threads outlive any one build, so
// the plugin could never really be unloaded. Why per instance: calls on one instance run
// concurrently, and the pool must die with the instance that owns it.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace llmh_plugins {

// T: default-constructible, with `std::size_t retained_bytes() const noexcept`, the size of the
// largest input it is ready for (what it keeps hold of between calls is a small multiple).
template <class T>
class Pool {
 public:
  // One borrowed object; back to the pool when the lease ends.
  class Lease {
   public:
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    ~Lease() { pool_.give(std::move(obj_)); }
    T &operator*() const noexcept { return *obj_; }
    T *operator->() const noexcept { return obj_.get(); }

   private:
    friend class Pool;
    Lease(Pool &pool, std::unique_ptr<T> obj) noexcept : pool_(pool), obj_(std::move(obj)) {}
    Pool &pool_;
    std::unique_ptr<T> obj_;
  };

  // A pooled object, or a new one when all are in use.
  Lease take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<T> obj = std::move(free_.back());
        free_.pop_back();
        kept_bytes_ -= obj->retained_bytes();
        return Lease(*this, std::move(obj));
      }
    }
    return Lease(*this, std::make_unique<T>());
  }

 private:
  // Enough for the calls a busy instance usually runs at once; beyond that, objects given back
  // are freed, and a few huge bodies cannot make the pool hold on to much memory.
  static constexpr std::size_t kMaxKept = 64;
  static constexpr std::size_t kMaxKeptBytes = 4u << 20;

  void give(std::unique_ptr<T> obj) noexcept {
    const std::size_t bytes = obj->retained_bytes();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_.size() < kMaxKept && kept_bytes_ + bytes <= kMaxKeptBytes) {
        kept_bytes_ += bytes;
        free_.push_back(std::move(obj));  // capacity reserved up front: cannot throw
        return;
      }
    }
    obj.reset();  // not kept: freed outside the lock
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<T>> free_ = reserved();
  std::size_t kept_bytes_ = 0;

  static std::vector<std::unique_ptr<T>> reserved() {
    std::vector<std::unique_ptr<T>> v;
    v.reserve(kMaxKept);
    return v;
  }
};

}  // namespace llmh_plugins
