// Many threads on one Host and one plugin instance: every answer is the caller's own.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "support.hpp"

TEST_CASE("8 threads calling complete and stream on one instance all get their own answers") {
  llmhost::Host host(test::options_for({test::bundled_plugins()}));
  constexpr int kThreads = 8, kCalls = 200;
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string prompt = "thread " + std::to_string(t) + " call " + std::to_string(i);
        try {
          if (i % 2 == 0) {
            if (host.complete(test::chat(i % 4 ? "echo/a" : "cecho/a", prompt)).content !=
                (i % 4 ? prompt : "cecho: " + prompt))
              ++wrong;
          } else {
            std::string got;
            host.stream(test::chat("echo/a", prompt), [&](const llmhost::Chunk &c) {
              got.append(c.content);
              return true;
            });
            if (got != prompt) ++wrong;
          }
        } catch (const std::exception &) {
          ++failed;
        }
      }
    });
  for (auto &th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(failed == 0);
}

TEST_CASE("many async calls in flight at once all complete") {
  llmhost::HostOptions o = test::options_for({test::bundled_plugins()});
  o.async_threads = 4;
  llmhost::Host host(std::move(o));
  std::vector<std::future<llmhost::Response>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(host.complete_async(test::chat("echo/a", "n" + std::to_string(i))));
  for (int i = 0; i < 200; ++i) CHECK(futures[i].get().content == "n" + std::to_string(i));
}
