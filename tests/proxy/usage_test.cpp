// Usage through the proxy: a provider that reports none gets its tokens counted by the host, and
// the answer says so (the x-llmhost-usage header, the x_llmhost_usage member); the access log
// and /metrics count reported and estimated tokens apart; /v1/... clients see OpenAI's usage
// object unchanged. (docs/tokens.md)
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy_support.hpp"
#include "tokens/chat_tokens.hpp"
#include "tokens/encoding.hpp"

using namespace ptest;
using llmhost::detail::tokens::Encoding;

namespace {

constexpr std::string_view kReply = "Sunny and mild, 21°C.";  // the unmetered fixture's answer

struct Fixture {
  Fixture() {
    plugins.add(test::test_plugin("libunmetered.so"));
    plugins.add(test::bundled_plugins() / "libecho.so");
    server.emplace(std::vector<std::string>{"--plugins", plugins.path().string()});
  }
  test::TempDir plugins;
  std::optional<Server> server;
};

// OpenAI's count of one user message "Hello!" and the fixture's answer, under o200k_base.
int64_t prompt_tokens() { return 9; }
int64_t completion_tokens() { return static_cast<int64_t>(Encoding::find("o200k_base")->count(kReply)); }

}  // namespace

TEST_CASE("a completion with no reported usage: counted, marked in a header and a member, logged and measured") {
  Fixture f;
  Client c(f.server->port());
  const Response r = c.post("/v1/chat/completions", chat_body("unmetered/gpt-4o", "Hello!"));
  REQUIRE(r.status == 200);
  CHECK(answer_text(r.body) == kReply);
  CHECK(r.header("x-llmhost-usage") == "estimated");
  CHECK(json_at(r.body, "/usage/prompt_tokens") == std::to_string(prompt_tokens()));
  CHECK(json_at(r.body, "/usage/completion_tokens") == std::to_string(completion_tokens()));
  CHECK(json_at(r.body, "/usage/total_tokens") == std::to_string(prompt_tokens() + completion_tokens()));
  CHECK(json_at(r.body, "/x_llmhost_usage") == "estimated");

  // Reported usage: no header, no member, the provider's numbers (echo counts words).
  const Response e = c.post("/v1/chat/completions", chat_body("echo/gpt-4o", "one two three"));
  CHECK(e.header("x-llmhost-usage").empty());
  CHECK(json_at(e.body, "/usage/prompt_tokens") == "3");
  CHECK(json_at(e.body, "/x_llmhost_usage") == "<absent: /x_llmhost_usage>");

  const std::string metrics = c.get("/metrics").body;
  CHECK(metrics.find("llmhost_tokens_total{model=\"unmetered/gpt-4o\",provider=\"unmetered\",type=\"prompt\","
                     "usage=\"estimated\"} " +
                     std::to_string(prompt_tokens()) + "\n") != std::string::npos);
  CHECK(metrics.find("llmhost_tokens_total{model=\"unmetered/gpt-4o\",provider=\"unmetered\",type=\"completion\","
                     "usage=\"estimated\"} " +
                     std::to_string(completion_tokens()) + "\n") != std::string::npos);
  CHECK(metrics.find("llmhost_tokens_total{model=\"echo/gpt-4o\",provider=\"echo\",type=\"prompt\","
                     "usage=\"reported\"} 3\n") != std::string::npos);

  CHECK(eventually([&] { return where(log_lines(f.server->err()), "/usage", "estimated").size() == 1; }));
  const std::string line = where(log_lines(f.server->err()), "/usage", "estimated").at(0);
  CHECK(json_at(line, "/model") == "unmetered/gpt-4o");
  CHECK(json_at(line, "/prompt_tokens") == std::to_string(prompt_tokens()));
  CHECK(json_at(line, "/completion_tokens") == std::to_string(completion_tokens()));
  CHECK(where(log_lines(f.server->err()), "/usage", "reported").size() == 1);
}

TEST_CASE("a stream with no reported usage: the include_usage chunk carries the count, marked") {
  Fixture f;
  Client c(f.server->port());
  const Response r =
      c.post("/v1/chat/completions",
             chat_body("unmetered/gpt-4o", "Hello!", R"("stream":true,"stream_options":{"include_usage":true})"));
  REQUIRE(r.status == 200);
  CHECK(answer_text(r.body) == kReply);
  const std::vector<std::string> events = sse_events(r.body);
  REQUIRE(events.size() >= 3);
  CHECK(events.back() == "[DONE]");
  const std::string &usage = events[events.size() - 2];
  CHECK(json_at(usage, "/choices") == "[]");
  CHECK(json_at(usage, "/usage/prompt_tokens") == std::to_string(prompt_tokens()));
  CHECK(json_at(usage, "/usage/completion_tokens") == std::to_string(completion_tokens()));
  CHECK(json_at(usage, "/x_llmhost_usage") == "estimated");
  // Only the usage chunk carries it.
  for (size_t i = 0; i + 2 < events.size(); ++i) CHECK(json_at(events[i], "/usage") == "<absent: /usage>");

  CHECK(eventually([&] {
    const auto lines = where(log_lines(f.server->err()), "/usage", "estimated");
    return lines.size() == 1 && json_at(lines[0], "/stream") == "true";
  }));
}

TEST_CASE("general_settings.estimate_usage: false leaves unreported usage at zero, unmarked") {
  test::TempDir plugins, dir;
  plugins.add(test::test_plugin("libunmetered.so"));
  write_file(dir.path() / "config.yaml",
             "general_settings:\n  estimate_usage: false\n  default_encoding: o200k_base\n");
  Server server({"--plugins", plugins.path().string(), "--config", (dir.path() / "config.yaml").string()});
  const Response r = Client(server.port()).post("/v1/chat/completions", chat_body("unmetered/gpt-4o", "Hello!"));
  CHECK(r.header("x-llmhost-usage").empty());
  CHECK(json_at(r.body, "/usage/total_tokens") == "0");
  CHECK(json_at(r.body, "/x_llmhost_usage") == "<absent: /x_llmhost_usage>");

  write_file(dir.path() / "bad.yaml", "general_settings:\n  default_encoding: p50k_base\n");
  const test::RunResult bad =
      serve_fails({"--plugins", plugins.path().string(), "--config", (dir.path() / "bad.yaml").string()});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("bad.yaml:2:21: \"general_settings.default_encoding\" must be o200k_base or cl100k_base") !=
        std::string::npos);
}

TEST_CASE("POST /utils/token_counter counts messages or a prompt, LiteLLM's way, with a configured name's model") {
  test::TempDir plugins, dir;
  plugins.add(test::bundled_plugins() / "libecho.so");
  write_file(dir.path() / "config.yaml",
             "model_list:\n  - model_name: my-gpt\n    litellm_params:\n      model: echo/gpt-4o\n");
  Server server({"--plugins", plugins.path().string(), "--config", (dir.path() / "config.yaml").string()});
  Client c(server.port());

  Response r = c.post("/utils/token_counter", R"({"model":"gpt-4","messages":[{"role":"user","content":"Hello!"}]})");
  REQUIRE(r.status == 200);
  CHECK(json_at(r.body, "/total_tokens") == "9");
  CHECK(json_at(r.body, "/request_model") == "gpt-4");
  CHECK(json_at(r.body, "/model_used") == "gpt-4");
  CHECK(json_at(r.body, "/tokenizer_type") == "openai_tokenizer");
  CHECK(json_at(r.body, "/encoding") == "cl100k_base");

  r = c.post("/utils/token_counter", R"({"model":"my-gpt","prompt":"hello world"})");
  REQUIRE(r.status == 200);
  CHECK(json_at(r.body, "/total_tokens") == "2");
  CHECK(json_at(r.body, "/model_used") == "echo/gpt-4o");
  CHECK(json_at(r.body, "/encoding") == "o200k_base");

  // Bad input: a clear 400 naming the field, and the server goes on.
  r = c.post("/utils/token_counter", R"({"prompt":"x"})");
  CHECK(r.status == 400);
  CHECK(json_at(r.body, "/error/param") == "model");
  r = c.post("/utils/token_counter", R"({"model":"gpt-4"})");
  CHECK(r.status == 400);
  CHECK(json_at(r.body, "/error/param") == "prompt");
  r = c.post("/utils/token_counter", R"({"model":"gpt-4","messages":[{"content":"x"}]})");
  CHECK(r.status == 400);
  CHECK(json_at(r.body, "/error/param") == "messages[0].role");
  r = c.post("/utils/token_counter", "not json");
  CHECK(r.status == 400);
  CHECK(c.post("/utils/token_counter", R"({"model":"x","prompt":"ok"})").status == 200);
  CHECK(c.get("/utils/token_counter").status == 405);
}
