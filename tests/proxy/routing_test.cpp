// router_settings and the deployments' rpm, tpm and weight through the real serve binary and
// echo: 429 rate_limit_exceeded with OpenAI's headers when every deployment is at its limit,
// tpm counted from usage, cooldowns, least-busy and latency-based picks, per-deployment
// metrics, and config errors.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy_support.hpp"

using namespace ptest;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// The value of one series in a /metrics text; -1 when it is not there.
double metric(const std::string &text, const std::string &series) {
  const size_t at = text.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 1));
}

// An echo deployment of `name` answering `reply`, with more litellm_params lines.
std::string deployment(const std::string &name, const std::string &model, const std::string &reply,
                       const std::string &more = {}) {
  return "  - model_name: " + name + "\n    litellm_params:\n      model: " + model +
         "\n      mock_response: " + reply + "\n" + more;
}

using Fixture = ConfiguredServer;

}  // namespace

TEST_CASE(
    "rpm: past every deployment's limit a request gets 429 rate_limit_exceeded with Retry-After and x-ratelimit-*") {
  Fixture f("model_list:\n" + deployment("capped", "echo/a", "from-a", "      rpm: 2\n") +
            deployment("capped", "echo/b", "from-b", "      rpm: 1\n"));
  std::map<std::string, int> served;
  for (int i = 0; i < 3; ++i) {
    const Response r = f.chat("capped");
    REQUIRE(r.status == 200);
    ++served[answer_text(r.body)];
  }
  CHECK(served == std::map<std::string, int>{{"from-a", 2}, {"from-b", 1}});  // each up to its own rpm
  const Response over = f.chat("capped");
  CHECK(over.status == 429);
  CHECK(json_at(over.body, "/error/code") == "rate_limit_exceeded");
  CHECK(json_at(over.body, "/error/type") == "rate_limit_error");
  CHECK(has(json_at(over.body, "/error/message"), "every deployment of \"capped\" is at its rate limit"));
  CHECK(has(json_at(over.body, "/error/message"), "echo/a (rpm limit, "));
  const int retry_after = std::stoi(over.header("retry-after"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 60);
  CHECK(!over.header("retry-after-ms").empty());
  // The deployment with room soonest: both filled within this second; either may be named.
  const std::string limit = over.header("x-ratelimit-limit-requests");
  CHECK((limit == "1" || limit == "2"));
  CHECK(over.header("x-ratelimit-remaining-requests") == "0");
  CHECK(over.header("x-ratelimit-reset-requests").back() == 's');
  // A stream is refused the same way, before anything is sent.
  const Response stream = f.chat("capped", "\"stream\":true");
  CHECK(stream.status == 429);
  CHECK(!stream.header("retry-after").empty());
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_deployment_requests_total{model_name=\"capped\",deployment=\"echo/a\"} 2\n") &&
           has(m, "llmhost_deployment_requests_total{model_name=\"capped\",deployment=\"echo/b\"} 1\n") &&
           // The two refused requests passed both over; the first three may have too.
           metric(m, "llmhost_deployment_limited_total{model_name=\"capped\",deployment=\"echo/a\",limit=\"rpm\"}") >=
               2 &&
           metric(m, "llmhost_deployment_limited_total{model_name=\"capped\",deployment=\"echo/b\",limit=\"rpm\"}") >=
               2;
  }));
}

TEST_CASE("tpm counts the tokens each call reports, a stream's at its end") {
  // echo's usage counts words: "hi" is 1 prompt token, the 10-word reply 10 completion tokens.
  Fixture f("model_list:\n" +
            deployment("metered", "echo/a", "one two three four five six seven eight nine ten", "      tpm: 20\n"));
  const Response first = f.chat("metered", "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
  REQUIRE(first.status == 200);
  CHECK(json_at(sse_events(first.body).end()[-2], "/usage/total_tokens") == "11");
  CHECK(f.chat("metered").status == 200);   // 11 < 20
  const Response over = f.chat("metered");  // 22 >= 20
  CHECK(over.status == 429);
  CHECK(has(json_at(over.body, "/error/message"), "echo/a (tpm limit, "));
  CHECK(over.header("x-ratelimit-limit-tokens") == "20");
  CHECK(over.header("x-ratelimit-remaining-tokens") == "0");
  CHECK(over.header("x-ratelimit-limit-requests").empty());  // no rpm set
  CHECK(eventually([&] {
    return has(f.metrics(), "llmhost_deployment_tokens_total{model_name=\"metered\",deployment=\"echo/a\"} 22\n");
  }));
}

TEST_CASE("cooldown: a deployment failing more than allowed_fails times is skipped for cooldown_time") {
  Fixture f("model_list:\n" + deployment("pair", "echo/bad", "x", "      mock_error_status: 503\n") +
            deployment("pair", "echo/good", "from-good") +
            "router_settings:\n  allowed_fails: 0\n  cooldown_time: 60\n");
  for (int i = 0; i < 20; ++i) {
    const Response r = f.chat("pair");
    CHECK(r.status == 200);
    CHECK(answer_text(r.body) == "from-good");
  }
  // The first call that started on echo/bad rested it: it took one call, whatever the shuffle.
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_deployment_cooldowns_total{model_name=\"pair\",deployment=\"echo/bad\"} 1\n") &&
           (has(m, "llmhost_deployment_requests_total{model_name=\"pair\",deployment=\"echo/bad\"} 1\n") ||
            has(m, "llmhost_deployment_requests_total{model_name=\"pair\",deployment=\"echo/bad\"} 0\n"));
  }));
}

TEST_CASE("cooldown: a deployment that answers 429 is rested at once, with LiteLLM's default allowed_fails") {
  Fixture f("model_list:\n" + deployment("pair", "echo/limited", "x", "      mock_error_status: 429\n") +
            deployment("pair", "echo/fine", "from-fine"));
  const std::string tried = "llmhost_deployment_requests_total{model_name=\"pair\",deployment=\"echo/limited\"}";
  // Until the shuffle has put echo/limited first once (each request: one chance in two).
  for (int i = 0; i < 60 && metric(f.metrics(), tried) < 1; ++i) CHECK(answer_text(f.chat("pair").body) == "from-fine");
  REQUIRE(metric(f.metrics(), tried) == 1);
  for (int i = 0; i < 10; ++i) CHECK(answer_text(f.chat("pair").body) == "from-fine");
  const std::string m = f.metrics();
  CHECK(metric(m, tried) == 1);  // rested for cooldown_time (5 s) after its one 429
  CHECK(metric(m, "llmhost_deployment_cooldowns_total{model_name=\"pair\",deployment=\"echo/limited\"}") == 1);
}

TEST_CASE("least-busy sends the next request to the deployment that is not streaming") {
  const std::string words_a = "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10", words_b = "b1 b2 b3 b4 b5 b6 b7 b8 b9 b10";
  Fixture f("model_list:\n" + deployment("duo", "echo/a", words_a) + deployment("duo", "echo/b", words_b) +
            "router_settings:\n  routing_strategy: least-busy\n");
  for (int round = 0; round < 3; ++round) {
    Client held(f.server->port());  // one event every 100 ms: about a second in all
    held.send("POST", "/v1/chat/completions", chat_body("duo", "hi", "\"stream\":true,\"mock_delay_ms\":100"));
    const bool on_a = has(held.read_until("\n\n"), "\"a1\"");
    const std::string busy = on_a ? "echo/a" : "echo/b";
    CHECK(has(f.metrics(), "llmhost_deployment_in_flight{model_name=\"duo\",deployment=\"" + busy + "\"} 1\n"));
    for (int i = 0; i < 3; ++i) CHECK(answer_text(f.chat("duo").body) == (on_a ? words_b : words_a));
    held.finish();
  }
}

TEST_CASE("latency-based-routing prefers the faster of two deployments once both are measured") {
  Fixture f("model_list:\n" + deployment("race", "echo/slow", "from-slow", "      mock_delay_ms: 150\n") +
            deployment("race", "echo/fast", "from-fast") +
            "router_settings:\n  routing_strategy: latency-based-routing\n");
  std::map<std::string, int> served;
  for (int i = 0; i < 12; ++i) ++served[answer_text(f.chat("race").body)];
  // Each is tried once while unmeasured; after that the fast one every time.
  CHECK(served["from-slow"] == 1);
  CHECK(served["from-fast"] == 11);
}

TEST_CASE("bad router_settings and limits stop start-up with file, line and cause") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  auto fails_with = [&](const std::string &yaml, const std::string &want) {
    write_file(cfg, yaml);
    const test::RunResult r = serve_fails({"--config", cfg.string()});
    CHECK(r.exit_code != 0);
    CHECK_MESSAGE(has(r.err, want), r.err);
  };
  fails_with("router_settings:\n  routing_strategy: fastest\n",
             "config.yaml:2:21: \"router_settings.routing_strategy\" must be one of simple-shuffle, least-busy, "
             "latency-based-routing, usage-based-routing, usage-based-routing-v2, round-robin; got \"fastest\"");
  fails_with("model_list:\n" + deployment("a", "echo/a", "x", "      rpm: -5\n"),
             "config.yaml:6:12: \"model_list[0].litellm_params.rpm\" must be a whole number of requests per minute, "
             "at least 1");
  fails_with("model_list:\n" + deployment("a", "echo/a", "x", "      weight: 0\n"),
             "\"model_list[0].litellm_params.weight\" must be a number greater than 0");
  fails_with("router_settings:\n  cooldown_time: -1\n",
             "\"router_settings.cooldown_time\" must be a number of seconds");
  fails_with("router_settings:\n  allowed_fails: 1.5\n", "\"router_settings.allowed_fails\" must be a whole number");
  fails_with("router_settings:\n  redis_url: rediss://cache:6380\n",
             "config.yaml:2:14: \"router_settings.redis_url\": TLS (rediss://) is not supported");
  fails_with("router_settings:\n  redis_url: redis://cache:port\n",
             "\"router_settings.redis_url\": the port \"port\" is not in 1..65535 (expected "
             "redis://[[user]:password@]host[:port][/db])");
  fails_with("router_settings:\n  redis_port: 6379\n",
             "config.yaml:2:15: router_settings.redis_port and redis_password need router_settings.redis_host (or "
             "redis_url)");
  fails_with("router_settings:\n  redis_host: os.environ/LLMHOST_TEST_UNSET_REDIS\n",
             "\"router_settings.redis_host\": environment variable LLMHOST_TEST_UNSET_REDIS is not set");
}
