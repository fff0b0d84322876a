// Every input limit of `llmhost serve`, through the real binary: each oversize input gets its
// 4xx (or, for streams, its error event) naming the limit, and the server goes on serving.
// Limits come from flags, from general_settings, or are the defaults; a flag wins.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proxy_support.hpp"

using namespace ptest;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

std::string messages_body(size_t n, const std::string &extra = {}) {
  std::string body = "{\"model\":\"echo/x\",\"messages\":[";
  for (size_t i = 0; i < n; ++i)
    body += std::string(i ? "," : "") + "{\"role\":\"user\",\"content\":\"m" + std::to_string(i) + "\"}";
  return body + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

Headers many_headers(size_t n) {
  Headers h;
  for (size_t i = 0; i < n; ++i) h.emplace_back("X-Extra-" + std::to_string(i), "v");
  return h;
}

// The server still answers a fresh connection: health, a JSON chat and a stream.
void still_serving(uint16_t port) {
  Client c(port);
  CHECK(c.get("/health/liveliness").status == 200);
  const Response r = c.post("/v1/chat/completions", chat_body("echo/x", "alive"));
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "alive");
  const Response s = c.post("/v1/chat/completions", chat_body("echo/x", "alive", "\"stream\":true"));
  CHECK(s.status == 200);
  CHECK(has(s.body, "data: [DONE]"));
}

// What the oversize inputs get with limits of 0.01 MiB body, 1 KiB headers, 10 header fields
// and 3 messages, however they were set.
void check_small_limits(uint16_t port) {
  {
    Client c(port);
    const Response r =
        c.post("/v1/chat/completions", chat_body("echo/x", "hi", "\"pad\":\"" + std::string(20000, 'x') + "\""));
    CHECK(r.status == 413);
    CHECK(has(r.body, "larger than the limit of 10485 bytes"));
    CHECK(json_at(r.body, "/error/code") == "request_too_large");
  }
  still_serving(port);
  {
    Client c(port);
    std::string raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) raw += "1000\r\n" + std::string(4096, 'y') + "\r\n";
    c.write_raw(raw + "0\r\n\r\n");
    const std::string reply = c.read_raw_all();
    CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  }
  still_serving(port);
  {
    Client c(port);
    const Response r = c.get("/health/liveliness", {{"X-Big", std::string(2000, 'h')}});
    CHECK(r.status == 431);
    CHECK(has(r.body, "larger than the limit of 1024 bytes"));
  }
  still_serving(port);
  {
    Client c(port);
    CHECK(c.get("/health/liveliness", many_headers(9)).status == 200);  // + Host: 10 fields
    Client d(port);
    const Response r = d.get("/health/liveliness", many_headers(10));
    CHECK(r.status == 431);
    CHECK(has(r.body, "request has 11 header fields; the limit is 10"));
    CHECK_FALSE(r.keep_alive);
    CHECK(d.closed_by_server());  // and it did close
  }
  still_serving(port);
  {
    Client c(port);
    const Response ok = c.post("/v1/chat/completions", messages_body(3));
    CHECK(ok.status == 200);
    CHECK(answer_text(ok.body) == "m2");
    for (const std::string extra : {"", "\"stream\":true"}) {
      const Response r = c.post("/v1/chat/completions", messages_body(4, extra));
      CHECK(r.status == 400);
      CHECK(has(r.body, "the request has 4 messages; this server accepts at most 3"));
      CHECK(json_at(r.body, "/error/param") == "messages");
      CHECK(json_at(r.body, "/error/code") == "too_many_messages");
      CHECK(r.keep_alive);  // a well-formed request: the connection goes on
    }
    CHECK(c.post("/v1/chat/completions", messages_body(1)).status == 200);
  }
  still_serving(port);
}

}  // namespace

TEST_CASE("limits from flags: body, header size, header count, messages") {
  Server server({"--plugins", test::bundled_plugins().string(), "--max-body-mb", "0.01", "--max-header-kb", "1",
                 "--max-header-count", "10", "--max-messages", "3"});
  check_small_limits(server.port());
}

TEST_CASE("limits from general_settings (LiteLLM's max_request_size_mb too); a flag wins over the config") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg,
             "general_settings:\n"
             "  max_request_size_mb: 0.01\n"
             "  max_header_kb: 1\n"
             "  max_header_count: 10\n"
             "  max_messages: 100\n");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string(), "--max-messages", "3"});
  check_small_limits(server.port());
}

TEST_CASE("default limits: 2048 messages, 100 header fields, 16 KiB of headers") {
  Server server({"--plugins", test::bundled_plugins().string()});
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", messages_body(2048)).status == 200);
  const Response r = c.post("/v1/chat/completions", messages_body(2049));
  CHECK(r.status == 400);
  CHECK(has(r.body, "at most 2048"));
  CHECK(c.get("/health/liveliness", many_headers(99)).status == 200);
  Client d(server.port());
  CHECK(d.get("/health/liveliness", many_headers(100)).status == 431);
  Client e(server.port());
  CHECK(e.get("/health/liveliness", {{"X-Big", std::string(17000, 'h')}}).status == 431);
  still_serving(server.port());
}

TEST_CASE("stream and connection limits from general_settings") {
  test::TempDir dir;
  dir.add(test::bundled_plugins() / "libecho.so");
  dir.add(test::test_plugin("libhang.so"));
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg,
             "general_settings:\n"
             "  stream_idle_timeout: 0.3\n"
             "  max_stream_duration: 1\n"
             "  request_timeout: 0.5\n"
             "  idle_timeout: 1\n");
  Server server({"--plugins", dir.path().string(), "--config", cfg.string()});
  {
    Client c(server.port());
    const Response idle = c.post("/v1/chat/completions", chat_body("hang/x", "hi", "\"stream\":true"));
    CHECK(idle.status == 408);
    CHECK(has(idle.body, "sent nothing for 0.3 s"));
    const Response slow = c.post("/v1/chat/completions", chat_body("hang/x", "hi"));
    CHECK(slow.status == 408);
    CHECK(has(slow.body, "request timeout of 0.5 s"));
    std::string words;
    for (int i = 0; i < 100; ++i) words += "w ";
    const Response longer =
        c.post("/v1/chat/completions", chat_body("echo/x", words, "\"stream\":true,\"mock_delay_ms\":100"));
    CHECK(longer.status == 200);
    CHECK(has(longer.body, "ran longer than 1 s"));
    CHECK(has(longer.body, "data: [DONE]\n\n"));
    CHECK(c.closed_by_server());  // then idle for 1 s
  }
  still_serving(server.port());
}

TEST_CASE("a limit with a bad value stops start-up with file, line and cause") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"max_messages: -1", "\"general_settings.max_messages\" must be a whole number >= 0"},
      {"max_header_count: 2.5", "\"general_settings.max_header_count\" must be a whole number >= 0"},
      {"max_body_mb: 0", "\"general_settings.max_body_mb\" must be a positive number"},
      {"idle_timeout: soon", "\"general_settings.idle_timeout\" must be a positive number"},
      {"stream_idle_timeout: -2", "\"general_settings.stream_idle_timeout\" must be a non-negative number"},
  };
  for (const auto &[line, message] : cases) {
    CAPTURE(line);
    write_file(cfg, "general_settings:\n  " + line + "\n");
    const test::RunResult r = serve_fails({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
    CHECK(r.exit_code == 1);
    CHECK(has(r.err, cfg.string() + ":2:"));
    CHECK(has(r.err, message));
  }
  // 0 turns a watchdog limit off, and is fine.
  write_file(cfg, "general_settings:\n  request_timeout: 0\n  max_messages: 0\n");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", messages_body(3000)).status == 200);
}

TEST_CASE("the connection cap: past max_connections a new connection is closed at once; --max-connections wins") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg, "general_settings:\n  max_connections: 100\n");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string(), "--max-connections", "3"});
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {  // each proven open by an answer
    held.push_back(std::make_unique<Client>(server.port()));
    REQUIRE(held.back()->get("/health/liveliness").status == 200);
  }
  Client extra(server.port());  // the TCP handshake completes in the kernel; the server closes it
  CHECK(extra.closed_by_server());
  held.pop_back();  // one closes: room again
  CHECK(eventually([&] {
    try {
      return Client(server.port()).get("/health/liveliness").status == 200;
    } catch (const std::exception &) {
      return false;
    }
  }));
}

namespace {

// The lowest descriptor number process `pid` does not have open: the one it would open next.
rlim_t lowest_free_fd(pid_t pid) {
  std::set<rlim_t> open;
  for (const auto &e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    open.insert(std::stoul(e.path().filename().string()));
  rlim_t fd = 0;
  while (open.count(fd)) ++fd;
  return fd;
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("out of file descriptors, serve says so once, keeps the client waiting, and serves it when some free up") {
  Server server({"--plugins", test::bundled_plugins().string()});
  std::vector<std::unique_ptr<Client>> accepted;
  for (int i = 0; i < 4; ++i) {
    accepted.push_back(std::make_unique<Client>(server.port()));
    REQUIRE(accepted.back()->get("/health/liveliness").status == 200);
  }
  // From outside, as an operator's ulimit would: the next descriptor it would open is past the
  // limit. One it had open before may still close meanwhile, so clients queue until one is left
  // waiting.
  rlimit was{};
  REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, nullptr, &was) == 0);
  const rlimit low{lowest_free_fd(server.pid()), was.rlim_max};
  REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &low, nullptr) == 0);
  const std::string ask = "GET /health/liveliness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::vector<std::unique_ptr<Client>> queued;
  const std::string refused = "cannot accept connections: Too many open files";
  while (queued.size() < 16 && !has(server.err(), refused)) {
    queued.push_back(std::make_unique<Client>(server.port()));  // completes in the kernel's backlog
    queued.back()->write_raw(ask);
    eventually([&] { return has(server.err(), refused); }, std::chrono::seconds(1));
  }
  REQUIRE(has(server.err(), refused));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));   // about five retries
  CHECK(count(server.err(), "cannot accept connections") == 1);  // said once, not per retry
  // Four free up once serve reads their close: one for the waiting client, the rest to spare
  // (the sanitizers' runtime checks memory through a pipe of its own).
  accepted.clear();
  const std::string answer = queued.back()->read_raw_all();
  CHECK(answer.starts_with("HTTP/1.1 200"));
  CHECK(eventually([&] { return has(server.err(), "accepting connections again"); }));
  CHECK(::prlimit(server.pid(), RLIMIT_NOFILE, &was, nullptr) == 0);
}

TEST_CASE("serve warns at start when its open-file limit is short of what --max-connections needs") {
  // sh's ulimit lowers the hard limit too, so serve cannot raise it.
  const test::RunResult r = test::run({"/bin/sh", "-c",
                                       "ulimit -n 256 && exec timeout -s TERM 3 \"$0\" --plugins \"$1\" serve --port 0 "
                                       "--max-connections 1000",
                                       test::cli().string(), test::bundled_plugins().string()});
  CHECK(has(r.err,
            "warning: --max-connections 1000 may need 2064 file descriptors (a client and an upstream connection "
            "each), but this process may open 256 (ulimit -n)"));
  CHECK(has(r.out, "serving on"));
}
