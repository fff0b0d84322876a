// Isolated plugins through the real `llmhost serve`: the faulty fixture crashes, aborts, exits,
// hangs and eats memory in its worker process while echo carries concurrent load in another;
// echo loses nothing, faulty answers again after each restart, and /metrics and
// /health/readiness say what happened.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "proxy_support.hpp"

using namespace ptest;
using namespace std::chrono_literals;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// serve with every plugin isolated: the bundled ones from the folder, faulty from the config,
// capped at 1 GiB. `general` adds general_settings lines.
struct Fixture {
  explicit Fixture(const std::string &general) {
    write_file(dir.path() / "config.yaml",
               "model_list:\n"
               "  - model_name: hangs\n"
               "    litellm_params: {model: faulty/hang, timeout: 0.3}\n"
               "litellm_settings:\n"
               "  custom_provider_map:\n"
               "    - provider: faulty\n"
               "      custom_handler: " +
                   test::test_plugin("libfaulty.so").string() +
                   "\n"
                   "      max_memory_mb: 1024\n"
                   "general_settings:\n"
                   "  plugin_isolation: process\n"
                   "  plugin_hang_grace: 0.2\n" +
                   general);
    server.emplace(std::vector<std::string>{"--plugins", test::bundled_plugins().string(), "--config",
                                            (dir.path() / "config.yaml").string()});
  }
  Response chat(const std::string &model, const std::string &extra = {}) {
    return Client(server->port()).post("/v1/chat/completions", chat_body(model, "hi", extra));
  }
  std::string metrics() { return Client(server->port()).get("/metrics").body; }
  Response readiness() { return Client(server->port()).get("/health/readiness"); }

  // How long until faulty answers 200 again after a crash (503 meanwhile).
  std::chrono::milliseconds back_after_crash() {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      const Response r = chat("faulty/ok");
      if (r.status == 200) {
        CHECK(has(r.body, "ok from pid"));
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      }
      REQUIRE(r.status == 503);
      REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
      std::this_thread::sleep_for(5ms);
    }
  }

  test::TempDir dir;
  std::optional<Server> server;
};

// faulty's entry among a readiness answer's providers, found by name: their order is the host's
// to choose. "<absent: ...>" when it is not there.
std::string faulty_in(const Response &readiness) {
  const std::vector<std::string> found = where(json_items(readiness.body, "/providers"), "/name", "faulty");
  return found.empty() ? "<absent: faulty in " + readiness.body + ">" : found[0];
}

// Echo calls and streams from four clients until stopped; every answer is checked.
class Load {
 public:
  explicit Load(uint16_t port) {
    for (int t = 0; t < 4; ++t)
      threads_.emplace_back([this, port, t] {
        Client c(port);
        while (!stop_) {
          const bool stream = t % 2;
          const Response r = c.post("/v1/chat/completions",
                                    chat_body("echo/any", "steady", stream ? "\"stream\":true" : std::string()));
          const bool ok = r.status == 200 && has(r.body, "steady") && (!stream || has(r.body, "data: [DONE]"));
          (ok ? ok_ : failed_)++;
        }
      });
  }
  // Stops the clients; the calls that failed, with the ones that succeeded.
  std::pair<int, int> stop() {
    stop_ = true;
    for (auto &t : threads_) t.join();
    return {failed_.load(), ok_.load()};
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("crashes, aborts, exits, hangs and memory blow-ups fail only faulty's calls, under load on echo") {
  // A crash window of 1 s and faults further apart: each restart is a first one, at once.
  Fixture f("  plugin_crash_loop_window: 1\n");
  CHECK(json_at(faulty_in(f.readiness()), "/version") == "1.0.0");
  Load load(f.server->port());

  struct Fault {
    const char *model, *says;
  };
  for (const Fault fault : {Fault{"faulty/segv", "signal 11 (SIGSEGV)"}, Fault{"faulty/abort", "signal 6 (SIGABRT)"},
                            Fault{"faulty/exit", "exited with code 3"}, Fault{"faulty/oom", "signal 11 (SIGSEGV)"}}) {
    std::this_thread::sleep_for(1100ms);  // out of the last crash's window
    const Response r = f.chat(fault.model);
    CHECK(r.status == 502);
    CHECK(json_at(r.body, "/error/code") == "plugin_crashed");
    CHECK(has(r.body, "provider faulty"));
    CHECK_MESSAGE(has(r.body, fault.says), r.body);
    MESSAGE(std::string(fault.model) << ": faulty answered again " << f.back_after_crash().count()
                                     << " ms after the crash");
  }

  // A stream that crashes after its first chunk: that chunk, an error event, then [DONE].
  std::this_thread::sleep_for(1100ms);
  const Response s = f.chat("faulty/segv", "\"stream\":true");
  CHECK(s.status == 200);
  CHECK(answer_text(s.body) == "ok");
  CHECK(json_at(error_event(s.body), "/error/code") == "plugin_crashed");
  CHECK(has(s.body, "data: [DONE]"));
  f.back_after_crash();

  // A call that ignores its deadline (0.3 s) past the grace (0.2 s): its worker is killed.
  std::this_thread::sleep_for(1100ms);
  const Response h = f.chat("hangs");
  CHECK((h.status == 408 || h.status == 502));
  CHECK(eventually(
      [&] { return has(f.metrics(), "llmhost_plugin_crashes_total{provider=\"faulty\",reason=\"hang\"} 1\n"); }));
  f.back_after_crash();

  const auto [failed, ok] = load.stop();
  CHECK(failed == 0);
  CHECK(ok > 0);
  MESSAGE("echo answered " << ok << " calls and streams meanwhile");

  const std::string m = f.metrics();
  CHECK(has(m, "llmhost_plugin_crashes_total{provider=\"faulty\",reason=\"signal\"} 4\n"));
  CHECK(has(m, "llmhost_plugin_crashes_total{provider=\"faulty\",reason=\"exit\"} 1\n"));
  CHECK(has(m, "llmhost_plugin_workers{provider=\"faulty\",state=\"running\"} 1\n"));
  CHECK(has(m, "llmhost_plugin_workers{provider=\"echo\",state=\"running\"} 1\n"));
  CHECK_FALSE(has(m, "llmhost_plugin_crashes_total{provider=\"echo\""));
  const Response ready = f.readiness();
  CHECK(ready.status == 200);
  CHECK(json_at(ready.body, "/status") == "healthy");
  const std::string faulty = faulty_in(ready);
  CHECK(json_at(faulty, "/isolation") == "process");
  CHECK(json_at(faulty, "/worker/state") == "running");
  CHECK(json_at(faulty, "/worker/starts") == "7");
  CHECK(json_at(faulty, "/worker/crashes/exit") == "1");
  CHECK(json_at(faulty, "/worker/crashes/hang") == "1");
  CHECK(json_at(faulty, "/worker/crashes/signal") == "4");
  CHECK(json_items(faulty, "/worker/crashes").size() == 3);  // no crash of another kind
}

TEST_CASE("a provider crashing in a loop is unavailable with 503 provider_unavailable; the instance stays ready") {
  Fixture f("  plugin_crash_loop_crashes: 2\n");
  CHECK(f.chat("faulty/segv").status == 502);
  f.back_after_crash();
  CHECK(f.chat("faulty/abort").status == 502);
  const Response r = f.chat("faulty/ok");
  CHECK(r.status == 503);
  CHECK(json_at(r.body, "/error/code") == "provider_unavailable");
  CHECK(has(r.body, "crashing in a loop"));
  CHECK(has(r.body, "SIGABRT"));
  CHECK(f.chat("echo/any").status == 200);
  const Response ready = f.readiness();
  CHECK(ready.status == 200);
  CHECK(json_at(ready.body, "/status") == "degraded");
  CHECK(json_at(faulty_in(ready), "/worker/state") == "unavailable");
  CHECK(has(f.metrics(), "llmhost_plugin_workers{provider=\"faulty\",state=\"unavailable\"} 1\n"));
  CHECK(has(f.server->err(), "crashes within 60.0 s: unavailable for 30.0 s"));
}
