// The tokenizer's own promises: which model counts with which encoding, OpenAI's chat framing,
// clear errors for a damaged rank file or text that is not UTF-8, no stall on a long run of one
// character; and `llmhost tokens` as a user runs it. (Equality with tiktoken, text by text, is
// tiktoken_test.cpp.)
#include <doctest/doctest.h>
#include <simdjson.h>

#include <stdexcept>
#include <string>

#include "support.hpp"
#include "tokens/bpe_ranks.hpp"
#include "tokens/chat_tokens.hpp"
#include "tokens/encoding.hpp"
#include "tokens/model_encoding.hpp"

using namespace llmhost::detail::tokens;

namespace {

llmhost::Message message(std::string role, std::string content, std::string name = {}) {
  llmhost::Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  m.name = std::move(name);
  return m;
}

}  // namespace

TEST_CASE("models map to encodings as tiktoken maps them; an unknown model gets the fallback") {
  for (const char *m :
       {"gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "openai/gpt-4o", "azure/gpt-4.1-mini", "o1", "o1-mini", "o3-mini",
        "o4-mini", "gpt-5", "chatgpt-4o-latest", "ft:gpt-4o:acme::abc", "gpt-4.5-preview"}) {
    CAPTURE(m);
    CHECK(encoding_for_model(m) == "o200k_base");
  }
  for (const char *m : {"gpt-4", "gpt-4-turbo", "gpt-4-0613", "gpt-3.5-turbo", "gpt-35-turbo", "text-embedding-3-small",
                        "ft:gpt-3.5-turbo:acme::x"}) {
    CAPTURE(m);
    CHECK(encoding_for_model(m) == "cl100k_base");
  }
  CHECK(encoding_for_model("claude-3-5-sonnet") == kDefaultEncoding);
  CHECK(encoding_for_model("gpt-4oops", "o200k_base") == "o200k_base");  // not gpt-4o: the fallback given
  CHECK(encoding_for_model("gpt-4oops", "nothing") == "nothing");
  CHECK(Encoding::find("p50k_base") == nullptr);
}

TEST_CASE("known ids: hello world; ids decode to their bytes, and an unknown id is refused") {
  const Encoding &cl100k = *Encoding::find("cl100k_base");
  CHECK(cl100k.encode("hello world") == std::vector<uint32_t>{15339, 1917});
  CHECK(Encoding::find("o200k_base")->encode("hello world") == std::vector<uint32_t>{24912, 2375});
  CHECK(cl100k.decode(std::vector<uint32_t>{15339, 1917}) == "hello world");
  CHECK(cl100k.decode(std::vector<uint32_t>{}).empty());
  CHECK_THROWS_WITH_AS(cl100k.decode(std::vector<uint32_t>{15339, 100257}), "cl100k_base has no token 100257",
                       std::out_of_range);  // <|endoftext|>: a special token, never produced by encode
}

TEST_CASE("a chat prompt costs 3 per message, 1 per name and 3 to prime the reply, beyond its text") {
  const Encoding &e = *Encoding::find("o200k_base");
  // "user" is 1 token, "Hello!" 2: 3 + 1 + 2 for the message, 3 for the reply.
  const std::vector<llmhost::Message> hello{message("user", "Hello!")};
  CHECK(count_chat_prompt(e, hello) == 9);
  // "system" 1, "Be brief." 3, "assistant" 1, "Ok" 1, name "bot" 1 (+1 for having one).
  const std::vector<llmhost::Message> three{message("system", "Be brief."), message("user", "Hello!"),
                                            message("assistant", "Ok", "bot")};
  CHECK(count_chat_prompt(e, three) == 3 + (3 + 1 + 3) + (3 + 1 + 2) + (3 + 1 + 1 + 1 + 1));
  CHECK(count_chat_prompt(e, {}) == 3);
  const std::vector<llmhost::ToolCall> calls{{"c1", "function", "get_weather", R"({"city":"Paris"})"}};
  CHECK(count_completion(e, "Sunny", "", calls) ==
        e.count("Sunny") + e.count("get_weather") + e.count(R"({"city":"Paris"})"));
}

TEST_CASE("a damaged rank file is refused, naming the file and the line") {
  const auto error_of = [](std::string_view text) {
    try {
      BpeRanks::parse(text, "x.tiktoken");
    } catch (const std::runtime_error &e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK(BpeRanks::parse("IQ== 0\nIg== 1\n\n", "x.tiktoken").find("\"") == 1u);
  CHECK(error_of("IQ== 0\nIg==1\n") == "x.tiktoken:2: expected \"BASE64 RANK\"");
  CHECK(error_of("I*== 0\n") == "x.tiktoken:1: the token is not base64");
  CHECK(error_of("IQ== zero\n") == "x.tiktoken:1: the rank is not a number");
  CHECK(error_of("IQ== 0\nIQ== 1\n") == "x.tiktoken: the token of rank 1 appears twice");
  CHECK(error_of("IQ== 0\nIg== 0\n") == "x.tiktoken: rank 0 is given to two tokens");
}

TEST_CASE("text that is not UTF-8 is refused, naming the byte") {
  const Encoding &e = *Encoding::find("cl100k_base");
  try {
    e.count("caf\xc3 ok");
    FAIL("no error for a truncated UTF-8 sequence");
  } catch (const std::invalid_argument &err) {
    CHECK(std::string(err.what()).find("not valid UTF-8 at byte 3") != std::string::npos);
  }
  // ASCII, then a byte that continues a character no lead byte began.
  for (std::string_view name : Encoding::names()) {
    CAPTURE(name);
    CHECK_THROWS_WITH_AS(Encoding::find(name)->count("12345678;w\xbc\xa9 3.14"),
                         "the text is not valid UTF-8 at byte 10: UTF-8 error: isolated byte with 0x80 bit set",
                         std::invalid_argument);
  }
  CHECK(e.count("café ok") == e.encode("café ok").size());  // valid text after a refusal still counts
}

TEST_CASE("a long run of one character is encoded without stalling (merges are not quadratic)") {
  // 400,000 letters are one pre-tokenized piece: merging pair by pair with a rescan after each
  // merge would take minutes; the test's timeout would fail it.
  for (std::string_view name : Encoding::names()) {
    CAPTURE(name);
    const Encoding &e = *Encoding::find(name);
    const std::string run(400'000, 'a');
    const size_t n = e.count(run);
    CHECK(n >= 400'000 / 128);  // no token of either encoding is longer than 128 bytes
    CHECK(n <= 400'000 / 2);    // pairs at least: "aa" is a token of both
  }
}

TEST_CASE("llmhost tokens prints the count, or the ids as JSON, for a model or an encoding") {
  const std::string cli = test::cli().string();
  auto r = test::run({cli, "tokens", "gpt-4o", "hello world"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "2\n");

  r = test::run({cli, "tokens", "gpt-4", "hello world", "--json"});
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(r.out).get(doc));
  CHECK(std::string_view(doc["model"]) == "gpt-4");
  CHECK(std::string_view(doc["encoding"]) == "cl100k_base");
  CHECK(int64_t(doc["tokens"]) == 2);
  CHECK(simdjson::minify(doc["ids"]) == "[15339,1917]");

  r = test::run({"/bin/sh", "-c", "printf 'hello world' | \"$0\" tokens some-model - --encoding o200k_base", cli});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "2\n");

  r = test::run({cli, "tokens", "gpt-4o", "x", "--encoding", "p50k_base"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "llmhost: unknown encoding \"p50k_base\"; known: o200k_base, cl100k_base\n");

  r = test::run({"/bin/sh", "-c", "printf 'ok \\377' | \"$0\" tokens gpt-4o -", cli});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("llmhost: standard input: the text is not valid UTF-8 at byte 3") == 0);
}
