// In-process cost of the gateway (issue 6, "In process"): Google Benchmark.
//
//   build-bench/bin/inprocess [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// - Host::complete through echo with a fixed mock_response (the plugin does no work): ns per
//   call, 1 and 2 threads, for the three ways a body reaches the plugin: the caller's body_json
//   (the proxy path), body built from Request fields + extra_json merged in (CLI --param,
//   config params), and body built from fields alone (no knob: echo replies the prompt).
// - Streaming: ns per chunk crossing the ABI, a 1,000-word reply (1,001 chunks per call).
// - Routing + registry lookup alone (split "provider/model", find + pin the plugin).
// - The JSON codec alone: writing a chat.completion and a chat.completion.chunk; parsing a
//   typical chat request (built as a separate binary, inprocess_parse, from this same file with
//   LLMHOST_BENCH_PARSE_ONLY: the parser lives in the openai module).
//
// Targets: under 1 µs per call end to end, under 100 ns per streamed chunk. Results and the
// machine they came from: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dispatch/model_name.hpp"
#include "llmhost/host.hpp"
#include "loader/plugin.hpp"
#include "loader/registry.hpp"
#include "openai/response.hpp"
#ifdef LLMHOST_BENCH_PARSE_ONLY
#include "openai/request.hpp"
#endif

namespace {

namespace fs = std::filesystem;

// A typical chat request as an OpenAI client sends it (system + user, a few parameters).
constexpr std::string_view kChatBody =
    R"({"model":"echo/bench","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},)"
    R"({"role":"user","content":"What is the capital of France? Reply in one word."}],)"
    R"("temperature":0.2,"top_p":1,"max_tokens":256,"stream":false,"user":"bench-user",)"
    R"("mock_response":"Paris."})";

#ifndef LLMHOST_BENCH_PARSE_ONLY
const std::string kMockReply = "Paris.";

// One Host over the bundled plugins (echo among them), shared by every benchmark and thread.
llmhost::Host &host() {
  static llmhost::Host *h = [] {
    llmhost::HostOptions o;
    o.plugin_dirs = {LLMHOST_BENCH_PLUGINS};
    o.log = [](int, std::string_view, std::string_view) {};
    return new llmhost::Host(o);  // leaked on purpose: lives until exit
  }();
  return *h;
}

llmhost::Request chat_request() {
  llmhost::Request r;
  r.model = "echo/bench";
  r.messages.push_back({"system", "You are a helpful assistant. Answer briefly.", {}, {}, {}});
  r.messages.push_back({"user", "What is the capital of France? Reply in one word.", {}, {}, {}});
  r.params.temperature = 0.2;
  r.params.top_p = 1;
  r.params.max_tokens = 256;
  r.params.user = "bench-user";
  return r;
}

void check_reply(benchmark::State &state, const llmhost::Response &resp, const std::string &want) {
  if (resp.content != want) state.SkipWithError(("unexpected reply: " + resp.content).c_str());
}

// Proxy path: the caller's body (parsed elsewhere) goes to the plugin as is.
void BM_Complete_BodyJson(benchmark::State &state) {
  llmhost::Request req = chat_request();
  req.body_json = kChatBody;
  llmhost::Host &h = host();
  check_reply(state, h.complete(req), kMockReply);
  for (auto _ : state) benchmark::DoNotOptimize(h.complete(req));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Complete_BodyJson)->Threads(1)->Threads(2)->UseRealTime();

// CLI --param / config params path: body written from the fields, extra_json merged in.
void BM_Complete_ExtraJson(benchmark::State &state) {
  llmhost::Request req = chat_request();
  req.extra_json = R"({"mock_response":"Paris."})";
  llmhost::Host &h = host();
  check_reply(state, h.complete(req), kMockReply);
  for (auto _ : state) benchmark::DoNotOptimize(h.complete(req));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Complete_ExtraJson)->Threads(1)->Threads(2)->UseRealTime();

// Body written from the fields; no knob, so echo replies with the prompt (no JSON parse in echo).
void BM_Complete_Fields(benchmark::State &state) {
  llmhost::Request req = chat_request();
  llmhost::Host &h = host();
  check_reply(state, h.complete(req), req.messages.back().content);
  for (auto _ : state) benchmark::DoNotOptimize(h.complete(req));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Complete_Fields)->Threads(1)->Threads(2)->UseRealTime();

// Streaming a 1,000-word reply: 1,000 text chunks + 1 finish chunk per call. The counter
// ns_per_chunk is the whole call divided by the chunks (per-call work amortized in).
std::string thousand_words() {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += (i ? " w" : "w") + std::to_string(i);
  return s;
}

void BM_Stream_1000Words(benchmark::State &state) {
  const std::string reply = thousand_words();
  llmhost::Request req = chat_request();
  std::string body = R"({"model":"echo/bench","messages":[{"role":"user","content":"go"}],"mock_response":")";
  body += reply;
  body += "\"}";
  req.body_json = body;
  llmhost::Host &h = host();
  size_t chunks = 0, bytes = 0;
  const llmhost::ChunkCallback cb = [&](const llmhost::Chunk &c) {
    ++chunks;
    bytes += c.content.size();
    return true;
  };
  h.stream(req, cb);
  if (chunks != 1001 || bytes != reply.size()) state.SkipWithError("unexpected chunking");
  chunks = 0;
  for (auto _ : state) h.stream(req, cb);
  state.SetItemsProcessed(static_cast<int64_t>(chunks));
  // Seconds per chunk (printed with an SI prefix: "45n" = 45 ns). With 2 threads: wall time
  // per chunk across both, i.e. the inverse of the combined throughput.
  state.counters["per_chunk"] =
      benchmark::Counter(static_cast<double>(chunks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Stream_1000Words)->Threads(1)->Threads(2)->UseRealTime();

// Routing + registry lookup alone, on a registry holding every bundled plugin: split
// "provider/model", find the provider under a shared lock, pin it (shared_ptr copy) and unpin.
void BM_RouteAndLookup(benchmark::State &state) {
  static llmhost::detail::Registry *registry = [] {
    auto *r = new llmhost::detail::Registry;
    auto services = std::make_shared<llmhost::detail::HostServices>();
    services->log = [](int, std::string_view, std::string_view) {};
    services->extension = [](std::string_view) -> const void * { return nullptr; };
    for (const auto &e : fs::directory_iterator(LLMHOST_BENCH_PLUGINS))
      if (e.path().extension() == ".so") try {
          r->put(llmhost::detail::Plugin::load(e.path(), e.path(), services));
        } catch (const llmhost::LoadException &) {  // openai wants the host's HTTP service: skipped
        }
    return r;
  }();
  const std::string model = "echo/gpt-4o-mini";
  if (!registry->find("echo")) state.SkipWithError("echo not loaded");
  for (auto _ : state) {
    const llmhost::detail::ModelName r = llmhost::detail::split_model(model);
    auto plugin = registry->find(r.provider);
    benchmark::DoNotOptimize(plugin.get());
    benchmark::DoNotOptimize(r.model.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteAndLookup)->Threads(1)->Threads(2)->UseRealTime();

// Writing a chat.completion (the non-streaming proxy answer) into a reused buffer.
void BM_WriteCompletion(benchmark::State &state) {
  llmhost::Response r;
  r.id = llmhost::openai::new_id("chatcmpl");
  r.created = llmhost::openai::unix_now();
  r.model = "echo/bench";
  r.provider = "echo";
  r.content = "The capital of France is Paris. It has been the capital since the 10th century, \"officially\".";
  r.usage = {24, 19, 43};
  std::string out;
  for (auto _ : state) {
    out.clear();
    llmhost::openai::write_completion(out, r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_WriteCompletion);

// Writing one chat.completion.chunk with a one-word text delta into a reused buffer.
void BM_WriteChunk(benchmark::State &state) {
  llmhost::openai::StreamMeta meta{llmhost::openai::new_id("chatcmpl"), llmhost::openai::unix_now(), "echo/bench"};
  llmhost::Chunk c;
  c.content = " Paris";
  std::string out;
  for (auto _ : state) {
    out.clear();
    llmhost::openai::write_chunk(out, meta, c, false);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_WriteChunk);

#endif  // LLMHOST_BENCH_PARSE_ONLY

#ifdef LLMHOST_BENCH_PARSE_ONLY
// Parsing a typical chat request body into a llmhost::Request (simdjson).
void BM_ParseChatRequest(benchmark::State &state) {
  const std::string body(kChatBody);
  {
    auto parsed = llmhost::openai::parse_chat_request(body);
    if (!std::holds_alternative<llmhost::openai::ChatRequest>(parsed)) state.SkipWithError("typical body refused");
  }
  for (auto _ : state) {
    auto parsed = llmhost::openai::parse_chat_request(body);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseChatRequest);
#endif

}  // namespace

BENCHMARK_MAIN();
