// The openai provider through the real Host, the real plugin and the real HTTP service, against
// a scripted HTTP server on loopback: one-shot completions, tool calls, embeddings, errors, CLI.
#include "http_support.hpp"
#include "openai/response.hpp"

using namespace test::http;

TEST_CASE("completion: the body is forwarded with only model rewritten, and the answer is parsed") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, completion_json("Hello there")); });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "Hi", "openai/gpt-test",
                               R"({"tools":[{"type":"function","function":{"name":"f"}}],"vendor_x":{"k":[1,2]},)"
                               R"("stream":true,"stream_options":{"include_usage":true},"seed":7})");
  r.params.temperature = 0.25;
  const llmhost::Response resp = host.complete(r);

  CHECK(resp.content == "Hello there");
  CHECK(resp.finish_reason == "stop");
  CHECK(resp.model == "gpt-test-0613");
  CHECK(resp.provider == "openai");
  CHECK(resp.usage.prompt_tokens == 9);
  CHECK(resp.usage.completion_tokens == 3);
  CHECK(resp.usage.total_tokens == 12);
  simdjson::dom::parser raw;
  CHECK(raw.parse(resp.raw_json)["system_fingerprint"].get_string().value() == "fp_x");
  llmhost::Response out = resp;
  out.id = "chatcmpl-2";
  std::string wire;  // what serve and the CLI's --json send: the upstream's extra members kept
  llmhost::openai::write_completion(wire, out);
  CHECK(wire.find(R"("finish_reason":"stop","logprobs":null})") != std::string::npos);
  CHECK(wire.find(R"("system_fingerprint":"fp_x")") != std::string::npos);

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/v1/chat/completions");
  CHECK(seen[0].header("authorization") == "Bearer sk-test-secret-123");
  CHECK(seen[0].header("content-type") == "application/json");
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(seen[0].body);
  CHECK(std::string_view(body["model"]) == "gpt-test");  // the "openai/" prefix is stripped
  CHECK(body["vendor_x"]["k"].at(1).get_int64().value() == 2);
  CHECK(std::string_view(body["tools"].at(0)["function"]["name"]) == "f");
  CHECK(body["seed"].get_int64().value() == 7);
  CHECK(body["temperature"].get_double().value() == doctest::Approx(0.25));
  CHECK(body["messages"].at(0)["content"].get_string().value() == "Hi");
  CHECK(body["stream"].error() == simdjson::NO_SUCH_FIELD);          // a one-shot call never streams
  CHECK(body["stream_options"].error() == simdjson::NO_SUCH_FIELD);  // upstreams refuse it then
}

TEST_CASE("completion: tool calls, reasoning and finish_reason tool_calls") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(
        200,
        R"({"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,)"
        R"("reasoning_content":"thinking","tool_calls":[)"
        R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},)"
        R"({"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},)"
        R"("finish_reason":"tool_calls"}]})");
  });
  llmhost::Host host(host_options());
  const auto resp = host.complete(chat_to(server, "weather?"));
  CHECK(resp.content.empty());
  CHECK(resp.reasoning == "thinking");
  CHECK(resp.finish_reason == "tool_calls");
  REQUIRE(resp.tool_calls.size() == 2);
  CHECK(resp.tool_calls[0].id == "call_1");
  CHECK(resp.tool_calls[0].name == "get_weather");
  CHECK(resp.tool_calls[0].arguments == R"({"city":"Paris"})");
  CHECK(resp.tool_calls[1].name == "get_time");
}

TEST_CASE("embeddings: vectors by index, usage and the forced float encoding") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"object":"list","model":"emb-1","data":[)"
                   R"({"object":"embedding","index":1,"embedding":[0.5,-1.25]},)"
                   R"({"object":"embedding","index":0,"embedding":[1,2.5]}],)"
                   R"("usage":{"prompt_tokens":4,"total_tokens":4}})");
  });
  llmhost::Host host(host_options());
  llmhost::Request r;
  r.model = "openai/text-embedding-3-small";
  r.input = {"alpha", "beta"};
  r.api_base = server.base_url();
  r.extra_json = R"({"dimensions":2,"encoding_format":"base64"})";
  const auto e = host.embed(r);
  REQUIRE(e.data.size() == 2);
  CHECK(e.data[0] == std::vector<float>{1.0f, 2.5f});
  CHECK(e.data[1] == std::vector<float>{0.5f, -1.25f});
  CHECK(e.usage.prompt_tokens == 4);
  CHECK(e.model == "emb-1");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1/embeddings");
  CHECK(seen[0].header("authorization").empty());  // no key anywhere: no Authorization header
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(seen[0].body);
  CHECK(std::string_view(body["model"]) == "text-embedding-3-small");
  CHECK(std::string_view(body["encoding_format"]) == "float");
  CHECK(body["dimensions"].get_int64().value() == 2);
  CHECK(std::string_view(body["input"].at(1)) == "beta");
}

TEST_CASE("an upstream 500 with an OpenAI error body surfaces its status and message") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(
        500, R"({"error":{"message":"The server had an error while processing your request.","type":"server_error"}})");
  });
  llmhost::Host host(host_options());
  llmhost::Request r = chat_to(server, "hi");
  r.num_retries = 1;
  const auto e = error_of([&] { host.complete(r); });
  CHECK(e.status() == 500);
  CHECK(std::string(e.what()).find("The server had an error while processing your request.") != std::string::npos);
  CHECK(server.request_count() == 2);  // one retry, as allowed

  MockServer auth([](const HttpRequest &, Conn &c) {
    c.respond(401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})");
  });
  const auto e401 = error_of([&] { host.complete(chat_to(auth, "hi")); });
  CHECK(e401.status() == 401);
  CHECK(std::string(e401.what()).find("Incorrect API key provided") != std::string::npos);
  CHECK(std::string(e401.what()).find("sk-test-secret") == std::string::npos);
  CHECK(auth.request_count() == 1);  // 401 is not transient: never retried
}

TEST_CASE("a body that is not the expected JSON is a 502 naming what is wrong") {
  std::atomic<int> which{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (which == 0)
      c.respond(200, "{\"choices\": [ oops");
    else if (which == 1)
      c.respond(200, R"({"id":"x","object":"chat.completion"})");
    else
      c.respond(200, R"({"choices":[{"index":0}]})");
  });
  llmhost::Host host(host_options());
  auto e = error_of([&] { host.complete(chat_to(server, "hi")); });
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()).find("not a JSON object") != std::string::npos);
  CHECK(std::string(e.what()).find(server.base_url()) != std::string::npos);
  which = 1;
  e = error_of([&] { host.complete(chat_to(server, "hi")); });
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()).find("no \"choices\" array") != std::string::npos);
  which = 2;
  e = error_of([&] { host.complete(chat_to(server, "hi")); });
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()).find("no \"message\" object") != std::string::npos);
}

TEST_CASE("the HTTP service logs method, host and status, never the key or the Authorization header") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, completion_json("ok")); });
  LogSink sink;
  llmhost::Host host(host_options(&sink));
  llmhost::Request r = chat_to(server, "hi");
  r.api_base = "http://user:pw-secret@127.0.0.1:" + std::to_string(server.port()) + "/v1?key=q-secret";
  // curl sends the userinfo as Basic auth and the query to the server; only logs must hide them.
  host.complete(r);
  const std::string log = sink.all();
  CHECK(log.find("POST http://127.0.0.1:" + std::to_string(server.port()) + "/v1") != std::string::npos);
  CHECK(log.find("-> 200") != std::string::npos);
  CHECK(log.find("sk-test-secret") == std::string::npos);
  CHECK(log.find("pw-secret") == std::string::npos);
  CHECK(log.find("q-secret") == std::string::npos);
  CHECK(log.find("Authorization") == std::string::npos);
  CHECK(log.find("Bearer") == std::string::npos);
}

TEST_CASE("the CLI completes against an OpenAI-compatible server given by OPENAI_BASE_URL") {
  MockServer server(
      [](const HttpRequest &req, Conn &c) { c.respond(200, completion_json("echo: " + last_user_content(req.body))); });
  const auto res = test::run({test::cli().string(), "complete", "openai/some-model", "hi"},
                             {"OPENAI_BASE_URL=" + server.base_url(), "OPENAI_API_KEY=sk-cli-key"});
  INFO("stderr: " << res.err);
  CHECK(res.exit_code == 0);
  CHECK(res.out.find("echo: hi") != std::string::npos);
  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("authorization") == "Bearer sk-cli-key");
  CHECK(res.err.find("sk-cli-key") == std::string::npos);
}
