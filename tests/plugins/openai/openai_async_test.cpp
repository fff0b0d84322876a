// The openai provider's asynchronous call form (llmhost/async.h) over perform_async: the
// callback form of Host::complete against the loopback mock. No host thread waits; the answer
// comes on the HTTP event loop; errors, cancels and timeouts keep their statuses; a build
// replaced while its calls wait is unloaded once they are done.
#include <condition_variable>
#include <fstream>
#include <set>
#include <thread>

#include "http_support.hpp"
#include "outcomes.hpp"

using namespace test::http;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::Outcomes;

// Blocks the job passed to it: the openai plugin must never need it.
const llmhost::BlockingExecutor kNoWorkers = [](std::function<void()>) { FAIL("a blocking job was started"); };

}  // namespace

TEST_CASE("openai's completions run asynchronously: the answer comes on the HTTP event loop") {
  MockServer server(
      [](const HttpRequest &r, Conn &c) { c.respond(200, completion_json("re: " + last_user_content(r.body))); });
  llmhost::Host host(host_options());
  Outcomes out;
  for (int i = 0; i < 20; ++i) host.complete(chat_to(server, "n" + std::to_string(i)), out.handler(), {}, kNoWorkers);
  out.wait(20);
  std::set<std::string> answers;
  for (size_t i = 0; i < 20; ++i) {
    answers.insert(out.response(i).content);
    CHECK(out.response(i).provider == "openai");
    CHECK(out.response(i).usage.total_tokens == 12);
    // Isolated, the answer comes off the channel, on the plugin's supervisor thread: still no
    // host worker.
    CHECK(out.thread_names[i] == (test::isolated() ? "llmh-supervise" : "llmh-http"));
  }
  CHECK(answers.size() == 20);
  CHECK(answers.count("re: n7") == 1);
}

TEST_CASE("openai async: upstream errors, cancels and timeouts keep their statuses, without the key") {
  std::atomic<bool> hang{false};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (hang) return (void)c.wait_peer_close(30s);
    c.respond(429, R"({"error":{"message":"slow down, sk-test-secret-123","type":"rate_limit"}})");
  });
  llmhost::Host host(host_options());
  Outcomes out;

  host.complete(chat_to(server, "x"), out.handler(), {}, kNoWorkers);
  out.wait(1);
  CHECK(out.error(0).status() == 429);
  const std::string message = out.error(0).what();
  CHECK(message.find("slow down") != std::string::npos);
  CHECK(message.find("sk-test-secret-123") == std::string::npos);

  hang = true;
  std::stop_source stop;
  host.complete(chat_to(server, "x"), out.handler(), stop.get_token(), kNoWorkers);
  std::this_thread::sleep_for(100ms);
  stop.request_stop();
  out.wait(2);
  CHECK(out.error(1).status() == 499);

  llmhost::Request slow = chat_to(server, "x");
  slow.timeout_s = 0.2;
  host.complete(std::move(slow), out.handler(), {}, kNoWorkers);
  out.wait(3);
  CHECK(out.error(2).status() == 408);
}

TEST_CASE("openai async: a build replaced while its calls wait answers them, then is unloaded") {
  MockServer server([](const HttpRequest &r, Conn &c) {
    std::this_thread::sleep_for(300ms);
    c.respond(200, completion_json("re: " + last_user_content(r.body)));
  });
  test::TempDir dir, cache;
  const fs::path file = dir.path() / "libopenai.so";
  fs::copy_file(test::bundled_plugins() / "libopenai.so", file);
  llmhost::HostOptions o = test::options_for({dir.path()});
  o.cache_dir = cache.path() / "c";
  auto host = std::make_unique<llmhost::Host>(std::move(o));
  Outcomes out;
  for (int i = 0; i < 20; ++i)
    host->complete(chat_to(server, "old" + std::to_string(i)), out.handler(), {}, kNoWorkers);
  {
    std::ofstream(file, std::ios::app) << '\n';  // a new build: the same code, another file
  }
  host->reload();
  CHECK(host->reload_stats().replaced == 1);
  host->complete(chat_to(server, "new"), out.handler(), {}, kNoWorkers);
  out.wait(21);
  for (size_t i = 0; i < 21; ++i) CHECK(out.response(i).content.rfind("re: ", 0) == 0);
  host.reset();
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) CHECK(line.find(cache.path().string()) == std::string::npos);
}
