// The SDK's JSON text helpers (sdk/include/llmhost/json_text.hpp): members, elements and the
// members an OpenAI answer passes through, as written, without a parse.
#include <doctest/doctest.h>
#include <llmhost/json_text.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

std::vector<std::pair<std::string, std::string>> members_of(std::string_view json) {
  std::vector<std::pair<std::string, std::string>> out;
  llmh::JsonMembers raw(json);
  std::string_view key, value;
  while (raw.next(key, value)) out.emplace_back(key, value);
  return out;
}

}  // namespace

TEST_CASE("members: keys and values as written, around strings, nesting and whitespace") {
  using M = std::vector<std::pair<std::string, std::string>>;
  CHECK(members_of("{}").empty());
  CHECK(members_of(" \n{ \t}\r\n").empty());
  CHECK(members_of(R"({"a":1})") == M{{R"("a")", "1"}});
  CHECK(members_of(" {\n \"a\" :\t-1.5e3 ,\"b\" : true\n,\"c\":null }\n") ==
        M{{R"("a")", "-1.5e3"}, {R"("b")", "true"}, {R"("c")", "null"}});
  CHECK(members_of(R"({"s":"a,b}]\"\\","k\"ey":"x"})") == M{{R"("s")", R"("a,b}]\"\\")"}, {R"("k\"ey")", R"("x")"}});
  CHECK(members_of(R"({"o":{"x":[1, {"y":"]}"}, []], "z":{}},"a":[ ],"n":0})") ==
        M{{R"("o")", R"({"x":[1, {"y":"]}"}, []], "z":{}})"}, {R"("a")", "[ ]"}, {R"("n")", "0"}});
  CHECK(members_of(R"({"d":1,"d":2})") == M{{R"("d")", "1"}, {R"("d")", "2"}});  // duplicates kept
}

TEST_CASE("first element, find, and the members a listed set does not name") {
  using llmh::JsonMembers;
  CHECK(JsonMembers::first_element("[]").empty());
  CHECK(JsonMembers::first_element(" [ {\"a\":[1,2]} , 3]") == R"({"a":[1,2]})");
  CHECK(JsonMembers::first_element("[\"x,]\"]") == R"("x,]")");
  CHECK(JsonMembers::find(R"({"a":1,"b":{"c":2},"b":3})", "b") == R"({"c":2})");  // the first
  CHECK(JsonMembers::find(R"({"a":1})", "z").empty());
  std::string out;
  CHECK_FALSE(JsonMembers::append_unknown(out, R"({"id":1,"model":"m"})", {"id", "model"}));
  CHECK(out.empty());
  CHECK(JsonMembers::append_unknown(out, R"({"id":1,"x":[1, 2],"model":"m","y":null})", {"id", "model"}));
  CHECK(out == R"({"x":[1, 2],"y":null})");
}

TEST_CASE("an OpenAI answer's unmodelled members at the top, the first choice and its message") {
  std::string buffer = "left over";
  const std::string answer =
      R"({"id":"c1","object":"chat.completion","created":1,"model":"m","system_fingerprint":"fp",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"logprobs":null,)"
      R"("finish_reason":"stop"},{"index":1}],"usage":{"prompt_tokens":1},"service_tier":"default"})";
  const llmh::UpstreamTexts m = llmh::openai_upstream_members(buffer, answer, false);
  CHECK(m.top == R"({"system_fingerprint":"fp","service_tier":"default"})");
  CHECK(m.choice == R"({"logprobs":null})");
  CHECK(m.message == R"({"refusal":null})");
  const std::string chunk = R"({"id":"c","choices":[{"index":0,"delta":{"content":"x","x_delta":1}}]})";
  const llmh::UpstreamTexts c = llmh::openai_upstream_members(buffer, chunk, true);
  CHECK(c.top.empty());
  CHECK(c.choice.empty());
  CHECK(c.message == R"({"x_delta":1})");
  // Shapes that are not an OpenAI answer give nothing rather than text from the wrong place.
  const llmh::UpstreamTexts odd = llmh::openai_upstream_members(buffer, R"({"choices":"[{\"a\":1}]"})", false);
  CHECK(odd.top.empty());
  CHECK(odd.choice.empty());
  CHECK(odd.message.empty());
}
