// The openai plugin's request rewrite (plugins/openai/body.cpp) and the raw member walk it copies
// members with (raw_members.cpp), without a host or an upstream: exact bytes in, exact bytes out.
#include <doctest/doctest.h>
#include <llmhost/provider.hpp>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "body.hpp"
#include "raw_members.hpp"

using openai_plugin::BodyKind;
using openai_plugin::RawMembers;
using openai_plugin::rewrite_body;

namespace {

std::vector<std::pair<std::string, std::string>> members_of(std::string_view json) {
  std::vector<std::pair<std::string, std::string>> out;
  RawMembers raw(json);
  std::string_view key, value;
  while (raw.next(key, value)) out.emplace_back(key, value);
  return out;
}

// The llmh::Error rewrite_body throws for `body`.
llmh::Error rewrite_error(simdjson::dom::parser &parser, std::string_view body) {
  try {
    rewrite_body(parser, body, "m", BodyKind::kChat);
  } catch (const llmh::Error &e) {
    return e;
  }
  FAIL("no llmh::Error thrown for " << body);
  return llmh::Error(0, "");
}

}  // namespace

TEST_CASE("raw members: keys and values as written, around strings, nesting and whitespace") {
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

TEST_CASE("rewrite_body copies every kept member as written and drops the gateway's keys") {
  simdjson::dom::parser parser;
  const std::string body =
      R"({ "model" : "openai/x", "messages":[{"role":"user","content":"a \"quoted\" },{ text"}],)"
      R"("temperature": 0.50, "big":12345678901234567, "tools" : [ {"type":"function"} ],)"
      R"("api_key":"sk-secret","api_base":"http://h","base_url":"u","timeout":3,"num_retries":1,)"
      R"("extra_headers":{"x":"y"},"mod\u0065l":"escaped key","caf\u00e9":"\ud83d\ude00","stream":false})";
  const std::string kept =
      R"("messages":[{"role":"user","content":"a \"quoted\" },{ text"}],"temperature":0.50,)"
      R"("big":12345678901234567,"tools":[ {"type":"function"} ],"caf\u00e9":"\ud83d\ude00")";
  CHECK(rewrite_body(parser, body, "gpt-4o", BodyKind::kChat) == R"({"model":"gpt-4o",)" + kept + "}");
  CHECK(rewrite_body(parser, body, "gpt-4o", BodyKind::kChatStream) ==
        R"({"model":"gpt-4o","stream":true,)" + kept + "}");
}

TEST_CASE("rewrite_body per kind: stream options, encoding format, empty bodies, odd model names") {
  simdjson::dom::parser parser;
  const std::string body = R"({"stream_options":{"include_usage":true},"encoding_format":"base64","n":2})";
  CHECK(rewrite_body(parser, body, "m", BodyKind::kChat) == R"({"model":"m","encoding_format":"base64","n":2})");
  CHECK(rewrite_body(parser, body, "m", BodyKind::kChatStream) ==
        R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"encoding_format":"base64","n":2})");
  CHECK(rewrite_body(parser, body, "m", BodyKind::kEmbeddings) ==
        R"({"model":"m","encoding_format":"float","stream_options":{"include_usage":true},"n":2})");
  CHECK(rewrite_body(parser, "", "m", BodyKind::kChat) == R"({"model":"m"})");
  CHECK(rewrite_body(parser, " { } ", "m", BodyKind::kChat) == R"({"model":"m"})");
  CHECK(rewrite_body(parser, "{}", "a\"b\n", BodyKind::kChat) == R"({"model":"a\"b\n"})");
  // Quoted by the SDK's rule (llmh::append_json_string), the same as the host's JSON.
  CHECK(rewrite_body(parser, "{}", "c\b\f\x01", BodyKind::kChat) == R"({"model":"c\b\f\u0001"})");
}

TEST_CASE("rewrite_body refuses what is not a valid JSON object, and its parser still works after") {
  simdjson::dom::parser parser;
  const std::string big = R"({"messages":[{"role":"user","content":")" + std::string(100000, 'x') + R"("}]})";
  CHECK(rewrite_body(parser, big, "m", BodyKind::kChat).size() == big.size() + 12);  // + "model":"m",
  for (std::string_view bad : {R"([1,2])", R"("text")", R"({"a":[1,}")", R"({"a":tru})", R"({"a":1} x)",
                               R"({"a":"\q"})", R"({"a":1e999})", "{\"a\":\"\xff\"}", R"({"a":1)"}) {
    const llmh::Error e = rewrite_error(parser, bad);
    CHECK(e.status() == 400);
    CHECK(std::string_view(e.what()) == "openai: the request body is not a JSON object");
  }
  CHECK(rewrite_body(parser, R"({"a":[1,{"b":2}]})", "m", BodyKind::kChat) == R"({"model":"m","a":[1,{"b":2}]})");
}
