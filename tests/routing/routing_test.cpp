// The router's parts in process, on a clock the test sets: the sliding window at the turn of
// the minute, rpm and tpm admission, cooldowns (LiteLLM's allowed_fails / cooldown_time), the
// order each routing_strategy gives, and docs/config.md's example.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "config/config.hpp"
#include "routing/deployment_state.hpp"
#include "routing/sliding_window.hpp"
#include "routing/strategy.hpp"

using namespace llmhost;
using namespace std::chrono_literals;
using routing::Clock;
using routing::DeploymentState;
using routing::Refusal;

namespace {

config::Deployment deployment(const std::string &model, std::optional<uint64_t> rpm = {},
                              std::optional<uint64_t> tpm = {}, double weight = 1) {
  config::Deployment d;
  d.model = model;
  d.rpm = rpm;
  d.tpm = tpm;
  d.weight = weight;
  return d;
}

// A model name's deployments and their states, as ModelTable keeps them.
struct Group {
  explicit Group(std::vector<config::Deployment> ds, config::RouterSettings router = {}) : deployments(std::move(ds)) {
    for (const auto &d : deployments)
      states.push_back(std::make_unique<DeploymentState>(d, router, deployments.size() == 1));
  }
  std::vector<DeploymentState *> ordered(config::RoutingStrategy s, Clock::time_point now = Clock::now()) {
    std::vector<DeploymentState *> g;
    for (auto &st : states) g.push_back(st.get());
    routing::order(s, g, turn, now);
    return g;
  }
  std::vector<config::Deployment> deployments;
  std::vector<std::unique_ptr<DeploymentState>> states;
  std::atomic<uint64_t> turn{0};
};

}  // namespace

TEST_CASE("the sliding window counts each event for exactly 60 s, whatever the clock minute") {
  routing::SlidingWindow w;
  const Clock::time_point t0 = Clock::now();
  w.add(t0);
  w.add(t0 + 10s, 5);
  w.add(t0 + 59s);
  CHECK(w.count(t0 + 59999ms) == 3);
  CHECK(w.total(t0 + 59999ms) == 7);
  CHECK(w.count(t0 + 60s) == 2);  // the first left exactly 60 s after it happened
  CHECK(w.next_expiry(t0 + 60s) == t0 + 70s);
  CHECK(w.below(3, t0 + 60s) == t0 + 70s);  // total 6 falls to 1 when the 5 leaves
  CHECK(w.below(7, t0 + 60s) == t0 + 60s);  // already below
  CHECK(w.count(t0 + 119s) == 0);
  CHECK(w.next_expiry(t0 + 119s) == t0 + 119s);
}

TEST_CASE("rpm holds over every 60 s span: no burst of twice the limit around the turn of a minute") {
  const config::Deployment d = deployment("p/a", 60);
  DeploymentState s(d, {}, true);
  // 60 requests in the last tenth of a second of one clock minute, as a fixed-window counter
  // would see them; then more in the first tenth of the next. A fixed window would let 60
  // more through; the sliding log lets none until the first has aged 60 s.
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 60; ++i) REQUIRE_FALSE(s.admit(t0 + std::chrono::milliseconds(i)));
  for (int i = 0; i < 60; ++i) s.release();
  const std::optional<Refusal> next_minute = s.admit(t0 + 200ms);
  REQUIRE(next_minute);
  CHECK(next_minute->kind == Refusal::Kind::kRpm);
  CHECK(next_minute->until == t0 + 60s);
  CHECK(s.admit(t0 + 59999ms));                             // still 60 in the window
  CHECK_FALSE(s.admit(t0 + 60s));                           // the first has left: exactly one more fits
  const std::optional<Refusal> second = s.admit(t0 + 60s);  // and no second
  REQUIRE(second);
  CHECK(second->use.requests == 60);
  CHECK(second->use.rpm == 60u);
  CHECK(second->use.requests_reset == t0 + 60s + 1ms);
}

TEST_CASE("tpm counts the tokens of answered calls, and admits again once enough have aged out") {
  const config::Deployment d = deployment("p/a", {}, 100);
  DeploymentState s(d, {}, true);
  const Clock::time_point t0 = Clock::now();
  REQUIRE_FALSE(s.admit(t0));
  s.succeeded(t0 + 1s, 1s, 60);
  REQUIRE_FALSE(s.admit(t0 + 2s));  // 60 < 100
  s.succeeded(t0 + 3s, 1s, 50);
  const std::optional<Refusal> r = s.admit(t0 + 4s);  // 110 >= 100
  REQUIRE(r);
  CHECK(r->kind == Refusal::Kind::kTpm);
  CHECK(r->until == t0 + 61s);  // when the 60 leave, 50 remain
  CHECK_FALSE(s.admit(t0 + 61s));
  CHECK(s.counts().tokens == 110);
  CHECK(s.counts().refused[static_cast<size_t>(Refusal::Kind::kTpm)] == 1);
}

TEST_CASE("cooldown: more than allowed_fails failures in a minute rest a deployment for cooldown_time") {
  config::RouterSettings router;
  router.allowed_fails = 1;
  router.cooldown_time_s = 30;
  const config::Deployment d = deployment("p/a");
  DeploymentState s(d, router, false);
  const Clock::time_point t0 = Clock::now();
  REQUIRE_FALSE(s.admit(t0));
  CHECK_FALSE(s.failed(t0));  // one is allowed
  REQUIRE_FALSE(s.admit(t0 + 1s));
  CHECK(s.failed(t0 + 1s));  // the second rests it
  const std::optional<Refusal> r = s.admit(t0 + 2s);
  REQUIRE(r);
  CHECK(r->kind == Refusal::Kind::kCooldown);
  CHECK(r->until == t0 + 31s);
  CHECK_FALSE(s.admit(t0 + 31s));  // rested enough
  CHECK(s.counts().cooldowns == 1);
  CHECK(s.in_flight() == 1);
}

TEST_CASE("cooldown: an upstream 429 rests a deployment at once, however few failures it had") {
  config::RouterSettings router;  // allowed_fails 3 (unset), cooldown_time 5 s
  const config::Deployment d = deployment("p/a");
  DeploymentState s(d, router, false);
  const Clock::time_point t0 = Clock::now();
  REQUIRE_FALSE(s.admit(t0));
  CHECK(s.failed(t0, /*rate_limited=*/true));
  const std::optional<Refusal> r = s.admit(t0 + 1s);
  REQUIRE(r);
  CHECK(r->kind == Refusal::Kind::kCooldown);
  CHECK(r->until == t0 + 5s);
  DeploymentState alone(d, router, true);  // with nowhere else to go: not rested
  REQUIRE_FALSE(alone.admit(t0));
  CHECK_FALSE(alone.failed(t0, true));
  CHECK_FALSE(alone.admit(t0 + 1s));
}

TEST_CASE("cooldown: the only deployment of a name is never rested unless allowed_fails is set (LiteLLM's rule)") {
  const config::Deployment d = deployment("p/a");
  const Clock::time_point t0 = Clock::now();
  DeploymentState alone(d, {}, true);
  for (int i = 0; i < 10; ++i) {
    REQUIRE_FALSE(alone.admit(t0 + std::chrono::seconds(i)));
    CHECK_FALSE(alone.failed(t0 + std::chrono::seconds(i)));
  }
  config::RouterSettings set;
  set.allowed_fails = 0;
  DeploymentState told(d, set, true);
  REQUIRE_FALSE(told.admit(t0));
  CHECK(told.failed(t0));
  CHECK(told.admit(t0 + 1s));
  config::RouterSettings off;
  off.allowed_fails = 0;
  off.cooldown_time_s = 0;  // 0: never rested
  DeploymentState never(d, off, false);
  REQUIRE_FALSE(never.admit(t0));
  CHECK_FALSE(never.failed(t0));
  CHECK_FALSE(never.admit(t0 + 1s));
}

TEST_CASE("simple-shuffle picks by weight: 1:3 over 10,000 picks within 2 points of 25% / 75%") {
  Group g({deployment("p/light", {}, {}, 1), deployment("p/heavy", {}, {}, 3)});
  std::map<std::string, int> first;
  for (int i = 0; i < 10000; ++i) ++first[g.ordered(config::RoutingStrategy::kSimpleShuffle)[0]->deployment().model];
  CHECK(first["p/light"] == doctest::Approx(2500).epsilon(0.08));
  CHECK(first["p/heavy"] == doctest::Approx(7500).epsilon(0.03));
  // Every deployment is in the order, each once.
  const auto all = g.ordered(config::RoutingStrategy::kSimpleShuffle);
  CHECK(all.size() == 2);
  CHECK(all[0] != all[1]);
}

TEST_CASE("least-busy puts the idle deployment first; latency-based the faster; usage-based the least used") {
  Group g({deployment("p/a"), deployment("p/b")});
  DeploymentState &a = *g.states[0], &b = *g.states[1];
  const Clock::time_point t0 = Clock::now();
  REQUIRE_FALSE(a.admit(t0));  // a has a call in flight
  for (int i = 0; i < 20; ++i) CHECK(g.ordered(config::RoutingStrategy::kLeastBusy)[0] == &b);
  a.succeeded(t0 + 1s, 300ms, 500);
  REQUIRE_FALSE(b.admit(t0));
  // b has no latency yet, so it is tried first (measured as 0) ...
  CHECK(g.ordered(config::RoutingStrategy::kLatencyBased)[0] == &b);
  b.succeeded(t0 + 1s, 20ms, 10);
  // ... and, once measured, it is the faster.
  for (int i = 0; i < 20; ++i) CHECK(g.ordered(config::RoutingStrategy::kLatencyBased)[0] == &b);
  for (int i = 0; i < 20; ++i) CHECK(g.ordered(config::RoutingStrategy::kUsageBased, t0 + 2s)[0] == &b);
  // A minute later a's 500 tokens have aged out: both at 0, either may come first.
  std::map<DeploymentState *, int> later;
  for (int i = 0; i < 200; ++i) ++later[g.ordered(config::RoutingStrategy::kUsageBased, t0 + 62s)[0]];
  CHECK(later[&a] > 0);
  CHECK(later[&b] > 0);
}

TEST_CASE("round-robin starts each request on the next deployment") {
  Group g({deployment("p/a"), deployment("p/b"), deployment("p/c")});
  std::vector<std::string> firsts;
  for (int i = 0; i < 6; ++i) firsts.push_back(g.ordered(config::RoutingStrategy::kRoundRobin)[0]->deployment().model);
  CHECK(firsts == std::vector<std::string>{"p/a", "p/b", "p/c", "p/a", "p/b", "p/c"});
}

TEST_CASE("the router_settings example in docs/config.md is a valid config that says the defaults") {
  std::ifstream in(std::filesystem::path(LLMHOST_SOURCE_DIR) / "docs/config.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t section = doc.find("## `router_settings`");
  REQUIRE(section != std::string::npos);
  const size_t begin = doc.find("```yaml\n", section);
  REQUIRE(begin != std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  const config::Config c = config::parse(doc.substr(begin + 8, end - begin - 8), "docs/config.md");
  CHECK(c.warnings.empty());
  const config::RouterSettings defaults;
  CHECK(c.router.strategy == defaults.strategy);
  CHECK(c.router.allowed_fails == 3u);
  CHECK(c.router.cooldown_time_s == defaults.cooldown_time_s);
}
