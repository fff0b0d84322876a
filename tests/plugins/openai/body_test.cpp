// The openai plugin's request rewrite (plugins/openai/body.cpp), from a body it parses and from
// the members a host lists (ABI 1.3), without a host or an upstream: exact bytes in and out.
#include <doctest/doctest.h>
#include <simdjson.h>
#include <llmhost/provider.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "body.hpp"

using openai_plugin::BodyKind;
using openai_plugin::rewrite_body;

namespace {

// A request as a 1.3 host hands it over: the body and its members, listed by walking it.
struct ListedBody {
  explicit ListedBody(std::string_view json, std::string_view model) {
    llmh::JsonMembers walk(json);
    std::string_view key, value;
    while (walk.next(key, value)) members.push_back({llmh::str(key), llmh::str(value)});
    params.struct_size = sizeof params;
    req.struct_size = sizeof req;
    req.model = llmh::str(model);
    req.params = &params;
    req.body_json = llmh::str(json);
    // Not NULL for an empty body: NULL means "not listed".
    req.body_members = members.empty() ? &none : members.data();
    req.body_member_count = members.size();
  }
  std::vector<llmh_json_member> members;
  llmh_json_member none{};
  llmh_params params{};
  llmh_request req{};
};

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

TEST_CASE("rewrite_body copies every kept member as written and drops the gateway's keys") {
  simdjson::dom::parser parser;
  const std::string body =
      R"({ "model" : "openai/x", "messages":[{"role":"user","content":"a \"quoted\" },{ text"}],)"
      R"("temperature": 0.50, "big":12345678901234567, "tools" : [ {"type":"function"} ],)"
      R"("api_key":"sk-secret","api_base":"http://h","base_url":"u","timeout":3,"num_retries":1,)"
      R"("extra_headers":{"x":"y"},"mod\u0065l":"escaped key","caf\u00e9":"\ud83d\ude00","stream":false})";
  const std::string kept = R"("messages":[{"role":"user","content":"a \"quoted\" },{ text"}],"temperature":0.50,)"
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

TEST_CASE("rewrite_body from the members a host lists equals the rewrite from a parse") {
  simdjson::dom::parser parser;
  const std::string bodies[] = {
      R"({"model":"x","messages":[{"role":"user","content":"hi"}],"stream":true,"api_key":"k","tools":[{"a":1}]})",
      " {\n \"temperature\" : 0.5 , \"stream_options\":{\"include_usage\":true}}\n",
      "{}",
      R"({"encoding_format":"base64","input":["a","b"],"extra_headers":{"h":"v"}})",
  };
  for (const std::string &body : bodies)
    for (BodyKind kind : {BodyKind::kChat, BodyKind::kChatStream, BodyKind::kEmbeddings}) {
      const ListedBody listed(body, "gpt-4o");
      REQUIRE(llmh::Request(&listed.req).has_body_members());
      CHECK(rewrite_body(parser, llmh::Request(&listed.req), kind) == rewrite_body(parser, body, "gpt-4o", kind));
    }
}

TEST_CASE("a listed key written with escapes is rewritten through a parse, so gateway keys still go") {
  simdjson::dom::parser parser;
  const std::string body = R"({"api\u005fkey":"secret","mod\u0065l":"x","n":1})";
  const ListedBody listed(body, "m");
  CHECK(rewrite_body(parser, llmh::Request(&listed.req), BodyKind::kChat) == R"({"model":"m","n":1})");
}
