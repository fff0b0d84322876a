// Two `llmhost serve` processes sharing their limits and cooldowns through a real redis-server
// (docs/scale-out.md): one rpm, one tpm and one cooldown per deployment across both, requests
// that keep flowing when Redis dies (counted in each process), and sharing that resumes when
// it comes back.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy_support.hpp"
#include "redis_server.hpp"

using namespace ptest;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// The value of one series in a /metrics text (a sample line, not its # HELP); -1 when absent.
double metric(const std::string &text, const std::string &series) {
  const size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

std::string deployment(const std::string &name, const std::string &model, const std::string &more = {}) {
  return "  - model_name: " + name + "\n    litellm_params:\n      model: " + model + "\n" + more;
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Two instances of one config whose router_settings point at `redis`. redis_timeout is loose
// so that a sanitized build on a busy machine is not taken for a slow Redis.
struct Instances {
  Instances(test::RedisServer &redis, const std::string &model_list, const std::string &router = {}) {
    write_file(dir.path() / "config.yaml", "model_list:\n" + model_list +
                                               "router_settings:\n  redis_host: 127.0.0.1\n  redis_port: " +
                                               std::to_string(redis.port()) + "\n  redis_timeout: 0.5\n" + router);
    for (auto *s : {&a, &b})
      s->emplace(std::vector<std::string>{"--plugins", test::bundled_plugins().string(), "--config",
                                          (dir.path() / "config.yaml").string()});
  }
  Server &at(int i) { return *(i % 2 ? b : a); }
  Response chat(int i, const std::string &model, const std::string &extra = {}) {
    return Client(at(i).port()).post("/v1/chat/completions", chat_body(model, "hi", extra));
  }
  std::string metrics(int i) { return Client(at(i).port()).get("/metrics").body; }

  test::TempDir dir;
  std::optional<Server> a, b;
};

// The value of the one key matching `pattern`; "" when there is none.
std::string value_of(const test::RedisServer &redis, const std::string &pattern) {
  const std::string key = redis.command({"KEYS", pattern});
  return key.empty() ? std::string() : redis.command({"GET", key});
}

}  // namespace

TEST_CASE("rpm shared: of 100 requests alternating between two instances, exactly 60 pass an rpm: 60 deployment") {
  test::RedisServer redis;
  Instances two(redis, deployment("shared", "echo/a", "      rpm: 60\n"));
  std::map<int, int> statuses;
  std::optional<Response> refused;
  for (int i = 0; i < 100; ++i) {
    Response r = two.chat(i, "shared");
    ++statuses[r.status];
    if (r.status == 429 && !refused) refused = std::move(r);
  }
  CHECK(statuses == std::map<int, int>{{200, 60}, {429, 40}});
  REQUIRE(refused);
  CHECK(json_at(refused->body, "/error/code") == "rate_limit_exceeded");
  CHECK(refused->header("x-ratelimit-limit-requests") == "60");
  CHECK(refused->header("x-ratelimit-remaining-requests") == "0");
  CHECK(!refused->header("x-ratelimit-reset-requests").empty());
  const int retry_after = std::stoi(refused->header("retry-after"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 60);
  // Each instance took its half of the 60: the limit was one, not one per instance.
  const std::string series = "llmhost_deployment_requests_total{model_name=\"shared\",deployment=\"echo/a\"}";
  CHECK(metric(two.metrics(0), series) + metric(two.metrics(1), series) == 60);
  CHECK(metric(two.metrics(0), series) == 30);
  // Keys are namespaced, and hash-tagged by model name for Redis Cluster.
  CHECK(has(redis.command({"KEYS", "llmhost:{shared}:*:r"}), "llmhost:{shared}:"));
}

TEST_CASE("tpm shared: tokens one instance's calls reported count against the other's admissions") {
  test::RedisServer redis;
  Instances two(redis, deployment("metered", "echo/a", "      tpm: 100\n"));
  uint64_t tokens = 0;
  int i = 0;
  for (; tokens < 100 && i < 200; ++i) {
    const Response r = two.chat(i, "metered", "\"mock_response\":\"one two three four five six seven eight\"");
    REQUIRE(r.status == 200);
    tokens += std::stoull(json_at(r.body, "/usage/total_tokens"));
    // Reported without waiting: once Redis has it, the next admission, on the other instance, sees it.
    CHECK(eventually([&] { return value_of(redis, "llmhost:{metered}:*:T") == std::to_string(tokens); }));
  }
  REQUIRE(tokens >= 100);
  for (int j = i; j < i + 2; ++j) {  // both instances refuse now
    const Response over = two.chat(j, "metered");
    CHECK(over.status == 429);
    CHECK(over.header("x-ratelimit-limit-tokens") == "100");
    CHECK(over.header("x-ratelimit-remaining-tokens") == "0");
    CHECK(has(json_at(over.body, "/error/message"), "echo/a (tpm limit, "));
  }
}

TEST_CASE("cooldown shared: a deployment rested by one instance's failures is skipped by the other") {
  test::RedisServer redis;
  Instances two(redis,
                deployment("pair", "echo/bad", "      mock_error_status: 503\n") +
                    deployment("pair", "echo/good", "      mock_response: from-good\n"),
                "  allowed_fails: 0\n  cooldown_time: 60\n");
  const std::string cooldowns = "llmhost_deployment_cooldowns_total{model_name=\"pair\",deployment=\"echo/bad\"}";
  // On the first instance until the shuffle has put echo/bad first once and it failed.
  for (int i = 0; i < 60 && metric(two.metrics(0), cooldowns) < 1; ++i)
    CHECK(answer_text(two.chat(0, "pair").body) == "from-good");
  REQUIRE(metric(two.metrics(0), cooldowns) == 1);
  for (int i = 0; i < 20; ++i) CHECK(answer_text(two.chat(1, "pair").body) == "from-good");
  const std::string other = two.metrics(1);
  CHECK(metric(other, "llmhost_deployment_requests_total{model_name=\"pair\",deployment=\"echo/bad\"}") == 0);
  CHECK(metric(other,
               "llmhost_deployment_limited_total{model_name=\"pair\",deployment=\"echo/bad\",limit=\"cooldown\"}") >=
        1);
}

TEST_CASE("Redis outage: no request fails, limits count in each process, and sharing resumes when it is back") {
  test::RedisServer redis;
  Instances two(
      redis, deployment("steady", "echo/a", "      rpm: 1000000\n") + deployment("tight", "echo/b", "      rpm: 2\n"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t)
    load.emplace_back([&, t] {
      for (int i = t; !stop; ++i) (two.chat(i, "steady").status == 200 ? ok : failed)++;
    });
  auto redis_up = [&](int i) { return metric(two.metrics(i), "llmhost_redis_up"); };
  CHECK(eventually([&] { return ok > 50; }));
  REQUIRE(redis_up(0) == 1);
  redis.kill();
  CHECK(eventually([&] { return redis_up(0) == 0 && redis_up(1) == 0; }));
  const int before = ok;
  CHECK(eventually([&] { return ok > before + 50; }));  // still flowing
  // Each process counts alone: rpm 2 lets two through on each.
  CHECK(two.chat(0, "tight").status == 200);
  CHECK(two.chat(0, "tight").status == 200);
  CHECK(two.chat(0, "tight").status == 429);
  CHECK(two.chat(1, "tight").status == 200);
  redis.start();
  CHECK(eventually([&] { return redis_up(0) == 1 && redis_up(1) == 1; }));
  const int after = ok;
  CHECK(eventually([&] { return ok > after + 50; }));
  stop = true;
  for (auto &t : load) t.join();
  CHECK(failed == 0);
  // Shared again (Redis came back empty): one on each instance, then the third is refused.
  CHECK(two.chat(0, "tight", "\"mock_response\":\"x\"").status == 200);
  CHECK(two.chat(1, "tight").status == 200);
  CHECK(two.chat(0, "tight").status == 429);
  for (int i = 0; i < 2; ++i) {
    const std::string err = two.at(i).err();
    CHECK_MESSAGE(count(err, "is unreachable") == 1, err);  // one warning per outage
    CHECK(has(err, "limits and cooldowns count in this process"));
    CHECK(count(err, "is back: limits and cooldowns are shared") == 1);
  }
}

TEST_CASE("Redis unreachable at start: serve warns, serves on local counts, and shares once Redis answers") {
  test::RedisServer redis;
  redis.kill();
  Instances two(redis, deployment("tight", "echo/b", "      rpm: 1\n"));
  CHECK(has(two.at(0).err(), "warning: redis at 127.0.0.1:" + std::to_string(redis.port()) + " is unreachable"));
  CHECK_MESSAGE(metric(two.metrics(0), "llmhost_redis_up") == 0, two.at(0).err());
  CHECK(two.chat(0, "tight").status == 200);
  CHECK(two.chat(1, "tight").status == 200);  // counted apart
  redis.start();
  CHECK(eventually([&] { return metric(two.metrics(0), "llmhost_redis_up") == 1; }));
  CHECK(eventually([&] { return metric(two.metrics(1), "llmhost_redis_up") == 1; }));
  CHECK(two.chat(0, "tight").status == 200);
  CHECK(two.chat(1, "tight").status == 429);
}
