// llmhost serve with a plugin that has the asynchronous call form (the "deferred" test plugin,
// and the bundled openai relay against a loopback upstream): chat completions and streams run on
// the I/O threads with no worker per call, fall back across deployments, and end when the client
// goes. Through the real serve binary over loopback.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

#include "mock_server.hpp"
#include "proxy_support.hpp"

using namespace ptest;
using test::http::Conn;
using test::http::HttpRequest;
using test::http::MockServer;

namespace {

struct Fixture {
  explicit Fixture(const std::string &yaml = {}, std::vector<std::string> args = {}) {
    plugins.add(test::test_plugin("libdeferred.so"));
    plugins.add(test::bundled_plugins() / "libecho.so");
    args.insert(args.end(), {"--plugins", plugins.path().string()});
    if (!yaml.empty()) {
      write_file(dir.path() / "config.yaml", yaml);
      args.insert(args.end(), {"--config", (dir.path() / "config.yaml").string()});
    }
    server.emplace(args);
  }
  std::string metrics() { return Client(server->port()).get("/metrics").body; }

  test::TempDir plugins, dir;
  std::optional<Server> server;
};

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// Posts body_of(i) for i < n, each from its own client at once; the answers in order.
std::vector<Response> post_at_once(uint16_t port, int n, const std::function<std::string(int)> &body_of) {
  std::vector<Response> answers(n);
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&, i] { answers[i] = Client(port).post("/v1/chat/completions", body_of(i)); });
  for (std::thread &t : clients) t.join();
  return answers;
}

}  // namespace

TEST_CASE("64 completions wait on an async plugin at once while serve has one worker") {
  Fixture f({}, {"--workers", "1"});
  constexpr int kClients = 64;
  const std::vector<Response> answers = post_at_once(f.server->port(), kClients, [](int i) {
    return chat_body("deferred/m", "c" + std::to_string(i), "\"delay_ms\": 500");
  });
  int most = 0;
  for (int i = 0; i < kClients; ++i) {
    CHECK(answers[i].status == 200);
    const std::string text = answer_text(answers[i].body);
    CHECK(text.rfind("deferred v1: c" + std::to_string(i) + " in_flight=", 0) == 0);
    CHECK(json_at(answers[i].body, "/model") == "deferred/m");
    const size_t at = text.find("in_flight=");
    if (at != std::string::npos) most = std::max(most, std::stoi(text.substr(at + 10)));
  }
  CHECK(most > 16);  // one worker could hold only one blocking call at a time
}

TEST_CASE("64 streams from an async plugin are open at once while serve has one worker") {
  Fixture f({}, {"--workers", "1"});
  constexpr int kClients = 64;
  const std::vector<Response> answers = post_at_once(f.server->port(), kClients, [](int i) {
    return chat_body("deferred/m", "s" + std::to_string(i), "\"stream\": true, \"delay_ms\": 100, \"chunks\": 3");
  });
  int most = 0;
  for (int i = 0; i < kClients; ++i) {
    CHECK(answers[i].status == 200);
    const std::string text = answer_text(answers[i].body);
    CHECK(text.rfind("deferred v1: s" + std::to_string(i) + " in_flight=", 0) == 0);
    CHECK(!where(sse_events(answers[i].body), "/choices/0/finish_reason", "stop").empty());
    CHECK(answers[i].body.size() >= 14);
    CHECK(answers[i].body.substr(answers[i].body.size() - 14) == "data: [DONE]\n\n");
    const size_t at = text.find("in_flight=");
    if (at != std::string::npos) most = std::max(most, std::stoi(text.substr(at + 10)));
  }
  CHECK(most > 16);  // one worker could hold only one blocking stream at a time
}

TEST_CASE("an async stream: a client 4 MiB behind is disconnected, one that leaves cancels it") {
  Fixture f;
  SUBCASE("too far behind") {
    // ~6 MB emitted inside stream_async, on the I/O thread, before the socket can take any.
    Client slow(f.server->port());
    slow.send("POST", "/v1/chat/completions",
              chat_body("deferred/m", "x", "\"stream\": true, \"inline\": 1, \"chunks\": 64, \"repeat\": 200000"));
    const std::string got = slow.read_raw_all();  // until the server closes
    CHECK_FALSE(has(got, "[DONE]"));
    // Recorded as the server's 408, and no longer in flight.
    CHECK(eventually([&] {
      const std::string m = f.metrics();
      return has(m, "llmhost_requests_in_flight 1\n") &&
             has(m,
                 "llmhost_requests_total{route=\"/v1/chat/completions\",model=\"deferred/"
                 "m\",provider=\"deferred\",status=\"408\"} 1");
    }));
    // The server goes on serving.
    const Response r = Client(f.server->port()).post("/v1/chat/completions", chat_body("deferred/m", "after"));
    CHECK(r.status == 200);
    CHECK(has(r.body, "deferred v1: after"));
  }
  SUBCASE("gone mid-stream") {
    Client gone(f.server->port());
    gone.send("POST", "/v1/chat/completions",
              chat_body("deferred/m", "x", "\"stream\": true, \"delay_ms\": 20, \"chunks\": 1000, \"repeat\": 1000"));
    gone.read_until("\n\n");  // the first event
    gone.close();
    CHECK(eventually([&] {
      const std::string m = f.metrics();
      return has(m, "llmhost_requests_in_flight 1\n") &&
             has(m,
                 "llmhost_requests_total{route=\"/v1/chat/completions\",model=\"deferred/"
                 "m\",provider=\"deferred\",status=\"499\"} 1");
    }));
  }
}

TEST_CASE("an async deployment that fails hands the request to the next one") {
  Fixture f(
      "model_list:\n"
      "  - model_name: pair\n    litellm_params:\n      model: deferred/a\n      fail_status: 503\n"
      "  - model_name: pair\n    litellm_params:\n      model: echo/b\n      mock_response: from-echo\n"
      "router_settings:\n  routing_strategy: round-robin\n");
  for (int i = 0; i < 2; ++i) {  // round robin: once starting on each
    const Response r = Client(f.server->port()).post("/v1/chat/completions", chat_body("pair", "hi"));
    CHECK(r.status == 200);
    CHECK(answer_text(r.body) == "from-echo");
    CHECK(json_at(r.body, "/model") == "pair");
  }
  CHECK(eventually([&] {
    return has(f.metrics(),
               "llmhost_deployment_failures_total{model=\"pair\",provider=\"deferred\",status=\"503\"} 1\n");
  }));
}

TEST_CASE("an async call's error and its client's disconnect") {
  Fixture f;
  const Response r =
      Client(f.server->port()).post("/v1/chat/completions", chat_body("deferred/m", "x", "\"fail_status\": 429"));
  CHECK(r.status == 429);
  CHECK(has(r.body, "deferred: failed as asked"));

  Client gone(f.server->port());
  gone.send("POST", "/v1/chat/completions", chat_body("deferred/m", "x", "\"delay_ms\": 600000"));
  CHECK(eventually([&] { return has(f.metrics(), "llmhost_requests_in_flight 2\n"); }));  // it and the scrape
  gone.close();
  // The plugin sees the cancel and finishes; the request is recorded as the client's 499.
  CHECK(eventually([&] {
    const std::string m = f.metrics();
    return has(m, "llmhost_requests_in_flight 1\n") &&
           has(m,
               "llmhost_requests_total{route=\"/v1/chat/completions\",model=\"deferred/"
               "m\",provider=\"deferred\",status=\"499\"} 1");
  }));
}

TEST_CASE("SIGTERM with async calls in flight: cancelled at the drain deadline, or exit past it") {
  SUBCASE("a plugin that honours its cancel: drained, exit 0") {
    Fixture f({}, {"--drain-timeout", "1"});
    Client c(f.server->port());
    c.send("POST", "/v1/chat/completions", chat_body("deferred/m", "x", "\"delay_ms\": 600000"));
    CHECK(eventually([&] { return has(f.metrics(), "llmhost_requests_in_flight 2\n"); }));
    f.server->signal(SIGTERM);
    CHECK(f.server->wait() == 0);
    CHECK(has(f.server->err(), "drained; bye"));
  }
  SUBCASE("one that ignores it: serve exits anyway, without unloading") {
    Fixture f({}, {"--drain-timeout", "1"});
    Client c(f.server->port());
    c.send("POST", "/v1/chat/completions", chat_body("deferred/m", "x", "\"delay_ms\": 600000, \"ignore_cancel\": 1"));
    CHECK(eventually([&] { return has(f.metrics(), "llmhost_requests_in_flight 2\n"); }));
    f.server->signal(SIGTERM);
    CHECK(f.server->wait(std::chrono::seconds(30)) == 0);
    CHECK(has(f.server->err(), "a plugin call is still running past the drain"));
  }
}

// The bundled openai relay is asynchronous too: its upstream exchange runs on the host HTTP
// service's loop, which is serve's first I/O thread. With three, the connections are spread over
// three loops, and each exchange crosses to the first and back. Both carry concurrent calls whole.
TEST_CASE("openai/<model> from 16 clients at once, with one I/O thread and with three") {
  MockServer upstream([](const HttpRequest &r, Conn &c) {
    const std::string text = "re: " + std::string(r.body.find("\"stream\":true") == std::string::npos ? "json" : "sse");
    if (text == "re: json") {
      c.respond(200, R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
                     R"("message":{"role":"assistant","content":")" +
                         text + R"("},"finish_reason":"stop"}]})");
      return;
    }
    c.begin_chunked();
    c.chunk(R"(data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,)"
            R"("delta":{"content":")" +
            text + R"("},"finish_reason":"stop"}]})" + "\n\ndata: [DONE]\n\n");
    c.end_chunked();
  });
  for (const char *threads : {"1", "3"}) {
    CAPTURE(threads);
    ConfiguredServer f(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " +
            upstream.base_url() + "\n",
        {"--io-threads", threads});
    std::vector<std::thread> clients;
    std::atomic<int> whole{0};
    for (int i = 0; i < 16; ++i)
      clients.emplace_back([&, i] {
        Client client(f.server->port());
        const bool stream = i % 2;
        for (int n = 0; n < 8; ++n) {
          const Response r =
              client.post("/v1/chat/completions", chat_body("gpt-4o", "hi", stream ? "\"stream\":true" : ""));
          if (r.status == 200 && answer_text(r.body) == (stream ? "re: sse" : "re: json")) ++whole;
        }
      });
    for (auto &t : clients) t.join();
    CHECK(whole.load() == 16 * 8);
  }
}
