// Text completions (llmhost/text_completion.h) through the openai provider, the real Host and
// the real HTTP service, against a scripted upstream on loopback: one POST to /v1/completions
// per prompt with that prompt alone, whole and streamed, and the upstream's errors.
#include <chrono>
#include <thread>

#include "http_support.hpp"

using namespace test::http;

namespace {

// The prompt of a completions request body.
std::string prompt_of(const std::string &body) {
  simdjson::dom::parser p;
  std::string_view prompt;
  if (p.parse(body)["prompt"].get(prompt)) return "<no prompt string>";
  return std::string(prompt);
}

// A text_completion answering `text`.
std::string text_json(std::string_view text) {
  return R"({"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct-0914",)"
         R"("choices":[{"text":)" +
         json_quote(text) +
         R"(,"index":0,"logprobs":null,"finish_reason":"length"}],)"
         R"("usage":{"prompt_tokens":2,"completion_tokens":5,"total_tokens":7}})";
}

std::string text_event(std::string_view text, std::string_view finish = "null") {
  return R"(data: {"id":"cmpl-2","object":"text_completion","created":1,"model":"m","choices":[{"text":)" +
         json_quote(text) + R"(,"index":0,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]}\n\n";
}

llmhost::Request text_to(const MockServer &server, std::vector<std::string> prompts, const std::string &extra = {}) {
  llmhost::Request r;
  r.model = "openai/gpt-3.5-turbo-instruct";
  r.input = std::move(prompts);
  r.api_base = server.base_url();
  r.api_key = "sk-test-secret-123";
  r.extra_json = extra;
  return r;
}

}  // namespace

TEST_CASE("text completion: one POST to /v1/completions per prompt, with that prompt alone") {
  MockServer server([](const HttpRequest &req, Conn &c) { c.respond(200, text_json("after " + prompt_of(req.body))); });
  llmhost::Host host(host_options());
  llmhost::Request r = text_to(server, {"Say this", "And that"}, R"({"suffix":"!","echo":false})");
  r.params.max_tokens = 5;
  const llmhost::TextCompletion t = host.complete_text(r);

  REQUIRE(t.choices.size() == 2);
  CHECK(t.choices[0].text == "after Say this");
  CHECK(t.choices[1].text == "after And that");
  CHECK(t.choices[0].finish_reason == "length");
  CHECK(t.model == "gpt-3.5-turbo-instruct-0914");
  CHECK(t.provider == "openai");
  CHECK(t.usage.prompt_tokens == 4);  // both prompts' usage
  CHECK(t.usage.total_tokens == 14);
  CHECK_FALSE(t.usage.estimated);

  const auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  simdjson::dom::parser p;
  for (const auto &s : seen) {
    CHECK(s.target == "/v1/completions");
    CHECK(s.header("authorization") == "Bearer sk-test-secret-123");
    simdjson::dom::element body = p.parse(s.body);
    CHECK(std::string_view(body["model"]) == "gpt-3.5-turbo-instruct");
    CHECK(std::string_view(body["suffix"]) == "!");
    CHECK(body["max_tokens"].get_int64().value() == 5);
    CHECK(body["messages"].error() == simdjson::NO_SUCH_FIELD);
    CHECK(body["input"].error() == simdjson::NO_SUCH_FIELD);
    CHECK(body["stream"].error() == simdjson::NO_SUCH_FIELD);
  }
  CHECK(prompt_of(seen[0].body) == "Say this");
  CHECK(prompt_of(seen[1].body) == "And that");
}

TEST_CASE("streamed text completion: each prompt's chunks with its index, from a stream:true upstream") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    const std::string p = prompt_of(req.body);
    c.begin_chunked();
    c.chunk(text_event(p + ":") + text_event(" one") + text_event(" two", "\"stop\"") +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":3,\"total_tokens\":4}}\n\n"
            "data: [DONE]\n\n");
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  std::vector<std::string> text(2);
  std::vector<std::string> finish(2);
  int usage_chunks = 0;
  host.stream_text(text_to(server, {"a", "b"}), [&](size_t index, const llmhost::Chunk &c) {
    REQUIRE(index < 2);
    text[index] += c.content;
    if (!c.finish_reason.empty()) finish[index] = c.finish_reason;
    if (c.usage) ++usage_chunks;
    return true;
  });
  CHECK(text[0] == "a: one two");
  CHECK(text[1] == "b: one two");
  CHECK(finish == std::vector<std::string>{"stop", "stop"});
  CHECK(usage_chunks == 2);
  simdjson::dom::parser p;
  CHECK(p.parse(server.requests().at(0).body)["stream"].get_bool().value() == true);
}

TEST_CASE("text completion: the upstream's errors keep their status, a bad answer is a 502, no key shown") {
  MockServer refused([](const HttpRequest &, Conn &c) {
    c.respond(400, R"({"error":{"message":"This model does not support the completions endpoint"}})");
  });
  llmhost::Host host(host_options());
  const auto e = error_of([&] { host.complete_text(text_to(refused, {"x"})); });
  CHECK(e.status() == 400);
  CHECK(std::string(e.what()).find("does not support the completions endpoint") != std::string::npos);
  CHECK(std::string(e.what()).find("sk-test-secret") == std::string::npos);

  MockServer chat_shaped([](const HttpRequest &, Conn &c) { c.respond(200, completion_json("not text")); });
  const auto bad = error_of([&] { host.complete_text(text_to(chat_shaped, {"x"})); });
  CHECK(bad.status() == 502);
  CHECK(std::string(bad.what()).find("choices[0] has no \"text\" string") != std::string::npos);

  CHECK(error_of([&] { host.complete_text(text_to(refused, {})); }).status() == 400);  // no prompt
}

TEST_CASE("text completion: the request's timeout covers all its prompts together") {
  MockServer slow([](const HttpRequest &req, Conn &c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c.respond(200, text_json(prompt_of(req.body)));
  });
  llmhost::Host host(host_options());
  llmhost::Request r = text_to(slow, {"a", "b", "c"});
  r.timeout_s = 0.5;  // one prompt fits, three do not
  const auto e = error_of([&] { host.complete_text(r); });
  CHECK(e.status() == 408);
  CHECK(slow.request_count() == 2);  // the third never starts
}
