// Several deployments behind one model name, and litellm_settings.fallbacks: a deployment that
// fails for its own reasons (5xx, 429, a provider that is not loaded) hands the request to the
// next; a request the client got wrong fails at once. Through the real serve binary and echo.
#include <doctest/doctest.h>

#include <atomic>

#include "http_support.hpp"
#include "mock_server.hpp"
#include "proxy_support.hpp"

using namespace ptest;

namespace {

// echo deployments: `fail` > 0 makes one fail with that status, else it answers `reply`.
std::string deployment(const std::string &name, const std::string &model, int fail, const std::string &reply = "ok") {
  std::string d = "  - model_name: " + name + "\n    litellm_params:\n      model: " + model + "\n";
  return d +
         (fail ? "      mock_error_status: " + std::to_string(fail) + "\n" : "      mock_response: " + reply + "\n");
}

// What these tests count on: deployments tried in turn, and never rested however often they
// fail (routing_test.cpp covers the strategies and cooldowns).
constexpr const char *kInTurnNoCooldown = "router_settings:\n  routing_strategy: round-robin\n  cooldown_time: 0\n";

struct Fixture : ConfiguredServer {
  explicit Fixture(const std::string &yaml) : ConfiguredServer(yaml + kInTurnNoCooldown) {}
};

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("a failing deployment hands the request to the next one behind the same name") {
  Fixture f(std::string("model_list:\n") + deployment("flaky", "echo/a", 503) +
            deployment("flaky", "echo/b", 0, "from-b"));
  for (int i = 0; i < 4; ++i) {  // round robin starts on each deployment twice
    const Response r = f.chat("flaky");
    CHECK(r.status == 200);
    CHECK(answer_text(r.body) == "from-b");
    CHECK(json_at(r.body, "/model") == "flaky");
  }
  const Response s = f.chat("flaky", "\"stream\":true");
  CHECK(s.status == 200);
  CHECK(has(s.body, "from-b"));
  CHECK(has(s.body, "data: [DONE]"));
  // Calls 1, 3 and 5 (the stream) started on the broken deployment. A request is counted just
  // after its last byte is written, so the scrape may come first: poll.
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_deployment_failures_total{model=\"flaky\",provider=\"echo\",status=\"503\"} 3\n") &&
           has(m,
               "llmhost_requests_total{route=\"/v1/chat/"
               "completions\",model=\"flaky\",provider=\"echo\",status=\"200\"} 5");
  }));
}

TEST_CASE("text completions move on to the next deployment like chat, and are counted by route") {
  Fixture f(std::string("model_list:\n") + deployment("flaky", "echo/a", 503) +
            deployment("flaky", "echo/b", 0, "from-b"));
  Client c(f.server->port());
  for (const char *stream : {"false", "false", "true", "true"}) {  // each deployment first, both forms
    const Response r =
        c.post("/v1/completions", std::string(R"({"model":"flaky","prompt":"p","stream":)") + stream + "}");
    CHECK(r.status == 200);
    CHECK(has(r.body, "from-b"));
    CHECK(json_at(stream == std::string("true") ? sse_events(r.body)[0] : r.body, "/model") == "flaky");
  }
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_deployment_failures_total{model=\"flaky\",provider=\"echo\",status=\"503\"} 2\n") &&
           has(m,
               "llmhost_requests_total{route=\"/v1/completions\",model=\"flaky\",provider=\"echo\",status=\"200\"} 4");
  }));
}

TEST_CASE("when every deployment fails, the last error is returned and names the ones before") {
  Fixture f(std::string("model_list:\n") + deployment("down", "echo/a", 503) + deployment("down", "echo/b", 429));
  const Response first = f.chat("down");   // a, then b
  const Response second = f.chat("down");  // b, then a
  CHECK(first.status == 429);
  CHECK(has(first.body, "(after echo/a -> 503)"));
  CHECK(second.status == 503);
  CHECK(has(second.body, "(after echo/b -> 429)"));
  CHECK(json_has(first.body, "/error"));
}

TEST_CASE("litellm_settings.fallbacks: another model name takes over after its own deployments") {
  Fixture f(std::string("model_list:\n") + deployment("primary", "echo/p", 500) + deployment("primary", "nosuch/x", 0) +
            deployment("strict", "echo/s", 400) + deployment("backup", "cecho/b", 0) +
            "litellm_settings:\n  fallbacks:\n    - primary: [backup]\n    - strict: [backup]\n");
  // echo/p fails with 500 and nosuch/x is not loaded (404): both are the deployments' fault.
  for (int i = 0; i < 2; ++i) {
    const Response r = f.chat("primary", "\"stream\":" + std::string(i ? "true" : "false"));
    CHECK(r.status == 200);
    CHECK(has(r.body, "cecho: "));  // the backup's plugin answered
    CHECK(json_at(i ? sse_events(r.body)[0] : r.body, "/model") == "primary");
  }
  // A 400 is the client's request: another deployment would refuse it the same way.
  const Response bad = f.chat("strict");
  CHECK(bad.status == 400);
  CHECK(!has(bad.body, "after"));
  CHECK(!has(f.metrics(), "llmhost_deployment_failures_total{model=\"strict\""));
}

TEST_CASE("a fallback naming an unknown model or itself stops start-up with file and line") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  const std::string models = "model_list:\n" + deployment("a", "echo/a", 0);
  write_file(cfg, models + "litellm_settings:\n  fallbacks:\n    - a: [nope]\n");
  test::RunResult r = serve_fails({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, cfg.string() + ":8:7: litellm_settings.fallbacks.a: \"nope\" is not a model_name in model_list"));
  write_file(cfg, models + "litellm_settings:\n  fallbacks:\n    - a: a\n");
  r = serve_fails({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
  CHECK(has(r.err, "\"a\" falls back to itself"));
  write_file(cfg, models + "litellm_settings:\n  fallbacks:\n    - b: [a]\n");
  r = serve_fails({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
  CHECK(has(r.err, "\"b\" is not a model_name in model_list"));
}

TEST_CASE("which failures move on: 401, 403, 408 do; 400, 413, 422 and a client gone (499) stay") {
  std::string yaml = "model_list:\n";
  const int statuses[] = {401, 403, 408, 400, 413, 422, 499};
  for (int status : statuses) {
    const std::string name = "s" + std::to_string(status);
    yaml += deployment(name, "echo/a", status) + deployment(name, "echo/b", 0, "moved");
  }
  Fixture f(yaml);
  for (int status : statuses) {
    CAPTURE(status);
    const Response r = f.chat("s" + std::to_string(status));  // the first request starts on echo/a
    if (status == 401 || status == 403 || status == 408) {
      CHECK(r.status == 200);
      CHECK(answer_text(r.body) == "moved");
    } else {
      CHECK(r.status == status);
      CHECK_FALSE(has(r.body, "after"));
    }
  }
}

TEST_CASE("several fallback names are tried in order") {
  Fixture f(std::string("model_list:\n") + deployment("main", "echo/m", 503) + deployment("first", "echo/f", 502) +
            deployment("second", "echo/s", 0, "from-second") + deployment("third", "echo/t", 0, "from-third") +
            "litellm_settings:\n  fallbacks:\n    - main: [first, second, third]\n");
  const Response r = f.chat("main");
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "from-second");  // not third: in order
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_deployment_failures_total{model=\"main\",provider=\"echo\",status=\"503\"} 1\n") &&
           has(m, "llmhost_deployment_failures_total{model=\"main\",provider=\"echo\",status=\"502\"} 1\n");
  }));
}

TEST_CASE("each attempt gets its deployment's own timeout and num_retries") {
  using test::http::Conn;
  using test::http::HttpRequest;
  std::atomic<int> to_busy{0}, to_slow{0}, to_good{0};
  test::http::MockServer busy([&](const HttpRequest &, Conn &c) {
    ++to_busy;
    c.respond(503, R"({"error":{"message":"busy"}})", {"Retry-After: 0"});
  });
  test::http::MockServer slow([&](const HttpRequest &, Conn &c) {
    ++to_slow;
    c.wait_peer_close(std::chrono::seconds(10));  // answers nothing: only a timeout ends it
    c.close_after();
  });
  test::http::MockServer good([&](const HttpRequest &, Conn &c) {
    ++to_good;
    c.respond(200, test::http::completion_json("from-good"));
  });
  const auto openai = [](const std::string &base, const std::string &params) {
    return "  - model_name: m\n    litellm_params:\n      model: openai/x\n      api_key: sk-test\n      api_base: " +
           base + "\n" + params;
  };
  Fixture f("model_list:\n" + openai(busy.base_url(), "      num_retries: 2\n") +
            openai(slow.base_url(), "      timeout: 0.5\n      num_retries: 0\n") +
            openai(good.base_url(), "      timeout: 30\n      num_retries: 0\n"));
  const auto start = std::chrono::steady_clock::now();
  const Response r = f.chat("m");
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "from-good");
  CHECK(to_busy.load() == 3);  // its own num_retries: 2 retries after the first try
  CHECK(to_slow.load() == 1);  // num_retries 0: a timeout is not retried anyway
  CHECK(to_good.load() == 1);
  // The slow deployment's own 0.5 s, not the next one's 30 s, nor the 10 s it would hang.
  CHECK(std::chrono::steady_clock::now() - start < test::kSoon);
}

TEST_CASE("a stream moves on only before its first chunk: after it, a failure is an error event") {
  using test::http::Conn;
  using test::http::HttpRequest;
  test::http::MockServer breaks([&](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"part"},"finish_reason":null}]})"
        "\n\n");
    c.chunk(R"(data: {"error":{"message":"upstream broke mid-stream"}})"
            "\n\n");
    c.end_chunked();
  });
  Fixture f(
      "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/x\n      api_key: sk-test\n"
      "      api_base: " +
      breaks.base_url() + "\n" + deployment("m", "echo/b", 0, "from-echo"));
  const Response r = f.chat("m", "\"stream\":true");  // the first request starts on the openai one
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "part");  // the client had a chunk: no other deployment takes over
  CHECK(has(r.body, "upstream broke mid-stream"));
  CHECK(has(r.body, "data: [DONE]"));
}
