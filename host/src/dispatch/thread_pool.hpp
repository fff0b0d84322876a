// A pool of worker threads running queued jobs in FIFO order; the Host's async forms and
// serve's plugin calls run here. A plugin call blocks its thread for as long as it runs (a
// stream for its whole length), so the pool grows on demand: when every thread is busy, post()
// starts another, up to `max_threads`; threads above `min_threads` that stay idle for
// `idle_exit` end. Destruction finishes the queued jobs, then joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace llmhost::detail {

class ThreadPool {
 public:
  ThreadPool(unsigned min_threads, unsigned max_threads,
             std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  explicit ThreadPool(unsigned threads) : ThreadPool(threads, threads) {}
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  // Queues `job`; from any thread, jobs included. Starts a thread when no idle one is left for
  // it and fewer than max_threads run; else the job waits for a thread to free up.
  void post(std::function<void()> job);

  unsigned threads() const;  // running now
  unsigned busy() const;     // running a job now

 private:
  void run();
  unsigned live() const;  // threads(), with mu_ held
  void start_thread();    // with mu_ held
  void reap();            // joins the threads that ended; with mu_ held

  const unsigned min_, max_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  unsigned busy_ = 0;
  std::map<std::thread::id, std::thread> threads_;  // every started thread not yet joined
  std::vector<std::thread::id> ended_;              // ended on idle, to join
};

}  // namespace llmhost::detail
