// A stream holds its worker thread for its whole length, so serve starts workers on demand:
// many long streams open at once all run at the same time, far past the few threads an idle
// server keeps.
#include <doctest/doctest.h>

#include <memory>

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
  for (auto &c : clients) CHECK(c->read_until("\"content\":\"w\"").find("data: ") == 0);
  const std::string metrics = Client(server.port()).get("/metrics").body;
  CHECK(metrics.find("llmhost_requests_in_flight 41\n") != std::string::npos);  // the scrape too
  clients.clear();  // disconnects cancel the 40 calls
  CHECK(eventually([&] {
    return Client(server.port()).get("/metrics").body.find("llmhost_requests_in_flight 1\n") != std::string::npos;
  }));
}
