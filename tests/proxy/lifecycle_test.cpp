// Client disconnects cancel plugin calls; SIGTERM drains; SIGHUP and file changes reload plugins.
#include <doctest/doctest.h>

#include <signal.h>

#include <boost/asio/connect.hpp>

#include "proxy_support.hpp"

using namespace ptest;

namespace {

bool refuses_connections(uint16_t port) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  return ec == boost::asio::error::connection_refused;
}

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("a client that disconnects mid-stream cancels the plugin call") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto marker = dir.path() / "marker";
  Server server({"--plugins", dir.path().string()}, {"DRIP_MARKER=" + marker.string()});
  {
    Client c(server.port());
    c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
    CHECK(json_at(sse_events(c.read_until("\n\n"))[0], "/choices/0/delta/content") == "v1");
    c.close();
  }
  CHECK(eventually([&] { return contains(read_file(marker), "stream cancelled"); }));
  // The server goes on serving.
  Client c(server.port());
  CHECK(c.get("/health/liveliness").status == 200);
}

TEST_CASE("a client that disconnects during a non-streamed call cancels it") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto marker = dir.path() / "marker";
  Server server({"--plugins", dir.path().string()}, {"DRIP_MARKER=" + marker.string()});
  {
    Client c(server.port());
    c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi"));
    // Wait until the call is in flight (the metrics scrape counts itself too).
    Client m(server.port());
    REQUIRE(eventually([&] { return contains(m.get("/metrics").body, "llmhost_requests_in_flight 2\n"); }));
    c.close();
  }
  CHECK(eventually([&] { return contains(read_file(marker), "complete cancelled"); }));
}

TEST_CASE("SIGTERM drains: no new connections, the open stream finishes, exit 0") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto release = dir.path() / "release";
  Server server({"--plugins", dir.path().string()}, {"DRIP_RELEASE=" + release.string()});
  Client idle(server.port());
  REQUIRE(idle.get("/health/liveliness").status == 200);
  Client c(server.port());
  c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
  REQUIRE(json_at(sse_events(c.read_until("\n\n"))[0], "/choices/0/delta/content") == "v1");
  server.signal(SIGTERM);
  CHECK(eventually([&] { return refuses_connections(server.port()); }));
  CHECK(idle.closed_by_server());  // idle keep-alive connections are closed at once
  write_file(release, "");
  const Response r = c.finish();
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "v1 done");
  CHECK(contains(r.body, "data: [DONE]\n\n"));
  CHECK(c.closed_by_server());
  CHECK(server.wait() == 0);
  CHECK(contains(server.err(), "draining"));
}

TEST_CASE("SIGTERM drain deadline: calls still running are cancelled, exit 0") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto marker = dir.path() / "marker";
  Server server({"--plugins", dir.path().string(), "--drain-timeout", "0.2"}, {"DRIP_MARKER=" + marker.string()});
  Client c(server.port());
  c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
  REQUIRE(contains(c.read_until("\n\n"), "v1"));
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
  CHECK(contains(read_file(marker), "stream cancelled"));
}

TEST_CASE("SIGHUP reloads the plugin folders; reloads show in /metrics") {
  test::TempDir dir;
  dir.add(test::bundled_plugins() / "libecho.so");
  Server server({"--plugins", dir.path().string(), "--no-watch"});
  Client c(server.port());
  CHECK(c.get("/metrics").body.find("llmhost_plugin_reloads_total{kind=\"loaded\"} 1\n") != std::string::npos);
  dir.add(test::bundled_plugins() / "libcecho.so");
  CHECK(c.get("/v1/models").body.find("cecho/*") == std::string::npos);  // no watch: not yet
  server.signal(SIGHUP);
  CHECK(eventually([&] { return !where(json_items(c.get("/v1/models").body, "/data"), "/id", "cecho/*").empty(); }));
  CHECK(contains(c.get("/metrics").body, "llmhost_plugin_reloads_total{kind=\"loaded\"} 2\n"));
  CHECK(c.post("/v1/chat/completions", chat_body("cecho/x", "hi")).status == 200);
}

TEST_CASE(
    "a plugin replaced while a stream is open: the stream completes on the old build, the next request gets the new") {
  test::TempDir dir;
  const auto plugin = dir.add(test::test_plugin("libdrip.so"));
  const auto release = dir.path() / "release";
  Server server({"--plugins", dir.path().string()}, {"DRIP_RELEASE=" + release.string()});
  Client c(server.port());
  c.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
  REQUIRE(json_at(sse_events(c.read_until("\n\n"))[0], "/choices/0/delta/content") == "v1");
  // Replace the file the way a deploy does: write a new file, rename it over the old one.
  std::filesystem::copy_file(test::test_plugin("libdrip_v2.so"), dir.path() / "libdrip.so.tmp");
  std::filesystem::rename(dir.path() / "libdrip.so.tmp", plugin);
  Client probe(server.port());
  CHECK(eventually([&] { return json_at(probe.get("/health/readiness").body, "/providers/0/version") == "2.0.0"; }));
  write_file(release, "");
  const Response r = c.finish();
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "v1 done");  // all of it on the old build
  CHECK_FALSE(contains(r.body, "v2"));
  const Response next = probe.post("/v1/chat/completions", chat_body("drip/x", "hi"));
  CHECK(next.status == 200);
  CHECK(answer_text(next.body) == "v2");
  CHECK(contains(probe.get("/metrics").body, "llmhost_plugin_reloads_total{kind=\"replaced\"} 1\n"));
}
