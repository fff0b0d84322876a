// complete / stream / embed through real plugins, the real loader and the ABI bridge.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "dispatch/abi_call.hpp"
#include "openai/response.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using test::error_of;

namespace {

llmhost::Host &bundled() {
  static llmhost::Host host(test::options_for({test::bundled_plugins(), test::test_plugin("")}));
  return host;
}

struct Collected {
  std::vector<std::string> texts;
  std::string finish_reason;
  std::optional<llmhost::Usage> usage;
};

Collected collect(const llmhost::Request &r) {
  Collected c;
  bundled().stream(r, [&](const llmhost::Chunk &chunk) {
    if (!chunk.content.empty()) c.texts.emplace_back(chunk.content);
    if (!chunk.finish_reason.empty()) c.finish_reason = chunk.finish_reason;
    if (chunk.usage) c.usage = chunk.usage;
    return true;
  });
  return c;
}

}  // namespace

TEST_CASE("echo answers with the last user message and counts words") {
  llmhost::Request r = test::chat("echo/any", "Hello world");
  r.messages.insert(r.messages.begin(), {"system", "be brief please", {}, {}, {}});
  const auto resp = bundled().complete(r);
  CHECK(resp.content == "Hello world");
  CHECK(resp.finish_reason == "stop");
  CHECK(resp.usage.prompt_tokens == 5);
  CHECK(resp.usage.completion_tokens == 2);
  CHECK(resp.usage.total_tokens == 7);
  CHECK(resp.provider == "echo");
}

TEST_CASE("echo streams one chunk per word that concatenate to the reply, then finish and usage") {
  const auto c = collect(test::chat("echo/any", "a b c"));
  CHECK(c.texts == std::vector<std::string>{"a", " b", " c"});
  CHECK(c.finish_reason == "stop");
  REQUIRE(c.usage);
  CHECK(c.usage->completion_tokens == 3);

  const auto spaced = collect(test::chat("echo/any", "  lead and\ttabs "));
  std::string joined;
  for (auto &t : spaced.texts) joined += t;
  CHECK(joined == "  lead and\ttabs ");
}

TEST_CASE("a consumer returning false stops the stream at once") {
  int seen = 0;
  bundled().stream(test::chat("echo/any", "one two three four five"), [&](const llmhost::Chunk &) {
    ++seen;
    return seen < 2;
  });
  CHECK(seen == 2);
}

TEST_CASE("echo knobs: mock_response, mock_error_status, mock_delay_ms") {
  CHECK(bundled().complete(test::chat("echo/any", "x", R"({"mock_response":"canned"})")).content == "canned");
  const auto e = error_of([] { bundled().complete(test::chat("echo/any", "x", R"({"mock_error_status":429})")); });
  CHECK(e.status() == 429);
  const auto se = error_of([] { collect(test::chat("echo/any", "x", R"({"mock_error_status":503})")); });
  CHECK(se.status() == 503);

  const auto t0 = std::chrono::steady_clock::now();
  bundled().complete(test::chat("echo/any", "x", R"({"mock_delay_ms":50})"));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
}

TEST_CASE("cancelling a delayed call returns promptly with 499") {
  std::stop_source stop;
  auto fut = bundled().complete_async(test::chat("echo/any", "x", R"({"mock_delay_ms":60000})"), stop.get_token());
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  CHECK(error_of([&] { fut.get(); }).status() == 499);
}

TEST_CASE("echo embeddings are deterministic unit vectors of dimension 8") {
  llmhost::Request r;
  r.model = "echo/emb";
  r.input = {"alpha", "beta", "alpha"};
  const auto e = bundled().embed(r);
  REQUIRE(e.data.size() == 3);
  for (const auto &v : e.data) {
    REQUIRE(v.size() == 8);
    double norm = 0;
    for (float f : v) norm += double(f) * f;
    CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(e.data[0] == e.data[2]);
  CHECK(e.data[0] != e.data[1]);
  CHECK(bundled().embed(r).data == e.data);  // same input, same vector, every time
}

TEST_CASE("cecho, a plain C plugin, answers and streams; it has no embed") {
  const auto r = bundled().complete(test::chat("cecho/m", "hi there"));
  CHECK(r.content == "cecho: hi there");
  std::string joined;
  for (auto &t : collect(test::chat("cecho/m", "hi there")).texts) joined += t;
  CHECK(joined == "cecho: hi there");
  llmhost::Request er;
  er.model = "cecho/m";
  er.input = {"x"};
  CHECK(error_of([&] { bundled().embed(er); }).status() == 501);
}

TEST_CASE("C++ exceptions from provider.hpp plugins become ABI errors") {
  const auto e = error_of([] { bundled().complete(test::chat("thrower/m", "hi")); });
  CHECK(e.status() == 500);
  CHECK(std::string(e.what()).find("boom from thrower") != std::string::npos);

  std::vector<std::string> before_error;
  const auto se = error_of([&] {
    bundled().stream(test::chat("thrower/m", "hi"), [&](const llmhost::Chunk &c) {
      before_error.emplace_back(c.content);
      return true;
    });
  });
  CHECK(se.status() == 429);
  CHECK(std::string(se.what()).find("slow down") != std::string::npos);
  CHECK(before_error.size() == 1);  // the chunk sent before the error arrived

  llmhost::Request er;
  er.model = "thrower/m";
  er.input = {"x"};
  CHECK(error_of([&] { bundled().embed(er); }).status() == 500);
}

TEST_CASE("a hanging plugin is released by cancellation") {
  std::stop_source stop;
  auto fut = bundled().stream_async(
      test::chat("hang/m", "hi"), [](const llmhost::Chunk &) { return true; }, stop.get_token());
  CHECK(fut.wait_for(50ms) == std::future_status::timeout);
  stop.request_stop();
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  CHECK(error_of([&] { fut.get(); }).status() == 499);
}

TEST_CASE("async forms return at once and deliver results") {
  auto slow = bundled().complete_async(test::chat("echo/any", "later", R"({"mock_delay_ms":100})"));
  CHECK(slow.wait_for(0ms) == std::future_status::timeout);  // not blocked on the call
  CHECK(slow.get().content == "later");

  std::string streamed;
  bundled()
      .stream_async(test::chat("echo/any", "x y"),
                    [&](const llmhost::Chunk &c) {
                      streamed.append(c.content);
                      return true;
                    })
      .get();
  CHECK(streamed == "x y");

  llmhost::Request r;
  r.model = "echo/e";
  r.input = {"q"};
  CHECK(bundled().embed_async(r).get().data.size() == 1);
  CHECK(error_of([] { bundled().complete_async(test::chat("nosuch/x", "hi")).get(); }).status() == 404);
}

TEST_CASE("a call past its timeout_s gets 408, even from a plugin that only watches cancelled()") {
  llmhost::Request r = test::chat("hang/m", "hi");
  r.timeout_s = 0.05;
  const auto t0 = std::chrono::steady_clock::now();
  const auto e = error_of([&] { bundled().complete(r); });
  CHECK(e.status() == 408);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  const auto se = error_of([&] { bundled().stream(r, [](const llmhost::Chunk &) { return true; }); });
  CHECK(se.status() == 408);
}

TEST_CASE("provider_config reaches the provider's create()") {
  llmhost::HostOptions o = test::options_for({test::test_plugin("")});
  o.provider_config["configured"] = R"({"region":"eu","extra_key":1})";
  llmhost::Host host(o);
  CHECK(host.complete(test::chat("configured/m", "hi")).content == R"({"region":"eu","extra_key":1})");
  llmhost::Host plain(test::options_for({test::test_plugin("")}));
  CHECK(plain.complete(test::chat("configured/m", "hi")).content == "{}");
}

TEST_CASE("upstream members a plugin hands over reach the response, each chunk and the OpenAI JSON") {
  // passthrough reports no usage: the host's estimate (tests/tokens) is off here, so that every
  // chunk is the plugin's own.
  llmhost::HostOptions o = test::options_for({test::test_plugin("")});
  o.estimate_usage = false;
  llmhost::Host host(std::move(o));
  llmhost::Response r = host.complete(test::chat("passthrough/m", "hi"));
  CHECK(r.upstream_members.top == R"({"system_fingerprint":"fp_t"})");
  CHECK(r.upstream_members.choice.empty());
  r.id = "c1";
  std::string json;
  llmhost::openai::write_completion(json, r);
  CHECK(
      json.find(R"("usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0},"system_fingerprint":"fp_t"})") !=
      std::string::npos);
  int with_members = 0, chunks = 0;
  host.stream(test::chat("passthrough/m", "hi"), [&](const llmhost::Chunk &c) {
    ++chunks;
    with_members += c.upstream_members.top == R"({"system_fingerprint":"fp_t"})";
    return true;
  });
  CHECK(chunks == 3);
  CHECK(with_members == 3);
}

TEST_CASE("upstream members that are not a JSON object fail the call, naming the provider and the field") {
  const llmhost::Error e = error_of([] { bundled().complete(test::chat("bad_passthrough/m", "hi")); });
  CHECK(e.status() == 500);
  CHECK(std::string(e.what()).find("bad_passthrough handed over upstream_members.top that is not a JSON object") !=
        std::string::npos);
  const llmhost::Error s = error_of([] { collect(test::chat("bad_passthrough/m", "hi")); });
  CHECK(s.status() == 500);
  CHECK(std::string(s.what()).find("upstream_members.top is not a JSON object") != std::string::npos);
}

TEST_CASE("a plugin built against ABI 1.2 streams: its smaller chunks are read without upstream members") {
  const Collected c = collect(test::chat("old_chunk/m", "hi"));
  CHECK(c.texts == std::vector<std::string>{"f", "ixed"});
  CHECK(c.finish_reason == "stop");
}

TEST_CASE("a checked body's members are listed for a plugin that reads them, and only for it") {
  CHECK(bundled().complete(test::chat("members_read/m", "hi")).content == "members: 2");  // model, messages
  CHECK(bundled().complete(test::chat("members_unread/m", "hi")).content == "members: none");
  llmhost::Request unchecked = test::chat("members_read/m", "hi");
  unchecked.body_json = R"({"model":"members_read/m","messages":[],"n":1})";  // not known to be valid
  CHECK(bundled().complete(unchecked).content == "members: none");
  unchecked.body_json_checked = true;
  CHECK(bundled().complete(unchecked).content == "members: 3");
}

TEST_CASE("a stream's member texts are checked once: only a text equal to one that passed is skipped") {
  llmhost::detail::CheckedMembers checked;
  const std::string fp = R"({"system_fingerprint":"fp"})";
  CHECK_FALSE(checked.seen(0, fp));
  checked.remember(0, fp);
  CHECK(checked.seen(0, fp));
  CHECK_FALSE(checked.seen(1, fp));                                // per level
  CHECK_FALSE(checked.seen(0, R"({"system_fingerprint":"fq"})"));  // same length, other bytes
  CHECK_FALSE(checked.seen(0, R"({"system_fingerprint":1)"));
  const std::string long_text = "{\"k\":\"" + std::string(80, 'x') + "\"}";
  checked.remember(0, long_text);  // too long to keep: checked every time
  CHECK_FALSE(checked.seen(0, long_text));
  CHECK_FALSE(checked.seen(0, fp));
}
