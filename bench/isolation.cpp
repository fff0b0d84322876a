// What process isolation costs (issue 15, docs/isolation.md): the same calls through echo in
// process and in a worker process, side by side in one run; and how soon a crashed plugin
// serves again.
//
//   build-bench/bin/isolation [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// - Call/<mode>: Host::complete through echo with a fixed mock_response (echo does no work):
//   the time per call, at 1 and 8 caller threads (an isolated plugin's calls share its channel).
// - Stream/<mode>: a 1,000-word reply, 1,001 chunks; per_chunk is the call divided by them.
// - Restart: faulty (a test fixture) segfaults; the time from the crash's 502 to its next answer.
//
// Targets: at most 20 µs added per call, at most 1 µs per chunk, a restart serving in under 1 s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "llmhost/host.hpp"

namespace {

enum Mode { kInProcess, kIsolated };

llmhost::Host &host(Mode mode) {
  static llmhost::Host *hosts[2] = {};
  if (!hosts[mode]) {
    llmhost::HostOptions o;
    o.plugin_dirs = {LLMHOST_BENCH_PLUGINS};
    o.plugin_files = {LLMHOST_BENCH_TEST_PLUGINS "/libfaulty.so"};
    o.log = [](int, std::string_view, std::string_view) {};
    if (mode == kIsolated) {
      o.isolation.mode = llmhost::Isolation::kProcess;
      o.workers.executable = LLMHOST_BENCH_CLI;
      o.workers.crash_loop_window = std::chrono::milliseconds(1);  // every crash a first one
    }
    hosts[mode] = new llmhost::Host(o);  // leaked on purpose: lives until exit
  }
  return *hosts[mode];
}

llmhost::Request echo_request(std::string reply) {
  llmhost::Request r;
  r.model = "echo/bench";
  r.messages.push_back({"user", "What is the capital of France? Reply in one word.", {}, {}, {}});
  r.body_json =
      R"({"model":"echo/bench","messages":[{"role":"user","content":"go"}],"mock_response":")" + reply + "\"}";
  return r;
}

void BM_Call(benchmark::State &state, Mode mode) {
  llmhost::Host &h = host(mode);
  const llmhost::Request req = echo_request("Paris.");
  if (h.complete(req).content != "Paris.") state.SkipWithError("unexpected reply");
  for (auto _ : state) benchmark::DoNotOptimize(h.complete(req));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Call, in_process, kInProcess)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK_CAPTURE(BM_Call, isolated, kIsolated)->Threads(1)->Threads(8)->UseRealTime();

void BM_Stream(benchmark::State &state, Mode mode) {
  std::string reply;
  for (int i = 0; i < 1000; ++i) reply += (i ? " w" : "w") + std::to_string(i);
  const llmhost::Request req = echo_request(reply);
  llmhost::Host &h = host(mode);
  size_t chunks = 0;
  const llmhost::ChunkCallback count = [&](const llmhost::Chunk &) { return ++chunks, true; };
  h.stream(req, count);
  if (chunks != 1001) state.SkipWithError("unexpected chunking");
  chunks = 0;
  for (auto _ : state) h.stream(req, count);
  state.counters["per_chunk"] =
      benchmark::Counter(static_cast<double>(chunks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(BM_Stream, in_process, kInProcess)->UseRealTime();
BENCHMARK_CAPTURE(BM_Stream, isolated, kIsolated)->UseRealTime();

void BM_Restart(benchmark::State &state) {
  llmhost::Host &h = host(kIsolated);
  llmhost::Request crash, ok;
  crash.model = "faulty/segv";
  ok.model = "faulty/ok";
  crash.messages = ok.messages = {{"user", "x", {}, {}, {}}};
  for (auto _ : state) {
    try {
      h.complete(crash);
      state.SkipWithError("faulty/segv answered");
      break;
    } catch (const llmhost::Error &) {}
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {  // 503 while the new worker starts
      try {
        h.complete(ok);
        break;
      } catch (const llmhost::Error &e) {
        if (e.status() != 503) {
          state.SkipWithError(e.what());
          break;
        }
      }
    }
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}
BENCHMARK(BM_Restart)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
