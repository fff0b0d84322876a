// The router's cost per request, in process (issue 18's target: the limit check under 1 µs):
// admitting a call on a deployment with no limits, with rpm and tpm whose windows hold 10,000
// events (a busy deployment's minute, on a synthetic clock), and ordering a model name's four
// deployments by each strategy. Run: build-bench/bin/routing_bench (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "routing/deployment_state.hpp"
#include "routing/strategy.hpp"

using namespace llmhost;
using routing::Clock;

namespace {

// Admit, then end the call as answered with 100 tokens, `step` apart on a synthetic clock: at
// 6 ms, a 60 s window holds 10,000 requests.
void admit_and_answer(benchmark::State &state, std::optional<uint64_t> rpm, std::optional<uint64_t> tpm) {
  config::Deployment d;
  d.model = "p/m";
  d.rpm = rpm;
  d.tpm = tpm;
  routing::DeploymentState s(d, {}, true);
  Clock::time_point now = Clock::now();
  const auto step = std::chrono::milliseconds(6);
  for (int i = 0; i < 20000; ++i, now += step) {  // fill the windows first
    if (!s.admit(now)) s.succeeded(now, step, 100);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.admit(now));
    s.succeeded(now, step, 100);
    now += step;
  }
}

void BM_Admit_NoLimits(benchmark::State &state) { admit_and_answer(state, {}, {}); }
void BM_Admit_RpmTpm(benchmark::State &state) { admit_and_answer(state, 1'000'000, 1'000'000'000); }
BENCHMARK(BM_Admit_NoLimits);
BENCHMARK(BM_Admit_RpmTpm);

void order(benchmark::State &state, config::RoutingStrategy strategy) {
  std::vector<config::Deployment> ds(4);
  std::vector<std::unique_ptr<routing::DeploymentState>> states;
  for (size_t i = 0; i < ds.size(); ++i) {
    ds[i].model = "p/m" + std::to_string(i);
    ds[i].weight = double(i + 1);
    states.push_back(std::make_unique<routing::DeploymentState>(ds[i], config::RouterSettings{}, false));
  }
  std::atomic<uint64_t> turn{0};
  std::vector<routing::DeploymentState *> group;
  for (auto _ : state) {
    group.clear();
    for (auto &s : states) group.push_back(s.get());
    routing::order(strategy, group, turn, Clock::now());
    benchmark::DoNotOptimize(group.data());
  }
}

void BM_Order4_SimpleShuffle(benchmark::State &s) { order(s, config::RoutingStrategy::kSimpleShuffle); }
void BM_Order4_LeastBusy(benchmark::State &s) { order(s, config::RoutingStrategy::kLeastBusy); }
void BM_Order4_LatencyBased(benchmark::State &s) { order(s, config::RoutingStrategy::kLatencyBased); }
void BM_Order4_UsageBased(benchmark::State &s) { order(s, config::RoutingStrategy::kUsageBased); }
void BM_Order4_RoundRobin(benchmark::State &s) { order(s, config::RoutingStrategy::kRoundRobin); }
BENCHMARK(BM_Order4_SimpleShuffle);
BENCHMARK(BM_Order4_LeastBusy);
BENCHMARK(BM_Order4_LatencyBased);
BENCHMARK(BM_Order4_UsageBased);
BENCHMARK(BM_Order4_RoundRobin);

}  // namespace

BENCHMARK_MAIN();
