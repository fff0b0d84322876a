// perform_async through the real C table (make_extension_lookup -> llmh_http_api) against the
// loopback mock: answers, keep-alive, concurrency without a thread per call, where and when
// `done` runs, retries, the deadline, cancellation, line streaming, connection errors,
// malformed requests, shutdown with requests in flight, and an embedder's executor.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <optional>
#include <set>
#include <thread>

#include "async_support.hpp"
#include "http_support.hpp"

using namespace test::http;

namespace {

size_t process_threads() {
  size_t n = 0;
  if (DIR *d = ::opendir("/proc/self/task")) {
    while (dirent *e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// A mock handler that holds every request until the test lets go (or 10 s pass).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 10s, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("async: the table has perform_async; a 2xx answer arrives in done with its body and headers") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    c.respond(200, "got " + req.method + " " + req.body + " tag=" + req.header("x-tag"), {"X-Reply: yes"});
  });
  Async async;
  REQUIRE(async.http);
  REQUIRE(LLMH_HAS_FIELD(async.http, llmh_http_api, perform_async));
  REQUIRE(bool(async.http->perform_async));
  Ticket t;
  t.async = &async;
  send(async.http, t, server.base_url() + "/items?key=sk-secret",
       {.method = "put", .body = "the body", .headers = {{"X-Tag", "t1"}}});
  REQUIRE(async.wait(1));
  const Outcome o = async.outcomes().at(0);
  CHECK_FALSE(o.failed);
  CHECK(o.status == 200);
  CHECK(o.body == "got PUT the body tag=t1");
  CHECK(o.reply_header == "yes");
  CHECK(o.thread != std::this_thread::get_id());
  CHECK_FALSE(o.inside_perform_async);
  const std::vector<HttpRequest> seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1/items?key=sk-secret");
  CHECK(seen[0].header("expect").empty());
  const std::string log = async.log();
  CHECK(log.find("PUT http://127.0.0.1:" + std::to_string(server.port()) + "/v1/items (attempt 1) -> 200") !=
        std::string::npos);
  CHECK(log.find("sk-secret") == std::string::npos);
}

TEST_CASE("async: 100 sequential calls use one TCP connection, and done runs on one loop thread") {
  MockServer server([](const HttpRequest &req, Conn &c) { c.respond(200, "re: " + req.body); });
  Async async;
  std::vector<Ticket> tickets(100);
  for (int i = 0; i < 100; ++i) {
    tickets[i].async = &async;
    send(async.http, tickets[i], server.base_url() + "/seq", {.body = "n" + std::to_string(i)});
    REQUIRE(async.wait(static_cast<size_t>(i) + 1));
  }
  const std::vector<Outcome> outcomes = async.outcomes();
  std::set<std::thread::id> threads;
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    CHECK(outcomes[i].body == "re: n" + std::to_string(i));
    CHECK_FALSE(outcomes[i].inside_perform_async);
    threads.insert(outcomes[i].thread);
  }
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  CHECK(server.request_count() == 100);
  CHECK(server.accepted() == 1);
}

TEST_CASE("async: calls chained from done (on the loop) reuse the connection; done never nests") {
  MockServer server([](const HttpRequest &req, Conn &c) { c.respond(200, req.body); });
  Async async;
  const std::string url = server.base_url() + "/chain";
  Ticket t;
  t.async = &async;
  std::atomic<int> left{20};
  t.then = [&](Ticket &self, const Outcome &) {
    if (--left > 0) send(async.http, self, url, {.body = "again"});
  };
  send(async.http, t, url, {.body = "first"});
  REQUIRE(async.wait(20));
  for (const Outcome &o : async.outcomes()) {
    CHECK(o.status == 200);
    CHECK_FALSE(o.inside_perform_async);
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("async: 8 threads x 50 concurrent calls all complete correctly with no thread per call") {
  constexpr int kThreads = 8, kPerThread = 50, kAll = kThreads * kPerThread;
  std::atomic<int> arrived{0};
  Gate gate;
  MockServer server([&](const HttpRequest &req, Conn &c) {
    if (++arrived == kAll) gate.release();
    gate.wait();  // every call is in flight at once
    c.respond(200, "re: " + req.body);
  });
  Async async;
  const size_t threads_before = process_threads();
  std::vector<Ticket> tickets(kAll);
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Ticket &ticket = tickets[t * kPerThread + i];
        ticket.async = &async;
        send(async.http, ticket, server.base_url() + "/c", {.body = std::to_string(t * kPerThread + i)});
      }
    });
  for (auto &c : callers) c.join();  // they only started the calls
  // Every call is held by the mock now (or soon): count threads while all are in flight. The
  // mock runs a thread per connection; the service may add its loop thread and nothing else.
  for (auto until = Clock::now() + 30s; arrived.load() < kAll && Clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  const size_t in_flight = process_threads();
  CHECK(arrived.load() == kAll);
  gate.release();
  REQUIRE(async.wait(kAll, 30s));
  const auto mock_threads = static_cast<size_t>(server.accepted());
  INFO("threads before " << threads_before << ", in flight " << in_flight << ", mock connections " << mock_threads);
  CHECK(in_flight <= threads_before + mock_threads + 1 + 2);
  std::vector<Outcome> outcomes = async.outcomes();
  std::set<std::thread::id> threads;
  std::set<std::string> bodies;
  for (const Outcome &o : outcomes) {
    CHECK(o.status == 200);
    CHECK_FALSE(o.inside_perform_async);
    threads.insert(o.thread);
    bodies.insert(o.body);
  }
  CHECK(threads.size() == 1);
  CHECK(bodies.size() == static_cast<size_t>(kAll));
  for (int i = 0; i < kAll; ++i) CHECK(bodies.count("re: " + std::to_string(i)) == 1);
  CHECK(server.request_count() == kAll);
}

TEST_CASE("async: a 503 with Retry-After is retried after the wait, then 200") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (++n == 1)
      c.respond(503, R"({"error":{"message":"busy"}})", {"Retry-After: 1"});
    else
      c.respond(200, "after the wait");
  });
  Async async;
  Ticket t;
  t.async = &async;
  const auto start = Clock::now();
  send(async.http, t, server.base_url() + "/r", {.body = "x", .num_retries = 1});
  REQUIRE(async.wait(1));
  const Outcome o = async.outcomes().at(0);
  const auto took = o.at - start;
  CHECK(o.status == 200);
  CHECK(o.body == "after the wait");
  CHECK(server.request_count() == 2);
  CHECK(took >= 950ms);
  CHECK(took < 3s);
}

TEST_CASE("async: a server that never answers gives 408 at the deadline") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.wait_peer_close(10s);
    c.close_after();
  });
  Async async;
  Ticket t;
  t.async = &async;
  const auto start = Clock::now();
  send(async.http, t, server.base_url() + "/slow", {.body = "x", .timeout_s = 1, .num_retries = 2});
  REQUIRE(async.wait(1, 5s));
  const Outcome o = async.outcomes().at(0);
  const auto took = o.at - start;
  CHECK(o.failed);
  CHECK(o.status == 408);
  CHECK(o.message.find("timed out") != std::string::npos);
  CHECK(took >= 900ms);
  CHECK(took < 2500ms);
  CHECK(server.request_count() == 1);
}

TEST_CASE("async: the cancelled hook ends a hanging request with 499 promptly and closes the connection") {
  std::atomic<bool> peer_closed{false};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (c.wait_peer_close(10s)) peer_closed = true;
    c.close_after();
  });
  Async async;
  Ticket t;
  t.async = &async;
  send(async.http, t, server.base_url() + "/hang", {.body = "x", .cancellable = true});
  for (auto until = Clock::now() + 5s; server.request_count() < 1 && Clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(100ms);
  CHECK(async.outcomes().empty());
  const auto cancelled_at = Clock::now();
  t.cancel = true;
  REQUIRE(async.wait(1, 5s));
  const Outcome o = async.outcomes().at(0);
  CHECK(o.failed);
  CHECK(o.status == 499);
  CHECK(o.at - cancelled_at < test::kSoon);  // polled (every 50 ms), not the upstream's end
  for (auto until = Clock::now() + 2s; !peer_closed && Clock::now() < until;) std::this_thread::sleep_for(5ms);
  CHECK(peer_closed.load());
  CHECK(t.hook_threads.size() == 1);
  CHECK(t.hook_threads.count(o.thread) == 1);
}

TEST_CASE("async: the cancelled hook is honoured while waiting between retries") {
  MockServer server([&](const HttpRequest &, Conn &c) { c.respond(503, "busy", {"Retry-After: 5"}); });
  Async async;
  Ticket t;
  t.async = &async;
  send(async.http, t, server.base_url() + "/r", {.body = "x", .num_retries = 3, .cancellable = true});
  for (auto until = Clock::now() + 5s; server.request_count() < 1 && Clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(100ms);
  const auto cancelled_at = Clock::now();
  t.cancel = true;
  REQUIRE(async.wait(1, 5s));
  const Outcome o = async.outcomes().at(0);
  CHECK(o.status == 499);
  CHECK(o.at - cancelled_at < test::kSoon);  // not the 5 s Retry-After
  CHECK(server.request_count() == 1);
}

TEST_CASE("async: a chunked SSE body reaches on_line line by line; a non-zero return stops it with 499") {
  std::atomic<bool> peer_closed{false};
  MockServer server([&](const HttpRequest &req, Conn &c) {
    c.begin_chunked();
    c.chunk("data: a\n\nda");
    c.chunk("ta: b\r\n\r\n");
    if (req.target.ends_with("/stop")) {
      std::this_thread::sleep_for(50ms);
      c.chunk("data: c\n\n");
      if (c.wait_peer_close(5s)) peer_closed = true;
      c.close_after();
      return;
    }
    c.chunk("data: [DONE]\n\ntail");
    c.end_chunked();
  });
  Async async;
  SUBCASE("every line, the unterminated last one too") {
    Ticket t;
    t.async = &async;
    send(async.http, t, server.base_url() + "/sse", {.body = "{}", .lines = true});
    REQUIRE(async.wait(1));
    const Outcome o = async.outcomes().at(0);
    CHECK(o.status == 200);
    CHECK(o.body.empty());
    CHECK(t.lines == std::vector<std::string>{"data: a", "", "data: b", "", "data: [DONE]", "", "tail"});
    CHECK(t.hook_threads == std::set<std::thread::id>{o.thread});
  }
  SUBCASE("on_line returns non-zero at the third line") {
    Ticket t;
    t.async = &async;
    t.stop_at_line = 2;
    send(async.http, t, server.base_url() + "/stop", {.body = "{}", .num_retries = 2, .lines = true});
    REQUIRE(async.wait(1));
    const Outcome o = async.outcomes().at(0);
    CHECK(o.failed);
    CHECK(o.status == 499);
    CHECK(t.lines.size() == 3);
    for (auto until = Clock::now() + 2s; !peer_closed && Clock::now() < until;) std::this_thread::sleep_for(5ms);
    CHECK(peer_closed.load());
    CHECK(server.request_count() == 1);
  }
}

TEST_CASE("async: a refused connection is 503 naming the URL without its query") {
  const RefusedPort refused;
  const int port = refused.port();
  Async async;
  Ticket t;
  t.async = &async;
  send(async.http, t, "http://127.0.0.1:" + std::to_string(port) + "/v1/x?key=sk-never-shown",
       {.method = "GET", .num_retries = 1});
  REQUIRE(async.wait(1, 10s));
  const Outcome o = async.outcomes().at(0);
  CHECK(o.failed);
  CHECK(o.status == 503);
  CHECK(o.message.find("could not connect to http://127.0.0.1:" + std::to_string(port) + "/v1/x") != std::string::npos);
  CHECK(o.message.find("sk-never-shown") == std::string::npos);
  CHECK(async.log().find("sk-never-shown") == std::string::npos);
}

TEST_CASE("async: connect_timeout_s bounds a connection attempt that gets no answer") {
  // A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs
  // until the client gives up.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
  REQUIRE(::listen(listener, 0) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);  // the handshakes the queue has room for complete
  Async async;
  Ticket t;
  t.async = &async;
  const auto start = Clock::now();
  send(async.http, t, "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1/x",
       {.method = "GET", .timeout_s = 30, .connect_timeout_s = 0.5});
  REQUIRE(async.wait(1, 20s));
  const auto took = Clock::now() - start;
  const Outcome o = async.outcomes().at(0);
  CHECK(o.failed);
  CHECK(took >= 400ms);
  CHECK(took < test::kSoon);  // the attempt's 0.5 s, not the default 10 s nor the 30 s deadline
  CHECK(o.status == 503);
  CHECK(o.message.find("could not connect to http://127.0.0.1:") != std::string::npos);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_CASE("async: malformed requests report 400 through done, on the loop, never inside perform_async") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, "{}"); });
  Async async;
  Ticket bad_url, bad_header, null_request, small_struct;
  for (Ticket *t : {&bad_url, &bad_header, &null_request, &small_struct}) t->async = &async;
  send(async.http, bad_url, "ftp://example.com/x");
  send(async.http, bad_header, server.base_url() + "/x", {.headers = {{"X-Evil", "a\r\nInjected: yes"}}});
  REQUIRE(async.wait(2));
  std::vector<Outcome> outcomes = async.outcomes();
  for (const Outcome &o : outcomes) {
    CHECK(o.failed);
    CHECK(o.status == 400);
    CHECK_FALSE(o.inside_perform_async);
    CHECK(o.thread != std::this_thread::get_id());
  }
  CHECK(server.request_count() == 0);
}

namespace {

std::atomic<int> g_null_user_status{0};
std::atomic<bool> g_null_user_inside{true};
void on_done_null_user(void *user, llmh_http_response *response, const llmh_error *err) {
  g_null_user_inside = tl_in_perform_async || user != nullptr || response != nullptr;
  g_null_user_status = err ? err->status : -1;
}

}  // namespace

TEST_CASE("async: a NULL request or one with a too small struct_size is 400 with a NULL user") {
  Async async;
  for (int variant = 0; variant < 2; ++variant) {
    CAPTURE(variant);
    g_null_user_status = 0;
    g_null_user_inside = true;
    llmh_http_request r{};
    r.struct_size = 8;
    tl_in_perform_async = true;
    async.http->perform_async(async.http, variant == 0 ? nullptr : &r, &on_done_null_user);
    tl_in_perform_async = false;
    for (auto until = Clock::now() + 5s; g_null_user_status == 0 && Clock::now() < until;)
      std::this_thread::sleep_for(1ms);
    CHECK(g_null_user_status.load() == 400);
    CHECK_FALSE(g_null_user_inside.load());
  }
}

TEST_CASE("async: destroying the service with requests hanging ends each with 499 and returns promptly") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.wait_peer_close(10s);
    c.close_after();
  });
  auto async = std::make_unique<Async>();
  std::vector<Ticket> tickets(5);
  for (size_t i = 0; i < tickets.size(); ++i) {
    tickets[i].async = async.get();
    send(async->http, tickets[i], server.base_url() + "/hang", {.body = "x", .cancellable = i % 2 == 0});
  }
  Ticket waiting;  // one between attempts as well
  waiting.async = async.get();
  MockServer busy([](const HttpRequest &, Conn &c) { c.respond(503, "busy", {"Retry-After: 30"}); });
  send(async->http, waiting, busy.base_url() + "/busy", {.body = "x", .num_retries = 1});
  for (auto until = Clock::now() + 5s;
       (server.request_count() < 5 || busy.request_count() < 1) && Clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);
  CHECK(async->outcomes().empty());
  const auto start = Clock::now();
  async->destroy();
  const auto took = Clock::now() - start;
  CHECK(took < test::kSoon);  // not the 30 s Retry-After
  const std::vector<Outcome> outcomes = async->outcomes();
  REQUIRE(outcomes.size() == 6);
  for (const Outcome &o : outcomes) {
    CHECK(o.failed);
    CHECK(o.status == 499);
    CHECK(o.message == "the HTTP service is shutting down");
    CHECK(o.thread != std::this_thread::get_id());
  }
}

TEST_CASE("async: on an embedder's executor run by two threads, done runs there; shutdown works") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    if (req.target.ends_with("/hang")) {
      c.wait_peer_close(10s);
      c.close_after();
      return;
    }
    c.respond(200, "re: " + req.body);
  });
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  std::mutex ids_mu;
  std::set<std::thread::id> ioc_threads;
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i)
    runners.emplace_back([&] {
      {
        std::lock_guard lock(ids_mu);
        ioc_threads.insert(std::this_thread::get_id());
      }
      ioc.run();
    });
  {
    Async async(ioc.get_executor());
    std::vector<Ticket> tickets(40);
    for (size_t i = 0; i < tickets.size(); ++i) {
      tickets[i].async = &async;
      send(async.http, tickets[i], server.base_url() + "/x", {.body = std::to_string(i)});
    }
    REQUIRE(async.wait(40));
    Ticket hanging;
    hanging.async = &async;
    send(async.http, hanging, server.base_url() + "/hang", {.body = "x", .cancellable = true});
    for (auto until = Clock::now() + 5s; server.request_count() < 41 && Clock::now() < until;)
      std::this_thread::sleep_for(5ms);
    async.destroy();
    const std::vector<Outcome> outcomes = async.outcomes();
    REQUIRE(outcomes.size() == 41);
    std::lock_guard lock(ids_mu);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      CAPTURE(i);
      CHECK(ioc_threads.count(outcomes[i].thread) == 1);
      CHECK_FALSE(outcomes[i].inside_perform_async);
      if (i < 40) CHECK(outcomes[i].status == 200);
    }
    CHECK(outcomes.back().status == 499);
  }
  work.reset();
  for (auto &r : runners) r.join();
}
