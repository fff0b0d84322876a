// Hot reload under load through `llmhost serve`: clients on keep-alive connections call and
// stream while a provider's file is replaced every way an operator does it
// (support/plugin_swaps). Zero failed requests, and no stream served by two builds.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "plugin_swaps.hpp"
#include "proxy_support.hpp"

using namespace ptest;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("stress through serve: every way of replacing a plugin file, under load, zero failed requests") {
  test::SwapFolder folder;
  std::filesystem::copy_file(test::test_plugin("libswap_v1.so"), folder.file("libswap.so"));
  test::TempDir scratch;
  const auto config = scratch.path() / "config.yaml";
  write_file(config, "general_settings:\n  plugin_removal_grace: 1\n");
  Server server({"--config", config.string(), "--plugins", folder.dir().string()});

  std::atomic<bool> done{false};
  std::atomic<int> requests{0}, failures{0}, mixed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      std::optional<Client> c(std::in_place, server.port());
      for (int i = 0; !done; ++i) {
        const bool stream = (t + i) % 2 == 1;
        try {
          const Response r =
              c->post("/v1/chat/completions", chat_body("swap/m", "hi", stream ? "\"stream\":true" : ""));
          if (r.status != 200 || (stream && !contains(r.body, "data: [DONE]"))) {
            if (failures++ < 5) MESSAGE("status " << r.status << ": " << r.body);
          } else if (const std::string b = answer_text(r.body); b != "v1" && b != "v2") {
            if (mixed++ < 5) MESSAGE("not one build's answer: \"" << b << "\"");
          }
        } catch (const std::exception &e) {
          if (failures++ < 5) MESSAGE("request failed: " << std::string(e.what()));
          c.emplace(server.port());  // a fresh connection: the old one's state is unknown
        }
        ++requests;
      }
    });

  Client probe(server.port());
  const auto answers = [&](const std::string &build) {
    return answer_text(probe.post("/v1/chat/completions", chat_body("swap/m", "hi")).body) == build;
  };
  const size_t kinds = std::size(test::kEverySwap);
  const size_t swaps = 4 * kinds;
  for (size_t i = 0; i < swaps; ++i) {
    const test::Swap swap = test::kEverySwap[i % kinds];
    CAPTURE(i);
    CAPTURE(test::to_string(swap));
    const bool to_v2 = i % 2 == 0;
    folder.land(swap, test::test_plugin(to_v2 ? "libswap_v2.so" : "libswap_v1.so"), "libswap.so");
    REQUIRE(eventually([&] { return answers(to_v2 ? "v2" : "v1"); }, 10s));
    if (i % kinds == kinds - 1) folder.rename_away_and_back("libswap.so", 20ms);
  }
  std::this_thread::sleep_for(1500ms);  // past the last removal grace: nothing may be removed
  done = true;
  for (auto &t : clients) t.join();

  CHECK(failures.load() == 0);
  CHECK(mixed.load() == 0);
  CHECK(requests > static_cast<int>(swaps));
  const std::string metrics = probe.get("/metrics").body;
  CHECK(contains(metrics, "llmhost_plugin_reloads_total{kind=\"replaced\"} " + std::to_string(swaps) + "\n"));
  CHECK(contains(metrics, "llmhost_plugin_reloads_total{kind=\"removed\"} 0\n"));
  CHECK(contains(metrics, "llmhost_plugin_reloads_total{kind=\"failed\"} 0\n"));
  MESSAGE("requests: " << requests.load() << ", " << swaps << " swaps");
}
