// The watchdog of `llmhost serve` (host/src/proxy/session.cpp): a plugin that overstays its
// call's timeout, ignoring its cancel, gets its client a 408 at the deadline while other calls
// go on on other workers; streams that go quiet or run too long end with an error event; what a
// stuck call sends after the watchdog answered is dropped. Through the real binary, with
// tests/fixtures/plugins/stuck.c (ignores cancellation), hang.c and drip.c (honour it) and echo.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <thread>

#include "proxy_support.hpp"

using namespace ptest;
using namespace std::chrono_literals;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A plugin folder with stuck, hang, drip and echo; the release and marker files of stuck.c.
struct Plugins {
  Plugins() {
    for (const char *f : {"libstuck.so", "libhang.so", "libdrip.so"}) dir.add(test::test_plugin(f));
    dir.add(test::bundled_plugins() / "libecho.so");
  }
  std::vector<std::string> env() const {
    return {"STUCK_RELEASE=" + release().string(), "STUCK_MARKER=" + marker().string(),
            "DRIP_MARKER=" + marker().string()};
  }
  std::filesystem::path release() const { return dir.path() / "release"; }
  std::filesystem::path marker() const { return dir.path() / "marker"; }
  void let_go() const { write_file(release(), ""); }
  test::TempDir dir;
};

// Releases the stuck plugin when the test ends, even when it fails, so serve drains cleanly.
struct LetGo {
  const Plugins &p;
  ~LetGo() { p.let_go(); }
};

}  // namespace

TEST_CASE(
    "a plugin stuck in complete past its timeout: 408 at the deadline, other calls go on, its late result is dropped") {
  Plugins p;
  const auto cfg = p.dir.path() / "config.yaml";
  write_file(cfg,
             "model_list:\n"
             "  - model_name: slow\n"
             "    litellm_params: {model: stuck/x, timeout: 1}\n");
  Server server({"--plugins", p.dir.path().string(), "--config", cfg.string()}, p.env());
  LetGo let_go{p};
  Client stuck(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  stuck.send("POST", "/v1/chat/completions", chat_body("slow", "hi"));
  REQUIRE(eventually([&] { return has(read_file(p.marker()), "complete started"); }));
  // The worker is blocked in the plugin; other requests are served on other workers.
  Client other(server.port());
  for (int i = 0; i < 5; ++i) {
    const Response r = other.post("/v1/chat/completions", chat_body("echo/x", "still here"));
    CHECK(r.status == 200);
    CHECK(has(r.body, "still here"));
  }
  const Response r = stuck.finish();
  const double waited = seconds_since(t0);
  CHECK(r.status == 408);
  CHECK(json_at(r.body, "/error/code") == "call_timeout");
  CHECK(json_at(r.body, "/error/type") == "timeout_error");
  CHECK(has(r.body, "provider stuck did not finish"));
  CHECK(waited >= 1.0);  // the call's timeout ...
  CHECK(waited < 10.0);  // ... plus a 1 s grace, with room for a slow sanitizer run
  CHECK(r.keep_alive);   // the connection goes on: the late result has nowhere to go
  CHECK(stuck.post("/v1/chat/completions", chat_body("echo/x", "same connection")).status == 200);
  std::string m = other.get("/metrics").body;
  CHECK(has(m, "llmhost_abandoned_calls 1\n"));
  CHECK(has(m, "llmhost_watchdog_timeouts_total{kind=\"call\"} 1\n"));
  CHECK(has(m, "model=\"slow\",provider=\"stuck\",status=\"408\""));
  CHECK_FALSE(has(read_file(p.marker()), "complete returned"));
  // The plugin returns at last: its answer is dropped, the gauge goes back to 0, the
  // connection that asked carries on with its own next request.
  p.let_go();
  REQUIRE(eventually([&] { return has(read_file(p.marker()), "complete returned"); }));
  CHECK(eventually([&] { return has(other.get("/metrics").body, "llmhost_abandoned_calls 0\n"); }));
  const Response next = stuck.get("/health/liveliness");
  CHECK(next.status == 200);
  CHECK(next.body == "\"I'm alive!\"");
  CHECK_FALSE(has(next.body, "late"));
}

TEST_CASE(
    "a call with no timeout of its own gets 408 after --request-timeout, even from a plugin that ignores its cancel") {
  Plugins p;
  Server server({"--plugins", p.dir.path().string(), "--request-timeout", "0.5"}, p.env());
  LetGo let_go{p};
  Client c(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  const Response r = c.post("/v1/chat/completions", chat_body("stuck/x", "hi"));
  CHECK(r.status == 408);
  CHECK(json_at(r.body, "/error/code") == "request_timeout");
  CHECK(has(r.body, "--request-timeout"));
  CHECK(seconds_since(t0) >= 0.5);
  CHECK(c.post("/v1/chat/completions", chat_body("echo/x", "after")).status == 200);
  CHECK(has(c.get("/metrics").body, "llmhost_watchdog_timeouts_total{kind=\"request\"} 1\n"));
}

TEST_CASE("a stream whose plugin goes quiet is ended with an error event after --stream-idle-timeout") {
  Plugins p;
  Server server({"--plugins", p.dir.path().string(), "--stream-idle-timeout", "0.5"}, p.env());
  LetGo let_go{p};
  SUBCASE("a plugin that ignores its cancel") {
    Client c(server.port());
    const Response r = c.post("/v1/chat/completions", chat_body("stuck/x", "hi", "\"stream\":true"));
    CHECK(r.status == 200);
    CHECK(answer_text(r.body) == "first");
    CHECK(json_at(error_event(r.body), "/error/code") == "stream_idle_timeout");
    CHECK(r.body.size() >= 14);
    CHECK(r.body.substr(r.body.size() - 14) == "data: [DONE]\n\n");
    CHECK(c.post("/v1/chat/completions", chat_body("echo/x", "next")).status == 200);
    const std::string m = c.get("/metrics").body;
    CHECK(has(m, "llmhost_watchdog_timeouts_total{kind=\"stream_idle\"} 1\n"));
    CHECK(has(m, "model=\"stuck/x\",provider=\"stuck\",status=\"408\""));
  }
  SUBCASE("a plugin that honours it is cancelled") {
    Client c(server.port());
    const Response r = c.post("/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
    CHECK(r.status == 200);
    CHECK(answer_text(r.body) == "v1");
    CHECK(json_at(error_event(r.body), "/error/code") == "stream_idle_timeout");
    CHECK(eventually([&] { return has(read_file(p.marker()), "stream cancelled"); }));
    // The cancelled call's own error (499) comes later and changes nothing: the record is 408.
    // Once the call has returned, nothing is abandoned, and nothing more can be recorded.
    std::string m;
    CHECK(eventually([&] { return has(m = c.get("/metrics").body, "llmhost_abandoned_calls 0\n"); }));
    CHECK(has(m, "model=\"drip/x\",provider=\"drip\",status=\"408\""));
    CHECK_FALSE(has(m, "status=\"499\""));
  }
  SUBCASE("no first chunk: an ordinary 408 reply") {
    Client c(server.port());
    const Response r = c.post("/v1/chat/completions", chat_body("hang/x", "hi", "\"stream\":true"));
    CHECK(r.status == 408);
    CHECK(r.header("content-type") == "application/json");
    CHECK(json_at(r.body, "/error/code") == "stream_idle_timeout");
  }
}

TEST_CASE("a stream that keeps sending is ended with an error event after --max-stream-duration") {
  Plugins p;
  Server server({"--plugins", p.dir.path().string(), "--max-stream-duration", "1"}, p.env());
  LetGo let_go{p};
  std::string words;
  for (int i = 0; i < 200; ++i) words += "w ";
  Client c(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  // echo sends one word every 50 ms: 10 s in all.
  const Response r = c.post("/v1/chat/completions", chat_body("echo/x", words, "\"stream\":true,\"mock_delay_ms\":50"));
  CHECK(seconds_since(t0) < 8.0);
  CHECK(r.status == 200);
  CHECK(json_at(sse_events(r.body)[0], "/choices/0/delta/content") == "w");
  CHECK(json_at(error_event(r.body), "/error/code") == "stream_duration_exceeded");
  CHECK(r.body.substr(r.body.size() - 14) == "data: [DONE]\n\n");
  CHECK(c.get("/health/liveliness").status == 200);
}

TEST_CASE("a stuck stream past its call's timeout ends with an error event; a short stream is untouched") {
  Plugins p;
  const auto cfg = p.dir.path() / "config.yaml";
  write_file(cfg,
             "model_list:\n"
             "  - model_name: slow\n"
             "    litellm_params: {model: stuck/x, timeout: 0.5}\n"
             "  - model_name: fine\n"
             "    litellm_params: {model: echo/x, timeout: 0.5}\n");
  Server server({"--plugins", p.dir.path().string(), "--config", cfg.string()}, p.env());
  LetGo let_go{p};
  Client c(server.port());
  const Response r = c.post("/v1/chat/completions", chat_body("slow", "hi", "\"stream\":true"));
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "first");
  CHECK(json_at(error_event(r.body), "/error/code") == "call_timeout");
  // A call that finishes in time is not touched by the deadline it armed.
  for (int i = 0; i < 3; ++i) {
    const Response ok = c.post("/v1/chat/completions", chat_body("fine", "quick", "\"stream\":true"));
    CHECK(ok.status == 200);
    CHECK_FALSE(has(ok.body, "error"));
  }
  std::this_thread::sleep_for(1500ms);  // past every deadline the quick calls armed
  CHECK(c.post("/v1/chat/completions", chat_body("fine", "after")).status == 200);
  CHECK(has(c.get("/metrics").body, "llmhost_watchdog_timeouts_total{kind=\"call\"} 1\n"));
}

TEST_CASE("SIGTERM does not wait for calls the watchdog gave up on") {
  Plugins p;
  Server server({"--plugins", p.dir.path().string(), "--request-timeout", "0.3", "--drain-timeout", "30"}, p.env());
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", chat_body("stuck/x", "hi")).status == 408);
  c.close();
  const auto t0 = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  // The drain sees no open connection and only an abandoned call: it does not wait the 30 s;
  // the stuck worker gets the 5 s grace, then serve exits 0 without unloading the plugin.
  CHECK(server.wait(std::chrono::seconds(25)) == 0);
  CHECK(seconds_since(t0) < 20.0);
  CHECK(has(server.err(), "exiting without unloading plugins"));
  p.let_go();
}
