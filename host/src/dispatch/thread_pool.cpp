#include "dispatch/thread_pool.hpp"

#include <algorithm>

namespace llmhost::detail {

ThreadPool::ThreadPool(unsigned min_threads, unsigned max_threads, std::chrono::milliseconds idle_exit)
    : min_(std::max(1u, min_threads)), max_(std::max(min_, max_threads)), idle_exit_(idle_exit) {
  std::lock_guard lock(mu_);
  for (unsigned i = 0; i < min_; ++i) start_thread();
}

ThreadPool::~ThreadPool() {
  std::map<std::thread::id, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto &[id, t] : threads) t.join();
}

void ThreadPool::start_thread() {
  std::thread t([this] { run(); });
  const std::thread::id id = t.get_id();
  threads_.emplace(id, std::move(t));
}

void ThreadPool::reap() {
  for (std::thread::id id : ended_) {
    auto it = threads_.find(id);
    it->second.join();  // it has left run() and only unwinds: this does not wait on us
    threads_.erase(it);
  }
  ended_.clear();
}

void ThreadPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    reap();
    jobs_.push_back(std::move(job));
    const unsigned running = live();
    // Threads not busy will each take one queued job; start one when they are too few.
    if (running - busy_ < jobs_.size() && running < max_ && !stopping_) start_thread();
  }
  cv_.notify_one();
}

unsigned ThreadPool::live() const { return static_cast<unsigned>(threads_.size() - ended_.size()); }

unsigned ThreadPool::threads() const {
  std::lock_guard lock(mu_);
  return live();
}

unsigned ThreadPool::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

void ThreadPool::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!cv_.wait_for(lock, idle_exit_, [this] { return stopping_ || !jobs_.empty(); })) {
      if (live() > min_) {  // idle for idle_exit_ and not needed: end; post() joins us
        ended_.push_back(std::this_thread::get_id());
        return;
      }
      continue;
    }
    if (jobs_.empty()) return;  // stopping and drained
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    job();
    job = nullptr;  // the job's captures go before the thread counts as free again
    lock.lock();
    --busy_;
  }
}

}  // namespace llmhost::detail
