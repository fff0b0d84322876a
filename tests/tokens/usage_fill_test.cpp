// Usage the provider did not report, counted by the host: completions and streams, in process
// and in a worker process (the suite runs in both modes), with the model's encoding or the
// configured default; reported usage left alone; and no counting when it is turned off.
#include <doctest/doctest.h>

#include <future>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support.hpp"
#include "tokens/chat_tokens.hpp"
#include "tokens/encoding.hpp"

using llmhost::detail::tokens::Encoding;

namespace {

constexpr std::string_view kReply = "Sunny and mild, 21°C.";  // the unmetered fixture's answer

// Only the plugins these tests call: each host here starts them all, and under isolation and a
// sanitizer every worker costs a process start.
llmhost::HostOptions options() {
  static const test::TempDir dir;
  static const bool filled = [] {
    for (const char *fixture : {"libunmetered.so", "libcounted.so", "libcounted_c.so"})
      dir.add(test::test_plugin(fixture));
    dir.add(test::bundled_plugins() / "libecho.so");
    return true;
  }();
  (void)filled;
  return test::options_for({dir.path()});
}

// What OpenAI bills for one user message `prompt` answered with `reply`, under `encoding`.
llmhost::Usage expected(std::string_view encoding, const std::string &prompt, std::string_view reply) {
  const Encoding &e = *Encoding::find(encoding);
  llmhost::Message m;
  m.role = "user";
  m.content = prompt;
  llmhost::Usage u;
  u.prompt_tokens = static_cast<int64_t>(llmhost::detail::tokens::count_chat_prompt(e, std::vector{m}));
  u.completion_tokens = static_cast<int64_t>(e.count(reply));
  u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

void check_estimated(const llmhost::Usage &got, const llmhost::Usage &want) {
  CHECK(got.estimated);
  CHECK(got.prompt_tokens == want.prompt_tokens);
  CHECK(got.completion_tokens == want.completion_tokens);
  CHECK(got.total_tokens == want.total_tokens);
}

// A stream's chunks: the text, and every usage that came.
struct Streamed {
  std::string text;
  std::vector<llmhost::Usage> usages;
};

Streamed stream(llmhost::Host &host, const llmhost::Request &r) {
  Streamed s;
  host.stream(r, [&](const llmhost::Chunk &c) {
    s.text += c.content;
    if (c.usage) s.usages.push_back(*c.usage);
    return true;
  });
  return s;
}

}  // namespace

TEST_CASE("a completion with no usage gets the prompt and answer counted with the model's encoding") {
  llmhost::Host host(options());
  const std::string prompt = "What is the weather in Paris? 天気はどうですか";
  const llmhost::Response r = host.complete(test::chat("unmetered/gpt-4o", prompt));
  CHECK(r.content == kReply);
  check_estimated(r.usage, expected("o200k_base", prompt, kReply));
  // gpt-4 counts with cl100k_base, whose counts of this text differ.
  const llmhost::Response r4 = host.complete(test::chat("unmetered/gpt-4", prompt));
  check_estimated(r4.usage, expected("cl100k_base", prompt, kReply));
  CHECK(r4.usage.prompt_tokens != r.usage.prompt_tokens);
}

TEST_CASE("a stream with no usage ends with one estimated usage chunk after its text") {
  llmhost::Host host(options());
  const Streamed s = stream(host, test::chat("unmetered/gpt-4o-mini", "Hello!"));
  CHECK(s.text == kReply);
  REQUIRE(s.usages.size() == 1);
  check_estimated(s.usages[0], expected("o200k_base", "Hello!", kReply));
  CHECK(s.usages[0].prompt_tokens == 9);  // OpenAI's framing of one user message "Hello!"
}

TEST_CASE("the callback forms count too: a completion's handler and a stream's last chunk") {
  llmhost::Host host(options());
  std::promise<llmhost::CompleteResult> completed;
  host.complete(test::chat("unmetered/o3-mini", "hi"),
                [&](llmhost::CompleteResult r) { completed.set_value(std::move(r)); });
  const llmhost::CompleteResult result = completed.get_future().get();
  REQUIRE(std::holds_alternative<llmhost::Response>(result));
  check_estimated(std::get<llmhost::Response>(result).usage, expected("o200k_base", "hi", kReply));

  std::vector<llmhost::Usage> usages;
  std::promise<std::optional<llmhost::Error>> ended;
  host.stream(
      test::chat("unmetered/o3-mini", "hi"),
      [&](const llmhost::Chunk &c) {
        if (c.usage) usages.push_back(*c.usage);
        return true;
      },
      [&](std::optional<llmhost::Error> e) { ended.set_value(std::move(e)); });
  CHECK_FALSE(ended.get_future().get().has_value());
  REQUIRE(usages.size() == 1);
  check_estimated(usages[0], expected("o200k_base", "hi", kReply));
}

TEST_CASE("an unknown model counts with default_encoding") {
  const std::string prompt = "Ünïcödé and 中文 text";
  for (const char *encoding : {"cl100k_base", "o200k_base"}) {
    CAPTURE(encoding);
    llmhost::HostOptions o = options();
    o.default_encoding = encoding;
    llmhost::Host host(std::move(o));
    check_estimated(host.complete(test::chat("unmetered/claude-x", prompt)).usage, expected(encoding, prompt, kReply));
  }
  llmhost::HostOptions bad = options();
  bad.default_encoding = "p50k_base";
  const llmhost::Error e = test::error_of([&] { llmhost::Host host(std::move(bad)); });
  CHECK(e.status() == 400);
  CHECK(std::string(e.what()) == "unknown default_encoding \"p50k_base\"; known: o200k_base, cl100k_base");
}

TEST_CASE("usage a provider reports is passed on as it is, never estimated") {
  llmhost::Host host(options());
  const llmhost::Response r = host.complete(test::chat("echo/gpt-4o", "one two three"));
  CHECK_FALSE(r.usage.estimated);
  CHECK(r.usage.prompt_tokens == 3);  // echo counts words
  const Streamed s = stream(host, test::chat("echo/gpt-4o", "one two three"));
  REQUIRE(s.usages.size() == 1);
  CHECK_FALSE(s.usages[0].estimated);
}

TEST_CASE("with estimate_usage off, unreported usage stays zero") {
  llmhost::HostOptions o = options();
  o.estimate_usage = false;
  llmhost::Host host(std::move(o));
  const llmhost::Response r = host.complete(test::chat("unmetered/gpt-4o", "hi"));
  CHECK_FALSE(r.usage.estimated);
  CHECK(r.usage.total_tokens == 0);
  CHECK(stream(host, test::chat("unmetered/gpt-4o", "hi")).usages.empty());
}

TEST_CASE(
    "a plugin counts with llmhost.tokens.v1 (C, and C++'s llmh::Tokens): the host's numbers and default encoding") {
  const std::string prompt = "Combien de jetons ? 何個のトークン？";
  const std::string answer = "Counted: " + prompt;
  for (const char *encoding : {"cl100k_base", "o200k_base"}) {
    CAPTURE(encoding);
    llmhost::HostOptions o = options();
    o.default_encoding = encoding;  // reaches an isolated plugin's worker too
    llmhost::Host host(std::move(o));
    // gpt-4o names its encoding; "some-model" is not in tiktoken's table: the default counts.
    for (const std::string provider : {"counted", "counted_c"})
      for (const std::string model : {"gpt-4o", "some-model"}) {
        CAPTURE(provider);
        CAPTURE(model);
        const llmhost::Response r = host.complete(test::chat(provider + "/" + model, prompt));
        CHECK(r.content == answer);
        const llmhost::Usage want = expected(model == "gpt-4o" ? "o200k_base" : encoding, prompt, answer);
        CHECK_FALSE(r.usage.estimated);  // the plugin reported it
        CHECK(r.usage.prompt_tokens == want.prompt_tokens);
        CHECK(r.usage.completion_tokens == want.completion_tokens);
        CHECK(host.count_tokens("openai/" + model, prompt).tokens ==
              static_cast<int64_t>(Encoding::find(model == "gpt-4o" ? "o200k_base" : encoding)->count(prompt)));
      }
    for (const std::string provider : {"counted", "counted_c"}) {
      const llmhost::Error e = test::error_of([&] { host.complete(test::chat(provider + "/gpt-4o", "invalid")); });
      CHECK(e.status() == 400);
      CHECK(std::string(e.what()).find("not valid UTF-8 at byte 3") != std::string::npos);
    }
  }
}
