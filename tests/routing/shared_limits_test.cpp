// SharedLimits against a real redis-server: the sliding log holds at the window's boundary on
// Redis's clock, tokens reported by one caller refuse another's admission, cooldowns are shared,
// and a Redis that goes away answers "count in process" at once. A one-second window stands in
// for the minute.
#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "redis_server.hpp"
#include "routing/shared_limits.hpp"

using namespace llmhost;
using routing::Clock;
using routing::Refusal;
using routing::SharedLimits;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  explicit Fixture(double timeout_s = 1) {
    config::RedisSettings r;
    r.host = "127.0.0.1";
    r.port = redis.port();
    r.timeout_s = timeout_s;
    limits.emplace(
        ioc, r, config::RoutingStrategy::kSimpleShuffle, [this](const std::string &line) { notices.push_back(line); },
        1s);
    loop = std::thread([this] { ioc.run(); });
    const auto deadline = Clock::now() + 10s;
    while (!limits->up() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    REQUIRE(limits->up());
  }
  ~Fixture() {
    work.reset();
    ioc.stop();
    loop.join();
    limits.reset();  // the loop has stopped, as serve does it
  }

  std::optional<SharedLimits::Verdict> admit(std::vector<routing::DeploymentState *> candidates) {
    std::promise<std::optional<SharedLimits::Verdict>> verdict;
    limits->admit(candidates, [&](std::optional<SharedLimits::Verdict> v) { verdict.set_value(std::move(v)); });
    return verdict.get_future().get();
  }

  test::RedisServer redis;
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::string> notices;  // written on the loop's thread; read after it stopped
  std::optional<SharedLimits> limits;
  std::thread loop;
};

config::Deployment deployment(const std::string &model, std::optional<uint64_t> rpm, std::optional<uint64_t> tpm) {
  config::Deployment d;
  d.model = model;
  d.rpm = rpm;
  d.tpm = tpm;
  return d;
}

}  // namespace

TEST_CASE("rpm in Redis is a sliding log: a request fits again exactly when the oldest leaves the window") {
  Fixture f;
  const config::Deployment d = deployment("echo/a", 5, std::nullopt);
  routing::DeploymentState s(d, {}, true, routing::shared_key("g", d));
  const Clock::time_point first = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const auto v = f.admit({&s});
    REQUIRE(v);
    CHECK(v->admitted == 0);
    if (i == 0) std::this_thread::sleep_for(500ms);  // the other four are younger, by half a window
  }
  const auto over = f.admit({&s});
  REQUIRE(over);
  REQUIRE(over->admitted == 1);  // none
  REQUIRE(over->refused[0]);
  CHECK(over->refused[0]->kind == Refusal::Kind::kRpm);
  CHECK(over->refused[0]->use.requests == 5);
  // Free again when the first of the five is a window old: not at a clock second's turn.
  const Clock::time_point until = over->refused[0]->until;
  CHECK(until > first + 900ms);
  CHECK(until < Clock::now() + 1001ms);
  std::this_thread::sleep_until(until - 300ms);
  CHECK(f.admit({&s})->admitted == 1);  // still five in the last second
  std::this_thread::sleep_until(until + 50ms);
  CHECK(f.admit({&s})->admitted == 0);  // the first left: one fits
  CHECK(f.admit({&s})->admitted == 1);  // and only one
}

TEST_CASE("tokens reported at a call's end refuse the next admission, on the first deployment with room") {
  Fixture f;
  const config::Deployment full = deployment("echo/full", std::nullopt, 10), free = deployment("echo/free", 1, 10);
  routing::DeploymentState a(full, {}, false, routing::shared_key("g", full)),
      b(free, {}, false, routing::shared_key("g", free));
  REQUIRE(f.admit({&a, &b})->admitted == 0);
  f.limits->report(a, 12, SharedLimits::Failure::kNone);
  const auto v = f.admit({&a, &b});  // after the report, on the same connection
  REQUIRE(v);
  CHECK(v->admitted == 1);
  REQUIRE(v->refused[0]);
  CHECK(v->refused[0]->kind == Refusal::Kind::kTpm);
  CHECK(v->refused[0]->use.tokens == 12);
  CHECK_FALSE(v->refused[1]);
  const auto none = f.admit({&a, &b});  // b's rpm is 1
  CHECK(none->admitted == 2);
  CHECK(none->refused[1]->kind == Refusal::Kind::kRpm);
  CHECK(f.redis.command({"TTL", routing::shared_key("g", full) + ":T"}) == "2");  // the window and a second
}

TEST_CASE("a failure past allowed_fails rests the deployment for every caller, and tells its state") {
  Fixture f;
  config::RouterSettings router;
  router.allowed_fails = 0;
  router.cooldown_time_s = 30;
  const config::Deployment d = deployment("echo/bad", std::nullopt, std::nullopt);
  routing::DeploymentState s(d, router, false, routing::shared_key("g", d));
  REQUIRE(f.admit({&s})->admitted == 0);
  s.count_admitted(Clock::now());
  s.count_failure(Clock::now());
  f.limits->report(s, 0, SharedLimits::Failure::kFailed);
  const auto v = f.admit({&s});
  REQUIRE(v->refused[0]);
  CHECK(v->refused[0]->kind == Refusal::Kind::kCooldown);
  CHECK(v->refused[0]->until > Clock::now() + 29s);
  CHECK(s.counts().cooldowns == 1);  // the report's answer came before the admission's
  // The state rests it too, should Redis go away now.
  CHECK(s.admit(Clock::now()));
}

TEST_CASE("Redis gone: admissions answer \"decide in process\" at once, and the client says so once") {
  Fixture f;
  const config::Deployment d = deployment("echo/a", 5, std::nullopt);
  routing::DeploymentState s(d, {}, true, routing::shared_key("g", d));
  f.redis.kill();
  // The first may be in flight when the connection drops; from then on the client knows.
  const auto deadline = Clock::now() + 10s;
  while (f.limits->up() && Clock::now() < deadline) f.admit({&s});
  CHECK_FALSE(f.limits->up());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(f.admit({&s}));
  f.redis.start();
  const auto back = Clock::now() + 10s;
  while (!f.limits->up() && Clock::now() < back) std::this_thread::sleep_for(10ms);
  CHECK(f.limits->up());
  CHECK(f.admit({&s})->admitted == 0);
  f.work.reset();
  f.ioc.stop();
  f.loop.join();
  f.loop = std::thread([] {});
  size_t unreachable = 0;
  for (const std::string &n : f.notices) unreachable += n.find("is unreachable") != std::string::npos;
  CHECK(unreachable == 1);
}

TEST_CASE("Redis slower than redis_timeout: the admission answers \"decide in process\" in time, and sharing resumes") {
  Fixture f(0.2);
  const config::Deployment d = deployment("echo/a", 5, std::nullopt);
  routing::DeploymentState s(d, {}, true, routing::shared_key("g", d));
  REQUIRE(f.admit({&s})->admitted == 0);
  f.redis.command({"CLIENT", "PAUSE", "1500", "ALL"});  // every client's commands wait 1.5 s
  const Clock::time_point asked = Clock::now();
  CHECK_FALSE(f.admit({&s}));
  CHECK(Clock::now() - asked < 1200ms);  // given up on after redis_timeout, not after the pause
  CHECK_FALSE(f.limits->up());
  const auto back = Clock::now() + 10s;
  while (!f.limits->up() && Clock::now() < back) std::this_thread::sleep_for(10ms);
  REQUIRE(f.limits->up());
  const auto v = f.admit({&s});
  REQUIRE(v);
  CHECK(v->admitted == 0);
}
