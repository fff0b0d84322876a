// The host HTTP service's behaviour, observed through the openai provider: retries and
// backoff, Retry-After, timeouts, refused connections, connection reuse and concurrency; and
// directly: methods on one reused connection, and log levels.
#include <chrono>
#include <ctime>
#include <stop_token>
#include <thread>

#include "http/http_service.hpp"
#include "http/retry.hpp"
#include "http_support.hpp"

using namespace test::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("429 twice then 200: the call succeeds after three requests") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (++n <= 2)
      c.respond(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})");
    else
      c.respond(200, completion_json("finally"));
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 2;
  const auto start = Clock::now();
  CHECK(host.complete(r).content == "finally");
  CHECK(server.request_count() == 3);
  CHECK(Clock::now() - start >= 700ms);  // backoff ~0.5 s then ~1 s, each jittered down to half
}

TEST_CASE("429 beyond num_retries surfaces as 429 with the upstream message") {
  MockServer server([&](const HttpRequest &, Conn &c) {
    c.respond(429, R"({"error":{"message":"Rate limit reached"}})", {"Retry-After: 0"});
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 1;
  const auto e = error_of([&] { host.complete(r); });
  CHECK(e.status() == 429);
  CHECK(std::string(e.what()).find("Rate limit reached") != std::string::npos);
  CHECK(server.request_count() == 2);
}

TEST_CASE("a Retry-After longer than the deadline is not waited for") {
  MockServer server([&](const HttpRequest &, Conn &c) {
    c.respond(429, R"({"error":{"message":"slow down"}})", {"Retry-After: 30"});
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.timeout_s = 20;
  const auto start = Clock::now();
  const auto e = error_of([&] { host.complete(r); });
  CHECK(e.status() == 429);
  CHECK(Clock::now() - start < test::kSoon);  // not the 20 s deadline
  CHECK(server.request_count() == 1);
}

TEST_CASE("Retry-After (seconds or an HTTP date) and retry-after-ms are honoured") {
  // Made when the 503 is sent: a date two seconds ahead is, at one-second resolution, 1 to 2 s.
  const auto date_ahead = [] {
    const std::time_t at = std::time(nullptr) + 2;
    char date[64];
    std::tm tm{};
    gmtime_r(&at, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string("Retry-After: ") + date;
  };
  for (const std::string kind : {"seconds", "date", "ms"}) {
    CAPTURE(kind);
    std::atomic<int> n{0};
    MockServer server([&](const HttpRequest &, Conn &c) {
      if (++n > 1) return void(c.respond(200, completion_json("after the wait")));
      const std::string header = kind == "seconds" ? "Retry-After: 1"
                                 : kind == "date"  ? date_ahead()
                                                   : "retry-after-ms: 1200";
      c.respond(503, R"({"error":{"message":"busy"}})", {header});
    });
    llmhost::Host host(host_options());
    const auto start = Clock::now();
    CHECK(host.complete(chat_to(server, "hi")).content == "after the wait");
    const auto waited = Clock::now() - start;
    CHECK(server.request_count() == 2);
    CHECK(waited >= 900ms);  // plain backoff for a first retry would be at most 0.5 s
    CHECK(waited < 2s + test::kSoon);
  }
}

TEST_CASE("502 and 504 are retried like 503") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    const int k = ++n;
    if (k == 1) return void(c.respond(502, "bad gateway", {"Retry-After: 0"}, "text/plain"));
    if (k == 2) return void(c.respond(504, "gateway timeout", {"Retry-After: 0"}, "text/plain"));
    c.respond(200, completion_json("third time"));
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 2;
  CHECK(host.complete(r).content == "third time");
  CHECK(server.request_count() == 3);
}

TEST_CASE("a stream is never retried once a line of it has reached the caller") {
  MockServer server([&](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"half"},"finish_reason":null}]})"
        "\n\n");
    c.close_after();  // the connection drops mid-body: a broken transfer, retryable before any line
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 3;
  std::string got;
  const auto e = error_of([&] {
    host.stream(r, [&](const llmhost::Chunk &c) {
      got += c.content;
      return true;
    });
  });
  CHECK(got == "half");
  CHECK(e.status() >= 500);
  CHECK(server.request_count() == 1);
}

TEST_CASE("a body that does not finish within the timeout is a 408") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"id\":");
    c.wait_peer_close(10s);  // the rest never comes
    c.close_after();
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.timeout_s = 1;
  const auto start = Clock::now();
  CHECK(error_of([&] { host.complete(r); }).status() == 408);
  CHECK(Clock::now() - start < 1s + test::kSoon);
  CHECK(server.request_count() == 1);
}

TEST_CASE("a body over 512 MiB is a 502 naming the cause; the next call is served") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (++n > 1) return void(c.respond(200, completion_json("small again")));
    // Chunked, so that no Content-Length gives the size away: the limit is met while reading.
    c.begin_chunked(200, "application/json");
    const std::string mib(size_t{1} << 20, 'x');
    for (int i = 0; i < 513 && c.chunk(mib);) ++i;
    c.close_after();
  });
  llmhost::Host host(host_options());
  const auto e = error_of([&] { host.complete(chat_to(server, "hi")); });
  CHECK(e.status() == 502);
  CHECK_MESSAGE(std::string(e.what()).find("the response body is too large") != std::string::npos, e.what());
  CHECK(server.request_count() == 1);  // a body too large is not worth fetching again
  CHECK(host.complete(chat_to(server, "hi")).content == "small again");
}

TEST_CASE("backoff doubles from about 0.5 s and stops growing at 8 s, jittered down to half") {
  using llmhost::detail::http::backoff_delay;
  const int64_t full[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
  for (uint32_t attempt = 0; attempt < std::size(full); ++attempt) {
    CAPTURE(attempt);
    CHECK(backoff_delay(attempt, 1.0).count() == full[attempt]);
    CHECK(backoff_delay(attempt, 0.0).count() == full[attempt] / 2);
  }
  CHECK(backoff_delay(1000, 0.999).count() <= 8000);  // no overflow for a huge num_retries
}

TEST_CASE("a cancel while waiting between retries ends the blocking call at once with 499") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(503, "busy", {"Retry-After: 5"}, "text/plain"); });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 3;
  std::stop_source stop;
  std::thread canceller([&] {
    for (auto until = Clock::now() + 5s; server.request_count() < 1 && Clock::now() < until;)
      std::this_thread::sleep_for(5ms);
    stop.request_stop();  // the call now waits out the 5 s Retry-After
  });
  const auto start = Clock::now();
  const auto e = error_of([&] { host.complete(r, stop.get_token()); });
  canceller.join();
  CHECK(e.status() == 499);
  CHECK(Clock::now() - start < test::kSoon);  // not the 5 s wait
  CHECK(server.request_count() == 1);
}

TEST_CASE("a server that accepts and never answers gives 408 within the timeout") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.wait_peer_close(10s);
    c.close_after();
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.timeout_s = 1;
  const auto start = Clock::now();
  const auto e = error_of([&] { host.complete(r); });
  const auto took = Clock::now() - start;
  CHECK(e.status() == 408);
  // The transfer's own timeout ("timed out") or the call's deadline, whichever fires first: they
  // are set a moment apart, and an isolated worker under TSan can be that slow.
  const std::string message = e.what();
  CHECK_MESSAGE(
      (message.find("timed out") != std::string::npos || message.find("within the timeout of 1") != std::string::npos),
      message);
  CHECK(took >= 900ms);
  CHECK(took < 1s + test::kSoon);      // not the 10 s the server would hang
  CHECK(server.request_count() == 1);  // a timeout is not retried: the deadline is spent
}

TEST_CASE("a refused port is a connection error naming the URL without the key") {
  const RefusedPort refused;
  const int port = refused.port();
  llmhost::Host host(host_options());
  llmhost::Request r = test::chat("openai/gpt-test", "hi");
  r.api_base = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  r.api_key = "sk-never-shown";
  r.num_retries = 1;
  const auto e = error_of([&] { host.complete(r); });
  CHECK(e.status() == 503);
  const std::string msg = e.what();
  CHECK(msg.find("could not connect to http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions") !=
        std::string::npos);
  CHECK(msg.find("sk-never-shown") == std::string::npos);
}

TEST_CASE("a URL without a scheme is refused with 400, naming it without its userinfo") {
  llmhost::Host host(host_options());
  llmhost::Request r = test::chat("openai/gpt-test", "hi");
  r.api_base = "user:pw-never-shown@127.0.0.1:9/v1?key=q-never-shown";
  const auto e = error_of([&] { host.complete(r); });
  CHECK(e.status() == 400);
  const std::string msg = e.what();
  INFO(msg);
  // The plugin appends its endpoint to the whole base, so it lands in the (dropped) query.
  CHECK(msg.find("not an absolute http(s) URL: \"127.0.0.1:9/v1\"") != std::string::npos);
  CHECK(msg.find("never-shown") == std::string::npos);
}

TEST_CASE("100 sequential calls use one TCP connection") {
  MockServer server(
      [](const HttpRequest &req, Conn &c) { c.respond(200, completion_json(last_user_content(req.body))); });
  llmhost::Host host(host_options());
  for (int i = 0; i < 100; ++i)
    REQUIRE(host.complete(chat_to(server, "n" + std::to_string(i))).content == "n" + std::to_string(i));
  CHECK(server.request_count() == 100);
  CHECK(server.accepted() == 1);
}

TEST_CASE("8 threads x 50 concurrent calls all get their own answer") {
  MockServer server(
      [](const HttpRequest &req, Conn &c) { c.respond(200, completion_json("re: " + last_user_content(req.body))); });
  llmhost::Host host(host_options());
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string prompt = "t" + std::to_string(t) + "-" + std::to_string(i);
        try {
          if (host.complete(chat_to(server, prompt)).content == "re: " + prompt)
            ++ok;
          else
            ++wrong;
        } catch (const std::exception &) {
          ++wrong;
        }
      }
    });
  for (auto &t : threads) t.join();
  CHECK(ok.load() == 400);
  CHECK(wrong.load() == 0);
  CHECK(server.request_count() == 400);
  CHECK(server.accepted() <= 8);  // pooled: at most one connection per concurrent caller
}

namespace {

llmh_str view(std::string_view s) { return llmh_str{s.data(), s.size()}; }

// Sends one request through `service` directly (not through a plugin); the response's status.
long send(llmhost::detail::http::HttpService &service, const MockServer &server, std::string_view method,
          std::string_view body, const std::vector<llmh_http_header> &headers = {}) {
  const std::string url = server.base_url() + "/items";
  llmh_http_request r{};
  r.struct_size = sizeof r;
  r.method = view(method);
  r.url = view(url);
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = view(body);
  llmh_error err{};
  err.struct_size = sizeof err;
  auto response = service.perform(r, err);
  REQUIRE_MESSAGE(response, err.message);
  return response->status;
}

}  // namespace

TEST_CASE("one reused connection carries PUT, POST, GET, DELETE in turn: nothing of a call leaks into the next") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, "{}"); });
  llmhost::detail::http::HttpService service([](int, std::string_view, std::string_view) {}, LLMH_LOG_DEBUG);
  const llmh_http_header tag{view("X-Tag"), view("put-only")};
  CHECK(send(service, server, "put", "put-body", {tag}) == 200);
  CHECK(send(service, server, "POST", "post-body") == 200);
  CHECK(send(service, server, "GET", "") == 200);
  CHECK(send(service, server, "DELETE", "") == 200);
  CHECK(send(service, server, "", "implicit-post") == 200);
  CHECK(send(service, server, "", "") == 200);

  const std::vector<HttpRequest> seen = server.requests();
  REQUIRE(seen.size() == 6);
  const char *methods[] = {"PUT", "POST", "GET", "DELETE", "POST", "GET"};
  const char *bodies[] = {"put-body", "post-body", "", "", "implicit-post", ""};
  for (size_t i = 0; i < seen.size(); ++i) {
    CAPTURE(i);
    CHECK(seen[i].method == methods[i]);
    CHECK(seen[i].body == bodies[i]);
    CHECK(seen[i].header("x-tag") == (i == 0 ? "put-only" : ""));
    CHECK(seen[i].header("user-agent") == "llmhost/0.1");
    CHECK(seen[i].header("expect").empty());
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("log lines below the service's level are not passed on; the others are") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) { c.respond(++n == 1 ? 200 : 503, "{}"); });
  std::vector<std::pair<int, std::string>> lines;
  llmhost::detail::http::HttpService service(
      [&](int level, std::string_view, std::string_view message) { lines.emplace_back(level, message); },
      LLMH_LOG_WARN);
  CHECK(send(service, server, "POST", "a") == 200);  // logged at INFO: dropped
  CHECK(lines.empty());
  CHECK(send(service, server, "POST", "b") == 503);  // logged at WARN
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].first == LLMH_LOG_WARN);
  CHECK(lines[0].second.find("POST http://127.0.0.1:" + std::to_string(server.port()) +
                             "/v1/items (attempt 1) -> 503") == 0);
}
