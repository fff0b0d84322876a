// Test support for Host::complete's callback form: collects each call's outcome with the
// thread it arrived on (id and name), and waits for them.
#pragma once

#include <pthread.h>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "llmhost/host.hpp"

namespace test {

struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<llmhost::CompleteResult> results;
  std::vector<std::thread::id> threads;
  std::vector<std::string> thread_names;

  // A handler recording into this object, which must outlive every call it is given to.
  llmhost::CompleteHandler handler() {
    return [this](llmhost::CompleteResult r) {
      char name[32] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
      threads.push_back(std::this_thread::get_id());
      thread_names.emplace_back(name);
      cv.notify_all();
    };
  }
  size_t count() {
    std::lock_guard lock(mu);
    return results.size();
  }
  // Waits for `n` outcomes in all; fails the test after 20 s.
  void wait(size_t n) {
    std::unique_lock lock(mu);
    REQUIRE_MESSAGE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return results.size() >= n; }), "only ",
                    results.size(), " of ", n, " calls ended");
  }
  const llmhost::Response &response(size_t i) {
    REQUIRE_MESSAGE(std::holds_alternative<llmhost::Response>(results.at(i)),
                    "call failed: ", std::get<llmhost::Error>(results.at(i)).what());
    return std::get<llmhost::Response>(results[i]);
  }
  const llmhost::Error &error(size_t i) {
    REQUIRE_MESSAGE(std::holds_alternative<llmhost::Error>(results.at(i)),
                    "call succeeded: ", std::get<llmhost::Response>(results.at(i)).content);
    return std::get<llmhost::Error>(results[i]);
  }
};

}  // namespace test
