// The JSON writer, the request body a plugin sees, and the OpenAI objects the front ends write.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>

#include "dispatch/request_body.hpp"
#include "json/writer.hpp"
#include "openai/response.hpp"
#include "support.hpp"

namespace {
simdjson::dom::element parse(simdjson::dom::parser &p, const std::string &s) {
  simdjson::dom::element e;
  REQUIRE_MESSAGE(!p.parse(s).get(e), "not valid JSON: " << s);
  return e;
}
}  // namespace

TEST_CASE("strings are escaped as JSON requires and read back identically") {
  const std::string nasty = std::string("quote\" back\\ nl\n tab\t ctl\x01 nul") + '\0' + " utf8 \xc3\xa9";
  std::string out;
  llmh::append_json_string(out, nasty);
  simdjson::dom::parser p;
  std::string_view back;
  REQUIRE(!parse(p, out).get(back));
  CHECK(back == nasty);
}

TEST_CASE("keys: a key spelled in the code is copied as is, a runtime key is escaped") {
  std::string out;
  llmhost::json::Writer w(out);
  const std::string runtime = "a\"b";
  const char *pointer = "c\\d";
  w.begin_object()
      .member("id", 1)
      .member(runtime, 2)
      .member(pointer, 3)
      .key("list")
      .begin_array()
      .end_array()
      .end_object();
  CHECK(out == R"({"id":1,"a\"b":2,"c\\d":3,"list":[]})");
}

TEST_CASE("numbers: floats round-trip, non-finite becomes null") {
  std::string out;
  llmhost::json::Writer w(out);
  w.begin_array().value(0.1f).value(1e300).value(std::nan("")).value(int64_t{-42}).end_array();
  CHECK(out == "[0.1,1e+300,null,-42]");
}

TEST_CASE("the body a plugin sees: built from the request, extra keys merged and winning") {
  llmhost::Request r = test::chat("echo/m", "hi");
  r.params.temperature = 0.5;
  r.extra_json = R"({"temperature":0.9,"tools":[{"type":"function"}],"mock_response":"x"})";
  const std::string body = llmhost::detail::request_body(r);
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  CHECK(double(doc["temperature"]) == 0.9);
  CHECK(std::string_view(doc["messages"].at(0)["content"]) == "hi");
  CHECK(std::string_view(doc["mock_response"]) == "x");
  CHECK(doc["tools"].get_array().size() == 1);
  CHECK(body.find("temperature") == body.rfind("temperature"));  // once, not twice

  llmhost::Request given = r;
  given.body_json = R"({"model":"echo/m","vendor_extra":{"a":1},"temperature":0.1})";
  given.extra_json = R"({"temperature":0.2})";
  auto doc2 = parse(p, llmhost::detail::request_body(given));
  CHECK(int64_t(doc2["vendor_extra"]["a"]) == 1);
  CHECK(double(doc2["temperature"]) == 0.2);

  // No key in common: the caller's text is kept byte for byte and the extras appended.
  given.body_json = "{ \"model\" : \"echo/m\",\n \"n\":1.50 }\n";
  given.extra_json = R"({"mock_response":"x","k":[1, 2]})";
  CHECK(llmhost::detail::request_body(given) ==
        "{ \"model\" : \"echo/m\",\n \"n\":1.50 ,\"mock_response\":\"x\",\"k\":[1,2]}");
  given.body_json = " {} ";
  CHECK(llmhost::detail::request_body(given) == R"( {"mock_response":"x","k":[1,2]})");

  given.extra_json = "[1]";
  CHECK_THROWS_AS(llmhost::detail::request_body(given), llmhost::Error);
  given.extra_json = R"({"a":1})";
  for (const char *bad : {"[1]", "{\"a\":", "{} {}", "nope"}) {
    given.body_json = bad;
    CHECK_THROWS_WITH_AS(llmhost::detail::request_body(given),
                         doctest::Contains("request body is not a valid JSON object"), llmhost::Error);
  }
}

TEST_CASE("chat.completion and chat.completion.chunk objects have the OpenAI shape") {
  llmhost::Response r;
  r.id = "chatcmpl-1";
  r.created = 7;
  r.model = "echo/m";
  r.content = "hi";
  r.usage = {1, 2, 3};
  std::string out;
  llmhost::openai::write_completion(out, r);
  simdjson::dom::parser p;
  auto doc = parse(p, out);
  CHECK(std::string_view(doc["object"]) == "chat.completion");
  CHECK(std::string_view(doc["choices"].at(0)["message"]["content"]) == "hi");
  CHECK(std::string_view(doc["choices"].at(0)["message"]["role"]) == "assistant");
  CHECK(std::string_view(doc["choices"].at(0)["finish_reason"]) == "stop");
  CHECK(int64_t(doc["usage"]["total_tokens"]) == 3);

  llmhost::openai::StreamMeta meta{"chatcmpl-2", 8, "echo/m"};
  llmhost::Chunk c;
  c.content = "a";
  std::string chunk;
  llmhost::openai::write_chunk(chunk, meta, c, true);
  auto cd = parse(p, chunk);
  CHECK(std::string_view(cd["object"]) == "chat.completion.chunk");
  CHECK(std::string_view(cd["choices"].at(0)["delta"]["role"]) == "assistant");
  CHECK(cd["choices"].at(0)["finish_reason"].is_null());

  llmhost::Chunk usage_only;
  usage_only.usage = llmhost::Usage{1, 2, 3};
  chunk.clear();
  llmhost::openai::write_chunk(chunk, meta, usage_only, false);
  auto ud = parse(p, chunk);
  CHECK(ud["choices"].get_array().size() == 0);
  CHECK(int64_t(ud["usage"]["completion_tokens"]) == 2);
}
