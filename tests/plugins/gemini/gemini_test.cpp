// The gemini provider through the real Host, the real plugin file and the real HTTP service,
// against a scripted server in the Gemini API's shape (Google's API reference): what an OpenAI
// request becomes, what generateContent answers and streamed events become, embeddings, errors.
#include <future>
#include <mutex>

#include "http_support.hpp"

using namespace test::http;

namespace {

llmhost::Request to(const MockServer &server, const std::string &extra_json,
                    const std::string &model = "gemini-2.5-flash") {
  llmhost::Request r;
  r.model = "gemini/" + model;
  r.api_base = server.origin();
  r.api_key = "AIza-secret-0123456789";
  r.extra_json = extra_json;
  return r;
}

std::string sse(const std::string &json) { return "data: " + json + "\r\n\r\n"; }

}  // namespace

TEST_CASE("gemini: an OpenAI request becomes generateContent, and its answer an OpenAI one") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking it over.","thought":true},)"
                   R"({"text":"Checking."},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},)"
                   R"("finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,)"
                   R"("candidatesTokenCount":5,"thoughtsTokenCount":7,"totalTokenCount":32},)"
                   R"("modelVersion":"gemini-2.5-flash-001"})");
  });
  llmhost::Host host(host_options());
  const llmhost::Response resp = host.complete(
      to(server, R"({"messages":[{"role":"system","content":"Be brief."},)"
                 R"({"role":"user","content":[{"type":"text","text":"Weather?"},)"
                 R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},)"
                 R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function",)"
                 R"("function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}}]},)"
                 R"({"role":"tool","tool_call_id":"call_7","content":"12C"},{"role":"user","content":"And Paris?"}],)"
                 R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",)"
                 R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],)"
                 R"("tool_choice":"required","stop":"END","temperature":0.2,"max_tokens":300,"user":"u"})"));
  CHECK(resp.provider == "gemini");
  CHECK(resp.content == "Checking.");
  CHECK(resp.reasoning == "Thinking it over.");
  CHECK(resp.finish_reason == "tool_calls");
  REQUIRE(resp.tool_calls.size() == 1);
  CHECK(resp.tool_calls[0].id == "call_0");
  CHECK(resp.tool_calls[0].name == "get_weather");
  CHECK(resp.tool_calls[0].arguments == R"({"city":"Paris"})");
  CHECK(resp.usage.prompt_tokens == 20);
  CHECK(resp.usage.completion_tokens == 12);  // thinking tokens are completion tokens to OpenAI
  CHECK(resp.model == "gemini-2.5-flash-001");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(seen[0].header("x-goog-api-key") == "AIza-secret-0123456789");
  simdjson::dom::parser p;
  simdjson::dom::element b = p.parse(seen[0].body);
  CHECK(std::string_view(b["systemInstruction"]["parts"].at(0)["text"]) == "Be brief.");
  CHECK(b["contents"].get_array().size() == 3);  // user, model, user (the function response merged in)
  CHECK(std::string_view(b["contents"].at(0)["parts"].at(1)["inlineData"]["mimeType"]) == "image/png");
  CHECK(std::string_view(b["contents"].at(1)["role"]) == "model");
  CHECK(std::string_view(b["contents"].at(1)["parts"].at(0)["functionCall"]["args"]["city"]) == "Lyon");
  CHECK(std::string_view(b["contents"].at(2)["parts"].at(0)["functionResponse"]["name"]) == "get_weather");
  CHECK(std::string_view(b["contents"].at(2)["parts"].at(0)["functionResponse"]["response"]["content"]) == "12C");
  CHECK(std::string_view(b["contents"].at(2)["parts"].at(1)["text"]) == "And Paris?");
  CHECK(b["generationConfig"]["temperature"].get_double().value() == doctest::Approx(0.2));
  CHECK(b["generationConfig"]["maxOutputTokens"].get_int64().value() == 300);
  CHECK(std::string_view(b["generationConfig"]["stopSequences"].at(0)) == "END");
  CHECK(std::string_view(b["tools"].at(0)["functionDeclarations"].at(0)["name"]) == "get_weather");
  CHECK(std::string_view(b["toolConfig"]["functionCallingConfig"]["mode"]) == "ANY");
  CHECK(b["user"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(b["messages"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("gemini: a stream split at every byte gives text, a tool call, the finish reason and usage") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    if (req.target.find(":streamGenerateContent?alt=sse") == std::string::npos) return (void)c.respond(404, "{}");
    const std::string body =
        sse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],)"
            R"("usageMetadata":{"promptTokenCount":4}})") +
        sse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]}}]})") +
        sse(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},)"
            R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":6,)"
            R"("totalTokenCount":10}})");
    c.begin_chunked();
    for (char ch : body) c.chunk(std::string(1, ch));
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  std::string text, finish, name, arguments, id;
  std::optional<llmhost::Usage> usage;
  host.stream(to(server, R"({"messages":[{"role":"user","content":"hi"}]})"), [&](const llmhost::Chunk &c) {
    text += c.content;
    if (!c.finish_reason.empty()) finish = c.finish_reason;
    if (c.usage) usage = c.usage;
    for (const auto &d : c.tool_calls) id += d.id, name += d.name, arguments += d.arguments;
    return true;
  });
  CHECK(text == "Hello");
  CHECK(finish == "tool_calls");
  CHECK(id == "call_0");
  CHECK(name == "f");
  CHECK(arguments == R"({"a":1})");
  REQUIRE(usage);
  CHECK(usage->prompt_tokens == 4);
  CHECK(usage->completion_tokens == 6);
}

TEST_CASE("gemini: embeddings through batchEmbedContents, one vector per input in order") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"embeddings":[{"values":[0.5,-1]},{"values":[2,0.25]}]})");
  });
  llmhost::Host host(host_options());
  llmhost::Request r = to(server, R"({"dimensions":2})", "text-embedding-004");
  r.input = {"alpha", "beta"};
  const auto e = host.embed(r);
  REQUIRE(e.data.size() == 2);
  CHECK(e.data[0] == std::vector<float>{0.5f, -1.0f});
  CHECK(e.data[1] == std::vector<float>{2.0f, 0.25f});
  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1beta/models/text-embedding-004:batchEmbedContents");
  simdjson::dom::parser p;
  simdjson::dom::element b = p.parse(seen[0].body);
  CHECK(std::string_view(b["requests"].at(1)["model"]) == "models/text-embedding-004");
  CHECK(std::string_view(b["requests"].at(1)["content"]["parts"].at(0)["text"]) == "beta");
  CHECK(b["requests"].at(0)["outputDimensionality"].get_int64().value() == 2);
}

TEST_CASE("gemini: errors read as what they are: a bad key 401, a blocked answer, a mid-stream error, a lost call") {
  llmhost::Host host(host_options());
  const std::string hi = R"({"messages":[{"role":"user","content":"hi"}]})";
  MockServer bad_key([](const HttpRequest &req, Conn &c) {
    c.respond(400, R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key. )" +
                       req.header("x-goog-api-key") +
                       R"(","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}})");
  });
  const llmhost::Error key = test::error_of([&] { host.complete(to(bad_key, hi)); });
  CHECK(key.status() == 401);
  CHECK(std::string(key.what()).find("API key not valid") != std::string::npos);
  CHECK(std::string(key.what()).find("AIza-secret") == std::string::npos);

  MockServer blocked([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"candidates":[{"content":{"parts":[]},"finishReason":"SAFETY"}]})");
  });
  CHECK(host.complete(to(blocked, hi)).finish_reason == "content_filter");

  MockServer mid([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(sse(R"({"candidates":[{"content":{"parts":[{"text":"par"}]}}]})") +
            sse(R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})"));
    c.end_chunked();
  });
  const llmhost::Error cut = test::error_of([&] { host.stream(to(mid, hi), [](auto &) { return true; }); });
  CHECK(cut.status() == 503);
  CHECK(std::string(cut.what()).find("The model is overloaded. (UNAVAILABLE)") != std::string::npos);

  MockServer unused([](const HttpRequest &, Conn &c) { c.respond(200, "{}"); });
  const llmhost::Error lost = test::error_of(
      [&] { host.complete(to(unused, R"({"messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]})")); });
  CHECK(lost.status() == 400);
  CHECK(std::string(lost.what()).find("follows no assistant tool call") != std::string::npos);
  CHECK(unused.requests().empty());
}
