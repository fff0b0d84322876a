// The worker pool serve's plugin calls and the Host's async forms run on: it grows while every
// thread is blocked in a call (a stream holds its thread for its whole length), never past its
// maximum, and shrinks back when the burst is over.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "dispatch/thread_pool.hpp"

using namespace std::chrono_literals;
using llmhost::detail::ThreadPool;

namespace {

template <class Fn>
bool within(std::chrono::milliseconds limit, Fn fn) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!fn()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("jobs that block each other all run at once: the pool grows to the demand") {
  ThreadPool pool(2, 64, 100ms);
  CHECK(pool.threads() == 2);
  constexpr int kJobs = 40;
  std::latch all_in(kJobs);
  std::atomic<int> done{0};
  for (int i = 0; i < kJobs; ++i)
    pool.post([&] {
      all_in.arrive_and_wait();  // would never return with fewer than kJobs threads
      ++done;
    });
  REQUIRE(within(20s, [&] { return done.load() == kJobs; }));
  CHECK(pool.threads() >= kJobs);
  CHECK(pool.threads() <= 64);
  // The burst is over: the extra threads end after 100 ms idle, down to the minimum.
  CHECK(within(20s, [&] { return pool.threads() == 2; }));
  CHECK(pool.busy() == 0);
  // And it grows again on the next burst.
  std::latch again(8);
  std::atomic<int> done_again{0};
  for (int i = 0; i < 8; ++i)
    pool.post([&] {
      again.arrive_and_wait();
      ++done_again;
    });
  CHECK(within(20s, [&] { return done_again.load() == 8; }));
}

TEST_CASE("never more threads than the maximum: the rest queue, in order, and all run") {
  ThreadPool pool(1, 3, 50ms);
  std::atomic<int> running{0}, peak{0}, done{0};
  std::atomic<bool> release{false};
  for (int i = 0; i < 12; ++i)
    pool.post([&] {
      const int now = ++running;
      for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {}
      while (!release.load()) std::this_thread::sleep_for(1ms);
      --running;
      ++done;
    });
  CHECK(within(20s, [&] { return running.load() == 3; }));
  std::this_thread::sleep_for(50ms);
  CHECK(pool.threads() == 3);
  CHECK(pool.busy() == 3);
  release = true;
  CHECK(within(20s, [&] { return done.load() == 12; }));
  CHECK(peak.load() == 3);

  // In order: one thread takes the queue first in, first out.
  ThreadPool one(1, 1, 50ms);
  std::mutex mu;
  std::vector<int> order;
  std::latch started(1);
  one.post([&] { started.wait(); });  // holds the thread while the rest queue
  for (int i = 0; i < 10; ++i)
    one.post([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  started.count_down();
  CHECK(within(20s, [&] {
    std::lock_guard lock(mu);
    return order.size() == 10;
  }));
  std::lock_guard lock(mu);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("destruction runs every queued job, including jobs posted by jobs, then joins") {
  std::atomic<int> done{0};
  {
    ThreadPool pool(1, 4, 10ms);
    for (int i = 0; i < 20; ++i)
      pool.post([&] {
        std::this_thread::sleep_for(1ms);
        ++done;
      });
    pool.post([&] { pool.post([&] { ++done; }); });
  }
  CHECK(done.load() == 21);
}
