// Unit tests of the proxy's pure parts: the request codec, the JSON error locator, the SSE
// framer and the error JSON.
#include <doctest/doctest.h>

#include "json/locate.hpp"
#include "openai/error.hpp"
#include "openai/request.hpp"
#include "openai/response.hpp"
#include "openai/sse_framer.hpp"

using namespace llmhost;

TEST_CASE("chat request: fields, params, content parts, tool calls, body kept") {
  const std::string body = R"({"model":"p/m","messages":[{"role":"system","content":"be brief"},
    {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"42","name":"f"}],
    "temperature":0.2,"top_p":1,"max_completion_tokens":9,"n":1,"seed":7,"stop":"END","user":"u",
    "stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function"}]})";
  auto parsed = openai::parse_chat_request(body);
  REQUIRE(std::holds_alternative<openai::ChatRequest>(parsed));
  const auto &c = std::get<openai::ChatRequest>(parsed);
  CHECK(c.stream);
  CHECK(c.include_usage);
  const Request &r = c.request;
  CHECK(r.model == "p/m");
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[1].content == "ab");
  CHECK(r.messages[2].tool_calls.size() == 1);
  CHECK(r.messages[2].tool_calls[0].name == "f");
  CHECK(r.messages[3].tool_call_id == "c1");
  CHECK(r.params.temperature == 0.2);
  CHECK(r.params.max_tokens == 9);
  CHECK(r.params.seed == 7);
  CHECK(r.params.stop == std::vector<std::string>{"END"});
  CHECK(r.params.user == "u");
  CHECK(r.body_json == body);
}

TEST_CASE("chat request errors name the field") {
  auto param_of = [](const std::string &body) {
    auto p = openai::parse_chat_request(body);
    REQUIRE(std::holds_alternative<openai::RequestError>(p));
    return std::get<openai::RequestError>(p).param;
  };
  CHECK(param_of(R"({"model":"a/b","messages":[{"role":"user","content":[{"type":"text"}]}]})") ==
        "messages[0].content[0].text");
  CHECK(param_of(R"({"model":"a/b","messages":[{"role":"user"}],"stop":[1]})") == "stop[0]");
  CHECK(param_of(R"({"model":"a/b","messages":[{"role":"user"}],"stream_options":{"include_usage":1}})") ==
        "stream_options.include_usage");
  CHECK(param_of(R"({"model":"a/b","messages":[{"role":"assistant","tool_calls":[{"function":{"name":3}}]}]})") ==
        "messages[0].tool_calls[0].function.name");
  CHECK(param_of(R"({"model":"","messages":[]})") == "model");
}

TEST_CASE("embeddings request") {
  auto one = openai::parse_embeddings_request(R"({"model":"a/b","input":"x","encoding_format":"base64"})");
  REQUIRE(std::holds_alternative<openai::EmbeddingsRequest>(one));
  CHECK(std::get<openai::EmbeddingsRequest>(one).base64);
  CHECK(std::get<openai::EmbeddingsRequest>(one).request.input == std::vector<std::string>{"x"});
  auto bad = openai::parse_embeddings_request(R"({"model":"a/b","input":[],"encoding_format":"float"})");
  REQUIRE(std::holds_alternative<openai::RequestError>(bad));
  auto fmt = openai::parse_embeddings_request(R"({"model":"a/b","input":"x","encoding_format":"hex"})");
  REQUIRE(std::holds_alternative<openai::RequestError>(fmt));
  CHECK(std::get<openai::RequestError>(fmt).param == "encoding_format");
}

TEST_CASE("embeddings list: floats or base64 of little-endian float32, one usage shape for both") {
  EmbeddingResponse r;
  r.model = "m";
  r.data = {{1.0f, -2.0f}, {0.5f}, {}};
  r.usage = Usage{3, 0, 3};
  const std::string tail = R"(],"model":"m","usage":{"prompt_tokens":3,"total_tokens":3}})";
  std::string floats;
  openai::write_embeddings(floats, r);
  CHECK(floats == R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,-2]},)"
                  R"({"object":"embedding","index":1,"embedding":[0.5]},)"
                  R"({"object":"embedding","index":2,"embedding":[]})" +
                      tail);
  std::string base64;
  openai::write_embeddings(base64, r, openai::EmbeddingEncoding::kBase64);
  CHECK(base64 == R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAMA="},)"
                  R"({"object":"embedding","index":1,"embedding":"AAAAPw=="},)"
                  R"({"object":"embedding","index":2,"embedding":""})" +
                      tail);
  std::string usage;
  openai::write_usage(usage, Usage{1, 2, 3});
  CHECK(usage == R"({"prompt_tokens":1,"completion_tokens":2,"total_tokens":3})");
}

TEST_CASE("the JSON error locator finds line, column and cause") {
  CHECK_FALSE(json::find_syntax_error(R"({"a":[1,2.5e3,-0,"\u00e9\n",true,null,{}]})"));
  auto e = json::find_syntax_error("{\n  \"a\": 1,\n  \"b\" 2\n}");
  REQUIRE(e);
  CHECK(e->line == 3);
  CHECK(e->column == 7);
  CHECK(e->what == "expected ':' after an object key");
  CHECK(json::find_syntax_error("[1,]")->what.find("expected a value") == 0);
  CHECK(json::find_syntax_error("01")->offset == 1);
  CHECK(json::find_syntax_error("\"\xff\"")->what == "invalid UTF-8 in a string");
  CHECK(json::find_syntax_error("\"a\tb\"")->what.find("control character") == 0);
  CHECK(json::find_syntax_error(std::string(5000, '['))->what == "nesting too deep");
  CHECK(json::find_syntax_error("{} x")->what == "unexpected data after the JSON value");
  CHECK(json::find_syntax_error("")->what.find("unexpected end") == 0);
}

TEST_CASE("malformed JSON bodies report line and column; every prefix of a body is handled") {
  const std::string body = R"({"model":"a/b","messages":[{"role":"user","content":"hi"}]})";
  for (size_t n = 0; n < body.size(); ++n) {
    auto p = openai::parse_chat_request(body.substr(0, n));
    REQUIRE(std::holds_alternative<openai::RequestError>(p));
    if (n > 0) CHECK(std::get<openai::RequestError>(p).message.find("line 1, column ") != std::string::npos);
  }
}

TEST_CASE("SSE framer: role first, usage last and only when asked, finish made up when missing") {
  openai::SseFramer f({"id1", 5, "m"}, true);
  std::string out;
  Chunk usage_only;
  usage_only.usage = Usage{1, 2, 3};
  f.chunk(out, usage_only);
  CHECK(out.empty());
  Chunk text;
  text.content = "hi";
  f.chunk(out, text);
  f.finish(out);
  const std::string head = R"(data: {"id":"id1","object":"chat.completion.chunk","created":5,"model":"m","choices":[)";
  CHECK(out == head +
                   R"({"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]})"
                   "\n\n" +
                   head +
                   R"({"index":0,"delta":{},"finish_reason":"stop"}]})"
                   "\n\n" +
                   head +
                   R"(],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})"
                   "\n\n"
                   "data: [DONE]\n\n");
  std::string err;
  f.error(err, 502, "upstream broke");
  // The SSE framing is the contract here, so the text is checked whole; the error object as
  // OpenAI's clients read it, not as error_json happens to write it.
  CHECK(err ==
        "data: "
        R"({"error":{"message":"upstream broke","type":"api_error","param":null,"code":null}})"
        "\n\ndata: [DONE]\n\n");
}

TEST_CASE("raw_json: upstream members we do not model pass through; ours are never duplicated") {
  Chunk c;
  c.content = "hi";
  c.raw_json = R"({"id":"up-1","object":"chat.completion.chunk","created":9,"model":"up","system_fingerprint":"fp_1",)"
               R"("choices":[{"index":0,"delta":{"role":"assistant","content":"hi","refusal":null},)"
               R"("logprobs":{"content":[]},"finish_reason":null}],"usage":null})";
  std::string out;
  openai::write_chunk(out, {"id1", 5, "m"}, c, false);
  CHECK(out == R"({"id":"id1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,)"
               R"("delta":{"content":"hi","refusal":null},"finish_reason":null,"logprobs":{"content":[]}}],)"
               R"("system_fingerprint":"fp_1"})");

  Response r;
  r.id = "id2";
  r.content = "whole";
  r.raw_json =
      R"({"id":"x","service_tier":"default","choices":[{"index":0,"message":{"content":"whole","annotations":[]},)"
      R"("logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"prompt_tokens_details":{}}})";
  out.clear();
  openai::write_completion(out, r);
  CHECK(out.find(R"("content":"whole","annotations":[]})") != std::string::npos);
  CHECK(out.find(R"("finish_reason":"stop","logprobs":null})") != std::string::npos);
  CHECK(out.find(R"(,"service_tier":"default"})") != std::string::npos);
  CHECK(out.find("\"x\"") == std::string::npos);

  // Not JSON, not an object, no choices: only what the host models.
  for (const char *raw : {"not json", "[1,2]", R"({"choices":7,"extra":1})"}) {
    c.raw_json = raw;
    out.clear();
    openai::write_chunk(out, {"id1", 5, "m"}, c, false);
    CHECK(out ==
          std::string(R"({"id":"id1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,)"
                      R"("delta":{"content":"hi"},"finish_reason":null}])") +
              (raw[2] == 'c' ? R"(,"extra":1})" : "}"));
  }
}

TEST_CASE("error JSON: OpenAI's shape, types and codes by status") {
  CHECK(
      openai::error_json(404, "no such model", "model") ==
      R"({"error":{"message":"no such model","type":"invalid_request_error","param":"model","code":"model_not_found"}})");
  CHECK(openai::error_json(401, "bad key") ==
        R"({"error":{"message":"bad key","type":"authentication_error","param":null,"code":"invalid_api_key"}})");
  CHECK(openai::error_type(429) == "rate_limit_error");
  CHECK(openai::error_type(502) == "api_error");
}

TEST_CASE("upstream members: the plugin's pass through as given; raw_json is searched only when it gave none") {
  Response r;
  r.id = "c1";
  r.model = "m";
  r.raw_json = R"({"id":"u","system_fingerprint":"from_raw","choices":[{"index":0,"message":{"content":"x"}}]})";
  std::string legacy;
  openai::write_completion(legacy, r);  // a plugin older than ABI 1.3: picked out of raw_json
  CHECK(legacy.find(R"(,"system_fingerprint":"from_raw"})") != std::string::npos);
  r.upstream_members.handed_over = true;  // a 1.3 plugin that says nothing passes through
  std::string none;
  openai::write_completion(none, r);
  CHECK(none.find("from_raw") == std::string::npos);
  r.upstream_members.top = R"( { "service_tier" : "flex" } )";
  r.upstream_members.message = R"({"refusal":null})";
  std::string given;
  openai::write_completion(given, r);
  CHECK(given.find(R"("content":"","refusal":null})") != std::string::npos);
  CHECK(given.find(R"(,"service_tier" : "flex"})") != std::string::npos);
  CHECK(given.find("from_raw") == std::string::npos);
}
