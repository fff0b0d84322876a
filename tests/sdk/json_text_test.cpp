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

// What openai_upstream_members is specified to pick, one level at a time with the public walks:
// the reference its single walk is checked against.
llmh::UpstreamTexts picked_level_by_level(std::string &buffer, std::string_view answer, bool chunk) {
  using llmh::JsonMembers;
  auto object_or_empty = [](std::string_view v) { return !v.empty() && v.front() == '{' ? v : std::string_view(); };
  buffer.clear();
  std::string_view choices, message;
  const size_t brace = answer.find('{');
  const std::string_view top =
      object_or_empty(brace == std::string_view::npos ? std::string_view() : answer.substr(brace));
  JsonMembers::append_unknown(buffer, top, {"id", "object", "created", "model", "choices", "usage"}, "choices",
                              &choices);
  const size_t end_top = buffer.size();
  const std::string_view choice = object_or_empty(
      choices.empty() || choices.front() != '[' ? std::string_view() : JsonMembers::first_element(choices));
  JsonMembers::append_unknown(buffer, choice, {"index", "message", "delta", "finish_reason"},
                              chunk ? "delta" : "message", &message);
  const size_t end_choice = buffer.size();
  JsonMembers::append_unknown(buffer, object_or_empty(message), {"role", "content", "reasoning_content", "tool_calls"});
  const std::string_view all(buffer);
  return {all.substr(0, end_top), all.substr(end_top, end_choice - end_top), all.substr(end_choice)};
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

TEST_CASE("openai_upstream_members walks once and picks what the level-by-level walks pick, odd shapes too") {
  const std::vector<std::string> answers = {
      R"({"id":"c1","system_fingerprint":"fp","choices":[{"index":0,"message":{"role":"assistant","content":"a]},\"{","refusal":null,"annotations":[{"x":"}"}]},"logprobs":{"content":[]},"finish_reason":"stop","extra":1},{"index":1,"message":{"r":2}}],"usage":{"prompt_tokens":1},"tail":[1,{"a":"b"}]})",
      R"( { "choices" : [ { "delta" : { "content" : "x" , "x_delta" : [ 1 ] } , "d2" : true } ] , "z" : null } )",
      R"({"choices":[],"a":1})",
      R"({"choices":[1,{"index":0}],"a":1})",
      R"({"choices":{"index":0},"a":1})",
      R"({"choices":[{"message":"text","message":{"m":1},"c":2}],"choices":[{"k":1}],"t":0})",
      R"({"choices":[{"message":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10},"p1":1,"p2":2,"p3":3,"p4":4,"p5":5,"p6":6,"p7":7,"p8":8,"p9":9}]})",
      R"({"choices":[{"message":{}}]})",
      "",
      "[]",
      "not json",
      R"({"a":1,"choices":[{"message":{"x":1)",  // cut short: no read past the end, whatever it picks
      R"({"choices":[{"message":{"x":"\"}"}}], "b":"\\"})",
  };
  std::string one, reference;
  for (const std::string &answer : answers)
    for (const bool chunk : {false, true}) {
      CAPTURE(answer);
      CAPTURE(chunk);
      const llmh::UpstreamTexts got = llmh::openai_upstream_members(one, answer, chunk);
      const llmh::UpstreamTexts want = picked_level_by_level(reference, answer, chunk);
      CHECK(got.top == want.top);
      CHECK(got.choice == want.choice);
      CHECK(got.message == want.message);
    }
  // Cut short, the texts are unspecified, but nothing is read past the end (ASan watches).
  for (const std::string_view cut :
       {R"({"a":1,"choices":[{"message":{"x":1)", R"({"choices":[{"message")", R"({"choices":[)"})
    llmh::openai_upstream_members(one, cut, false);
}
