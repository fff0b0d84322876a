// The callback forms of Host::complete and Host::stream through the real loader and real
// plugins: the "deferred" test plugin has the asynchronous call form (llmhost/async.h), echo
// only the blocking one.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "outcomes.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::Outcomes;

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<llmhost::Host> host;
  Fixture() {
    dir.add(test::test_plugin("libdeferred.so"));
    dir.add(test::bundled_plugins() / "libecho.so");
    host = std::make_unique<llmhost::Host>(test::options_for({dir.path()}));
  }
};

int in_flight_of(const std::string &content) {
  const size_t at = content.find("in_flight=");
  REQUIRE(at != std::string::npos);
  return std::stoi(content.substr(at + 10));
}

// One callback-form stream: its chunks' text and threads, and how it ended.
struct StreamOutcome {
  std::mutex mu;
  std::condition_variable cv;
  std::string text;
  int chunks = 0;
  std::optional<llmhost::Usage> usage;  // the last chunk that carried one
  std::set<std::thread::id> chunk_threads;
  bool ended = false;
  std::optional<llmhost::Error> error;
  int stop_after = -1;  // the consumer stops after this many chunks (-1: never)

  llmhost::ChunkCallback on_chunk() {
    return [this](const llmhost::Chunk &c) {
      std::lock_guard lock(mu);
      CHECK(!ended);
      text += c.content;
      if (c.usage) usage = c.usage;
      chunk_threads.insert(std::this_thread::get_id());
      return ++chunks != stop_after;
    };
  }
  llmhost::StreamDoneHandler done() {
    return [this](std::optional<llmhost::Error> e) {
      std::lock_guard lock(mu);
      CHECK(!ended);
      ended = true;
      error = std::move(e);
      cv.notify_all();
    };
  }
  void wait() {
    std::unique_lock lock(mu);
    REQUIRE_MESSAGE(cv.wait_for(lock, 20s, [&] { return ended; }), "the stream did not end");
  }
};

}  // namespace

TEST_CASE("the callback form runs an async plugin without a host thread per call") {
  Fixture f;
  Outcomes out;
  const auto caller = std::this_thread::get_id();

  SUBCASE("one call: the answer, the provider, the plugin's thread") {
    f.host->complete(test::chat("deferred/m", "hello", R"({"delay_ms": 20})"), out.handler());
    out.wait(1);
    const llmhost::Response &r = out.response(0);
    CHECK(r.content == "deferred v1: hello in_flight=1");
    CHECK(r.provider == "deferred");
    CHECK(r.model == "deferred/m");
    CHECK(r.usage.completion_tokens == 2);
    CHECK(out.threads[0] != caller);
  }

  SUBCASE("500 calls wait at once while the Host has 2 workers") {
    llmhost::HostOptions o = test::options_for({f.dir.path()});
    o.async_threads = 2;
    f.host = std::make_unique<llmhost::Host>(std::move(o));
    constexpr int kCalls = 500;
    for (int i = 0; i < kCalls; ++i)
      f.host->complete(test::chat("deferred/m", "n" + std::to_string(i), R"({"delay_ms": 300})"), out.handler());
    out.wait(kCalls);
    int most = 0;
    std::set<std::string> answers;
    for (int i = 0; i < kCalls; ++i) {
      answers.insert(out.response(i).content.substr(0, out.response(i).content.find(" in_flight")));
      most = std::max(most, in_flight_of(out.response(i).content));
    }
    CHECK(answers.size() == kCalls);  // every call got its own answer
    CHECK(most > 100);                // far more calls waited together than the Host has threads
  }

  SUBCASE("finished inside complete_async: done runs before complete returns") {
    f.host->complete(test::chat("deferred/m", "now", R"({"inline": 1})"), out.handler());
    REQUIRE(out.count() == 1);
    CHECK(out.response(0).content == "deferred v1: now in_flight=1");
    CHECK(out.threads[0] == caller);
  }

  SUBCASE("a plugin error keeps its status and message") {
    f.host->complete(test::chat("deferred/m", "x", R"({"fail_status": 429})"), out.handler());
    out.wait(1);
    CHECK(out.error(0).status() == 429);
    CHECK(std::string(out.error(0).what()) == "deferred: failed as asked");
  }

  SUBCASE("a cancelled call ends with 499") {
    std::stop_source stop;
    f.host->complete(test::chat("deferred/m", "x", R"({"delay_ms": 60000})"), out.handler(), stop.get_token());
    std::this_thread::sleep_for(20ms);
    CHECK(out.count() == 0);
    stop.request_stop();
    out.wait(1);
    CHECK(out.error(0).status() == 499);
  }

  SUBCASE("a call past its timeout ends with 408") {
    llmhost::Request r = test::chat("deferred/m", "x", R"({"delay_ms": 60000})");
    r.timeout_s = 0.1;
    f.host->complete(std::move(r), out.handler());
    out.wait(1);
    CHECK(out.error(0).status() == 408);
    CHECK(std::string(out.error(0).what()).find("deferred") != std::string::npos);
  }

  SUBCASE("refused before a plugin: done runs on the caller's thread, at once") {
    f.host->complete(test::chat("nosuch/m", "x"), out.handler());
    REQUIRE(out.count() == 1);
    CHECK(out.error(0).status() == 404);
    CHECK(out.threads[0] == caller);
    f.host->complete(test::chat("no-slash", "x"), out.handler());
    REQUIRE(out.count() == 2);
    CHECK(out.error(1).status() == 400);
  }
}

TEST_CASE("the stream callback form runs an async plugin's stream without a host thread") {
  Fixture f;
  const auto caller = std::this_thread::get_id();

  SUBCASE("chunks on the plugin's thread, in order, then done") {
    StreamOutcome s;
    f.host->stream(test::chat("deferred/m", "hello", R"({"delay_ms": 5, "chunks": 4})"), s.on_chunk(), s.done());
    s.wait();
    CHECK_FALSE(s.error);
    CHECK(s.text == "deferred v1: hello in_flight=1");
    CHECK(s.chunks == 5);  // 4 of text, then the usage the host counted (deferred streams report none)
    REQUIRE(s.usage);
    CHECK(s.usage->estimated);
    CHECK_FALSE(s.chunk_threads.count(caller));
  }

  SUBCASE("300 streams at once while the Host has 2 workers") {
    llmhost::HostOptions o = test::options_for({f.dir.path()});
    o.async_threads = 2;
    f.host = std::make_unique<llmhost::Host>(std::move(o));
    std::vector<std::unique_ptr<StreamOutcome>> streams;
    for (int i = 0; i < 300; ++i) {
      streams.push_back(std::make_unique<StreamOutcome>());
      f.host->stream(test::chat("deferred/m", "n" + std::to_string(i), R"({"delay_ms": 100, "chunks": 3})"),
                     streams.back()->on_chunk(), streams.back()->done());
    }
    int most = 0;
    for (int i = 0; i < 300; ++i) {
      streams[i]->wait();
      CHECK_FALSE(streams[i]->error);
      CHECK(streams[i]->text.rfind("deferred v1: n" + std::to_string(i) + " in_flight=", 0) == 0);
      most = std::max(most, in_flight_of(streams[i]->text));
    }
    CHECK(most > 100);  // far more streams were open together than the Host has threads
  }

  SUBCASE("streamed inside stream_async: everything arrives before stream returns") {
    StreamOutcome s;
    f.host->stream(test::chat("deferred/m", "now", R"({"inline": 1, "chunks": 2})"), s.on_chunk(), s.done());
    CHECK(s.ended);
    CHECK(s.text == "deferred v1: now in_flight=1");
    CHECK(s.chunk_threads == std::set{caller});
  }

  SUBCASE("a plugin error after its chunks keeps its status") {
    StreamOutcome s;
    f.host->stream(test::chat("deferred/m", "x", R"({"fail_status": 503, "chunks": 2})"), s.on_chunk(), s.done());
    s.wait();
    CHECK(s.chunks == 2);
    REQUIRE(s.error);
    CHECK(s.error->status() == 503);
  }

  SUBCASE("the consumer stopping is not an error, and no chunk follows") {
    StreamOutcome s;
    s.stop_after = 2;
    f.host->stream(test::chat("deferred/m", "x", R"({"delay_ms": 5, "chunks": 6})"), s.on_chunk(), s.done());
    s.wait();
    CHECK_FALSE(s.error);
    CHECK(s.chunks == 2);
  }

  SUBCASE("a cancelled stream ends with 499") {
    StreamOutcome s;
    std::stop_source stop;
    f.host->stream(test::chat("deferred/m", "x", R"({"delay_ms": 60000})"), s.on_chunk(), s.done(), stop.get_token());
    std::this_thread::sleep_for(20ms);
    stop.request_stop();
    s.wait();
    REQUIRE(s.error);
    CHECK(s.error->status() == 499);
  }

  SUBCASE("a blocking plugin streams on the executor; a refused call ends at once") {
    StreamOutcome s;
    std::thread job;
    f.host->stream(test::chat("echo/m", "hi", R"({"mock_response": "one two"})"), s.on_chunk(), s.done(), {},
                   [&](std::function<void()> j) { job = std::thread(std::move(j)); });
    s.wait();
    job.join();
    CHECK_FALSE(s.error);
    CHECK(s.text == "one two");
    StreamOutcome refused;
    f.host->stream(test::chat("nosuch/m", "x"), refused.on_chunk(), refused.done());
    CHECK(refused.ended);
    REQUIRE(refused.error);
    CHECK(refused.error->status() == 404);
  }
}

TEST_CASE("the callback form runs a blocking plugin on the executor it is given") {
  Fixture f;
  Outcomes out;
  std::atomic<int> jobs{0};
  std::vector<std::thread> threads;
  const llmhost::BlockingExecutor run = [&](std::function<void()> job) {
    ++jobs;
    threads.emplace_back(std::move(job));
  };
  f.host->complete(test::chat("echo/m", "hi", R"({"mock_response": "from echo"})"), out.handler(), {}, run);
  out.wait(1);
  for (std::thread &t : threads) t.join();
  CHECK(jobs == 1);
  CHECK(out.response(0).content == "from echo");
  CHECK(out.response(0).provider == "echo");

  SUBCASE("without one, on a Host worker") {
    f.host->complete(test::chat("echo/m", "hi", R"({"mock_response": "again"})"), out.handler());
    out.wait(2);
    CHECK(out.response(1).content == "again");
    CHECK(out.threads[1] != std::this_thread::get_id());
  }
  SUBCASE("an async plugin never uses it") {
    f.host->complete(test::chat("deferred/m", "hi"), out.handler(), {}, run);
    out.wait(2);
    CHECK(jobs == 1);
    CHECK(out.response(1).content == "deferred v1: hi in_flight=1");
  }
}

TEST_CASE("destroying the Host cancels the async calls in flight and waits for them") {
  Fixture f;
  Outcomes out;
  for (int i = 0; i < 20; ++i)
    f.host->complete(test::chat("deferred/m", "x", R"({"delay_ms": 600000})"), out.handler());
  const auto start = std::chrono::steady_clock::now();
  f.host.reset();
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  REQUIRE(out.count() == 20);  // every done ran before ~Host returned
  for (size_t i = 0; i < 20; ++i) CHECK(out.error(i).status() == 499);
}

TEST_CASE("a handler that starts another call while the Host is destroyed gets 503, and ~Host waits for it") {
  Fixture f;
  Outcomes first, second;
  llmhost::Host *host = f.host.get();  // f.host is null while reset() destroys it
  for (int i = 0; i < 20; ++i)
    host->complete(test::chat("deferred/m", "x", R"({"delay_ms": 600000})"),
                   [&, h = first.handler()](llmhost::CompleteResult r) {
                     h(std::move(r));
                     std::this_thread::sleep_for(5ms);  // ~Host must wait for this handler, not just its plugin
                     host->complete(test::chat("deferred/m", "again"), second.handler());  // like a fallback
                   });
  f.host.reset();
  REQUIRE(first.count() == 20);
  REQUIRE(second.count() == 20);
  for (size_t i = 0; i < 20; ++i) {
    CHECK(first.error(i).status() == 499);
    CHECK(second.error(i).status() == 503);
  }
}

TEST_CASE("calls in flight finish on the build they started on while a new build swaps in") {
  test::TempDir dir, cache;
  const fs::path file = dir.path() / "libdeferred.so";
  fs::copy_file(test::test_plugin("libdeferred.so"), file);
  llmhost::HostOptions o = test::options_for({dir.path()});
  o.cache_dir = cache.path() / "c";
  auto host = std::make_unique<llmhost::Host>(std::move(o));
  Outcomes out;
  for (int i = 0; i < 50; ++i) host->complete(test::chat("deferred/m", "old", R"({"delay_ms": 300})"), out.handler());
  fs::copy_file(test::test_plugin("libdeferred_v2.so"), file, fs::copy_options::overwrite_existing);
  host->reload();
  for (int i = 0; i < 50; ++i) host->complete(test::chat("deferred/m", "new", R"({"delay_ms": 10})"), out.handler());
  out.wait(100);
  for (size_t i = 0; i < 100; ++i) {
    const std::string &c = out.response(i).content;
    CHECK_MESSAGE((c.rfind("deferred v1: old", 0) == 0 || c.rfind("deferred v2: new", 0) == 0), c);
  }
  host.reset();
  // The old build was released from inside its own finish: it is unloaded all the same.
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) CHECK(line.find("libdeferred") == std::string::npos);
}

TEST_CASE("a C++ provider's call handles end every call exactly once, in both call forms") {
  test::TempDir dir;
  dir.add(test::test_plugin("libhandles.so"));
  llmhost::Host host(test::options_for({dir.path()}));

  // It overrides complete_async and stream_async only, and gives no capabilities.
  const std::vector<llmhost::ProviderInfo> providers = host.providers();
  REQUIRE(providers.size() == 1);
  CHECK(providers[0].capabilities == (LLMH_CAP_COMPLETE | LLMH_CAP_STREAM));
  CHECK(providers[0].async_complete);
  CHECK(providers[0].async_stream);

  struct Case {
    const char *what;
    int status;           // 0: the call succeeds, answering "handles: <what>"
    const char *message;  // the error's message holds this
  };
  const Case cases[] = {
      {"now", 0, ""},
      {"thread", 0, ""},
      {"drop", 500, "dropped an asynchronous call without finishing it"},
      {"drop later", 500, "dropped an asynchronous call without finishing it"},
      {"throw", 418, "handles: thrown"},
      {"throw std", 500, "handles: std thrown"},
  };
  for (const Case &c : cases) {
    CAPTURE(c.what);
    const std::string answer = std::string("handles: ") + c.what;
    const auto check_error = [&](const llmhost::Error &e) {
      CHECK(e.status() == c.status);
      CHECK_MESSAGE(std::string(e.what()).find(c.message) != std::string::npos, e.what());
    };

    // The callback forms run the asynchronous ones.
    Outcomes out;
    host.complete(test::chat("handles/m", c.what), out.handler());
    out.wait(1);
    StreamOutcome streamed;
    host.stream(test::chat("handles/m", c.what), streamed.on_chunk(), streamed.done());
    streamed.wait();
    // The blocking forms run the ones the SDK makes from them.
    std::optional<llmhost::Error> blocking_error;
    std::string blocking_text;
    try {
      blocking_text = host.complete(test::chat("handles/m", c.what)).content;
    } catch (const llmhost::Error &e) {
      blocking_error = e;
    }
    std::optional<llmhost::Error> blocking_stream_error;
    std::string blocking_stream_text;
    try {
      host.stream(test::chat("handles/m", c.what), [&](const llmhost::Chunk &chunk) {
        blocking_stream_text += chunk.content;
        return true;
      });
    } catch (const llmhost::Error &e) {
      blocking_stream_error = e;
    }

    if (c.status == 0) {
      CHECK(out.response(0).content == answer);
      CHECK(!streamed.error);
      CHECK(streamed.text == answer);
      CHECK(!blocking_error);
      CHECK(blocking_text == answer);
      CHECK(!blocking_stream_error);
      CHECK(blocking_stream_text == answer);
    } else {
      check_error(out.error(0));
      REQUIRE(streamed.error);
      check_error(*streamed.error);
      REQUIRE(blocking_error);
      check_error(*blocking_error);
      REQUIRE(blocking_stream_error);
      check_error(*blocking_stream_error);
    }
  }
}
