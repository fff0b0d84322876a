// Streaming through the openai provider: SSE split at every byte boundary, multi-line events,
// comments, tool-call deltas, the usage chunk, and a consumer that stops mid-stream. Each in
// both forms: the blocking Host::stream (the plugin's `stream` and `perform`), and the callback
// form (its `stream_async` over `perform_async`: chunks on the HTTP event loop, no worker).
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "http_support.hpp"

using namespace test::http;
using namespace std::chrono_literals;

namespace {

struct Collected {
  std::string text, reasoning, finish_reason;
  std::optional<llmhost::Usage> usage;
  std::vector<llmhost::ToolCall> calls;  // reassembled from deltas by index
  int chunks = 0;
  std::vector<std::string> raw;
  std::set<std::string> threads;  // names of the threads the chunks came on
};

enum class Form { kBlocking, kCallback };
constexpr Form kForms[] = {Form::kBlocking, Form::kCallback};

// Streams `r` in the given form until it ends, or until `stop_after` chunks (then the consumer
// stops it); throws the stream's error either way.
Collected collect(llmhost::Host &host, const llmhost::Request &r, Form form = Form::kBlocking,
                  std::stop_token stop = {}, int stop_after = -1) {
  Collected c;
  auto on_chunk = [&](const llmhost::Chunk &chunk) {
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    c.threads.insert(name);
    ++c.chunks;
    c.text += chunk.content;
    c.reasoning += chunk.reasoning;
    if (!chunk.finish_reason.empty()) c.finish_reason = chunk.finish_reason;
    if (chunk.usage) c.usage = chunk.usage;
    c.raw.emplace_back(chunk.raw_json);
    for (const auto &d : chunk.tool_calls) {
      if (c.calls.size() <= d.index) c.calls.resize(d.index + 1);
      c.calls[d.index].id += d.id;
      c.calls[d.index].name += d.name;
      c.calls[d.index].arguments += d.arguments;
    }
    return c.chunks != stop_after;
  };
  if (form == Form::kBlocking) {
    host.stream(r, on_chunk, stop);
    return c;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::optional<llmhost::Error>> end;
  host.stream(
      r, on_chunk,
      [&](std::optional<llmhost::Error> e) {
        std::lock_guard lock(mu);
        end = std::move(e);
        cv.notify_all();
      },
      // Isolated, a stream holds a host thread, as a blocking plugin's does (docs/isolation.md):
      // the asynchronous form runs in the worker.
      stop,
      test::isolated() ? llmhost::BlockingExecutor{}
                       : [](std::function<void()>) { FAIL("a blocking job was started"); });
  std::unique_lock lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return end.has_value(); }));
  if (*end) throw **end;
  if (c.chunks > 0 && !test::isolated()) CHECK(c.threads == std::set<std::string>{"llmh-http"});
  return c;
}

std::string delta_event(std::string_view delta_json, std::string_view finish = "null") {
  return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
         "\"delta\":" +
         std::string(delta_json) + ",\"finish_reason\":" + std::string(finish) + "}]}\n\n";
}

// An SSE body with every feature the parser must handle: a comment, an "event:" line, CRLF line
// endings, a JSON object split over two "data:" lines, reasoning, a usage-only chunk, [DONE].
std::string rich_stream() {
  return ": keep-alive comment\n\n" + delta_event(R"({"role":"assistant","content":""})") +
         delta_event(R"({"reasoning_content":"hmm"})") +
         "event: message\r\ndata: {\"choices\":[{\"index\":0,\"delta\":\r\ndata: {\"content\":\"Hel\"}}]}\r\n\r\n" +
         delta_event(R"({"content":"lo, wor"})") + delta_event(R"({"content":"ld!"})") + delta_event("{}", "\"stop\"") +
         "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}\n\n"
         "data: [DONE]\n\n";
}

}  // namespace

TEST_CASE("streaming: text, reasoning, finish_reason and the usage chunk, with stream:true upstream") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(rich_stream());
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  for (Form form : kForms) {
    const auto c =
        collect(host, chat_to(server, "hi", "openai/gpt-test", R"({"stream_options":{"include_usage":true}})"), form);
    CHECK(c.text == "Hello, world!");
    CHECK(c.reasoning == "hmm");
    CHECK(c.finish_reason == "stop");
    REQUIRE(c.usage);
    CHECK(c.usage->total_tokens == 9);
    CHECK(c.chunks == 7);  // one per data event but [DONE]
    CHECK(c.raw[3].find("\"lo, wor\"") != std::string::npos);
  }

  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(server.requests().at(0).body);
  CHECK(body["stream"].get_bool().value() == true);
  CHECK(body["stream_options"]["include_usage"].get_bool().value() == true);
}

TEST_CASE("streaming: an SSE body split at every byte boundary gives the same result") {
  const std::string sse = rich_stream();
  std::atomic<size_t> split{1};
  MockServer server([&](const HttpRequest &, Conn &c) {
    const size_t k = split.load();
    c.begin_chunked();
    c.chunk(sse.substr(0, k));
    std::this_thread::sleep_for(1ms);  // separate TCP segments, separate reads on the client
    c.chunk(sse.substr(k));
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  for (size_t k = 1; k < 2 * sse.size(); ++k) {
    split = k % sse.size();
    if (split == 0) continue;
    const Form form = k < sse.size() ? Form::kBlocking : Form::kCallback;
    const auto c = collect(host, chat_to(server, "hi"), form);
    INFO("split at byte " << split << (form == Form::kBlocking ? ", blocking" : ", callback form"));
    REQUIRE(c.text == "Hello, world!");
    REQUIRE(c.reasoning == "hmm");
    REQUIRE(c.finish_reason == "stop");
    REQUIRE(c.usage);
    REQUIRE(c.chunks == 7);
  }
  // All of it on one kept-alive connection per form (the blocking path's pool and the event
  // loop's multi handle keep their own). Isolated, the worker runs both on the asynchronous form.
  CHECK(server.accepted() == (test::isolated() ? 1 : 2));
}

TEST_CASE("streaming: tool-call deltas carry index, id, name and argument fragments") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(delta_event(
        R"({"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]})"));
    c.chunk(delta_event(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]})"));
    c.chunk(delta_event(R"({"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]})"));
    c.chunk(delta_event(
        R"({"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]})"));
    c.chunk(delta_event("{}", "\"tool_calls\""));
    c.chunk("data: [DONE]\n\n");
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  const auto c = collect(host, chat_to(server, "weather?"), Form::kCallback);
  REQUIRE(c.calls.size() == 2);
  CHECK(c.calls[0].id == "call_a");
  CHECK(c.calls[0].name == "get_weather");
  CHECK(c.calls[0].arguments == R"({"city":"Paris"})");
  CHECK(c.calls[1].id == "call_b");
  CHECK(c.calls[1].name == "get_time");
  CHECK(c.finish_reason == "tool_calls");
}

TEST_CASE("streaming: an upstream error status and an error event surface as errors") {
  std::atomic<int> mode{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (mode == 0) {
      c.respond(400, R"({"error":{"message":"Invalid 'messages': empty array","type":"invalid_request_error"}})");
    } else {
      c.begin_chunked();
      c.chunk(delta_event(R"({"content":"par"})"));
      c.chunk("data: {\"error\":{\"message\":\"model overloaded\"}}\n\n");
      c.end_chunked();
    }
  });
  llmhost::Host host(host_options());
  for (Form form : kForms) {
    mode = 0;
    auto e = error_of([&] { collect(host, chat_to(server, "hi"), form); });
    CHECK(e.status() == 400);
    CHECK(std::string(e.what()).find("Invalid 'messages': empty array") != std::string::npos);
    mode = 1;
    e = error_of([&] { collect(host, chat_to(server, "hi"), form); });
    CHECK(e.status() == 502);
    CHECK(std::string(e.what()).find("model overloaded") != std::string::npos);
  }
}

TEST_CASE("streaming: a consumer that stops mid-stream closes the upstream connection promptly") {
  std::atomic<bool> closed{false};
  std::atomic<int64_t> close_ms{-1};
  MockServer server([&](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(delta_event(R"({"content":"one"})"));
    c.chunk(delta_event(R"({"content":"two"})"));
    const auto start = std::chrono::steady_clock::now();
    // The upstream would go on for a long time; the client must hang up instead.
    closed = c.wait_peer_close(5s);
    close_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    c.close_after();
  });
  llmhost::Host host(host_options());
  for (Form form : kForms) {
    closed = false;
    close_ms = -1;
    const auto start = std::chrono::steady_clock::now();
    const auto c = collect(host, chat_to(server, "hi"), form, {}, 1);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(c.chunks == 1);
    CHECK(took < test::kSoon);  // not the upstream's 5 s
    for (int i = 0; i < 100 && close_ms < 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(closed.load());
    CHECK(close_ms.load() >= 0);
    CHECK(close_ms.load() < std::chrono::milliseconds(test::kSoon).count());
  }
}

TEST_CASE("streaming: a cancel from another thread abandons a stream that has gone quiet") {
  MockServer server([&](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(delta_event(R"({"content":"one"})"));
    c.wait_peer_close(5s);
    c.close_after();
  });
  llmhost::Host host(host_options());
  for (Form form : kForms) {
    std::stop_source stop;
    const auto start = std::chrono::steady_clock::now();
    std::thread canceller([&] {
      std::this_thread::sleep_for(200ms);
      stop.request_stop();
    });
    const auto e = error_of([&] { collect(host, chat_to(server, "hi"), form, stop.get_token()); });
    canceller.join();
    CHECK(e.status() == 499);
    CHECK(std::chrono::steady_clock::now() - start < test::kSoon);  // not the upstream's 5 s
  }
}
