// A stream holds its worker thread for its whole length, so serve starts workers on demand:
// many long streams open at once all run at the same time, far past the few threads an idle
// server keeps.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "proxy_support.hpp"

using namespace ptest;

TEST_CASE("40 long streams open at once all get their first chunk while every one is still open") {
  Server server({"--plugins", test::bundled_plugins().string(), "--workers", "64"});
  std::string words;
  for (int i = 0; i < 1000; ++i) words += "w ";
  // Each stream takes 1,000 x 100 ms: with a fixed pool of a few threads, later streams could
  // not start before earlier ones end, long after this test's time limit.
  const std::string body = chat_body("echo/any", words, "\"stream\":true,\"mock_delay_ms\":100");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    clients.back()->send("POST", "/v1/chat/completions", body);
  }
  for (auto &c : clients) CHECK(json_at(sse_events(c->read_until("\n\n"))[0], "/choices/0/delta/content") == "w");
  const std::string metrics = Client(server.port()).get("/metrics").body;
  CHECK(metrics.find("llmhost_requests_in_flight 41\n") != std::string::npos);  // the scrape too
  clients.clear();                                                              // disconnects cancel the 40 calls
  CHECK(eventually([&] {
    return Client(server.port()).get("/metrics").body.find("llmhost_requests_in_flight 1\n") != std::string::npos;
  }));
}

namespace {
// The server's resident memory in MiB (VmRSS).
double rss_mib(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("VmRSS:");
  REQUIRE(at != std::string::npos);
  return std::stod(status.substr(at + 6)) / 1024.0;
}
}  // namespace

TEST_CASE("a stream to a client that stops reading holds its plugin back instead of buffering the reply") {
  Server server({"--plugins", test::bundled_plugins().string()});
  // 3 million one-letter chunks, ~500 MB of events: far more than the socket buffers take.
  std::string words;
  words.reserve(6'000'000);
  for (int i = 0; i < 3'000'000; ++i) words += "a ";
  Client reader(server.port());
  reader.send("POST", "/v1/chat/completions",
              chat_body("echo/any", "x", "\"stream\":true,\"mock_response\":\"" + words + "\""));
  CHECK(json_at(sse_events(reader.read_until("\n\n"))[0], "/choices/0/delta/content") == "a");
  const double before = rss_mib(server.pid());
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the client reads nothing more
  // The worker waits once its queue is full: what grows is the kernel's socket buffers and
  // at most a 64 KiB queue, not the events the plugin could have produced meanwhile.
  CHECK(rss_mib(server.pid()) - before < 128.0);
  CHECK(Client(server.port()).get("/health/liveliness").status == 200);
  reader.close();  // the disconnect cancels the blocked call
  CHECK(eventually([&] {
    return Client(server.port()).get("/metrics").body.find("llmhost_requests_in_flight 1\n") != std::string::npos;
  }));
}

TEST_CASE("a stream whose client takes nothing for --idle-timeout is closed and its call cancelled") {
  Server server({"--plugins", test::bundled_plugins().string(), "--idle-timeout", "2"});
  // ~85 MB of events, more than the socket buffers take; a 1 MB body, so that reading the
  // request itself stays well within the 2 s (a sanitizer build is slow).
  std::string words;
  words.reserve(1'000'000);
  for (int i = 0; i < 500'000; ++i) words += "a ";
  Client reader(server.port());
  reader.send("POST", "/v1/chat/completions",
              chat_body("echo/any", "x", "\"stream\":true,\"mock_response\":\"" + words + "\""));
  CHECK(json_at(sse_events(reader.read_until("\n\n"))[0], "/choices/0/delta/content") == "a");
  // The write that the full socket blocks is given up after 2 s: the connection is closed and
  // the call cancelled, with the reader still connected but reading nothing.
  CHECK(eventually([&] {
    return Client(server.port()).get("/metrics").body.find("llmhost_requests_in_flight 1\n") != std::string::npos;
  }));
  CHECK(!where(where(log_lines(server.err()), "/status", "200"), "/stream", "true").empty());  // the stream's log line
}
