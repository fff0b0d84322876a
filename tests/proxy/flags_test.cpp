// What docs/proxy.md promises of `llmhost serve`'s flags and signals, through the real binary:
// --host, --io-threads, --no-access-log, SIGINT, /health/liveness, X-Accel-Buffering, and the
// metrics series cap.
#include <doctest/doctest.h>

#include <signal.h>

#include <boost/asio/connect.hpp>
#include <fstream>

#include "proxy_support.hpp"

using namespace ptest;

namespace {

bool has(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

bool connects(const std::string &address, uint16_t port) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address(address), port}, ec);
  return !ec;
}

// Threads of process `pid` named `name`.
int threads_named(pid_t pid, const std::string &name) {
  int n = 0;
  for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    std::getline(comm, line);
    n += line == name;
  }
  return n;
}

}  // namespace

TEST_CASE("--host: the server listens on that address only") {
  Server server({"--host", "127.0.0.2"});
  CHECK(connects("127.0.0.2", server.port()));
  CHECK_FALSE(connects("127.0.0.1", server.port()));
}

TEST_CASE("--io-threads N runs N socket I/O threads") {
  Server server({"--io-threads", "3"});
  // Started right after the "serving on" line; the main thread is the third.
  CHECK(eventually([&] { return threads_named(server.pid(), "llmh-io") == 2; }));
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", chat_body("echo/x", "hi")).status == 200);
}

TEST_CASE("/health/liveness and /health/liveliness answer while the process serves") {
  Server server({});
  Client c(server.port());
  for (const char *path : {"/health/liveness", "/health/liveliness"}) {
    const Response r = c.get(path);
    CHECK(r.status == 200);
    CHECK(has(r.body, "I'm alive!"));
  }
}

TEST_CASE("--no-access-log: no line per request; the default writes one") {
  for (const bool quiet : {false, true}) {
    CAPTURE(quiet);
    std::vector<std::string> args;
    if (quiet) args.push_back("--no-access-log");
    Server server(args);
    {
      Client c(server.port());
      CHECK(c.post("/v1/chat/completions", chat_body("echo/x", "hi")).status == 200);
    }
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);  // whatever it logs is written by now
    CHECK(where(log_lines(server.err()), "/path", "/v1/chat/completions").empty() == quiet);
  }
}

TEST_CASE("SIGINT drains as SIGTERM does: the stream in flight finishes, then exit 0") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto release = dir.path() / "release";
  Server server({"--plugins", dir.path().string()}, {"DRIP_RELEASE=" + release.string()});
  Client c(server.port());
  c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
  REQUIRE(json_at(sse_events(c.read_until("\n\n"))[0], "/choices/0/delta/content") == "v1");
  server.signal(SIGINT);
  write_file(release, "");
  const Response r = c.finish();
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "v1 done");
  CHECK(has(r.body, "data: [DONE]"));
  CHECK(server.wait() == 0);
}

TEST_CASE("a stream's headers: text/event-stream, no-cache, X-Accel-Buffering: no") {
  Server server({});
  Client c(server.port());
  const Response r = c.post("/v1/chat/completions", chat_body("echo/x", "hi", "\"stream\":true"));
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/event-stream");
  CHECK(r.header("cache-control") == "no-cache");
  CHECK(r.header("x-accel-buffering") == "no");
}

TEST_CASE("metrics: past 5000 distinct models, new ones count as model=\"other\"") {
  Server server({"--no-access-log"});
  Client c(server.port());
  for (int i = 0; i < 5002; ++i)
    REQUIRE(c.post("/v1/chat/completions", chat_body("echo/m" + std::to_string(i), "hi")).status == 200);
  const std::string m = c.get("/metrics").body;
  CHECK(has(m, "model=\"echo/m4999\""));
  CHECK_FALSE(has(m, "model=\"echo/m5000\""));
  CHECK_FALSE(has(m, "model=\"echo/m5001\""));
  CHECK(has(
      m,
      "llmhost_requests_total{route=\"/v1/chat/completions\",model=\"other\",provider=\"echo\",status=\"200\"} 2\n"));
}
