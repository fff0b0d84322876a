// The anthropic provider through the real Host, the real plugin file and the real HTTP service,
// against a scripted server in the Messages API's shape (Anthropic's API reference): what an
// OpenAI request becomes, what a Message and a typed event stream (split at every byte) become,
// and errors, mid-stream ones included.
#include <future>
#include <mutex>

#include "http_support.hpp"

using namespace test::http;

namespace {

llmhost::Request to(const MockServer &server, const std::string &extra_json) {
  llmhost::Request r;
  r.model = "anthropic/claude-sonnet-4-5";
  r.api_base = server.origin();
  r.api_key = "sk-ant-secret-0123456789";
  r.extra_json = extra_json;
  return r;
}

// Every event of a stream, one byte per write.
void drip(Conn &c, const std::string &events) {
  c.begin_chunked();
  for (char ch : events) c.chunk(std::string(1, ch));
  c.end_chunked();
}

std::string event(const std::string &type, const std::string &json) {
  return "event: " + type + "\ndata: " + json + "\n\n";
}

}  // namespace

TEST_CASE("anthropic: an OpenAI request becomes a Messages request, and the Message an OpenAI answer") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",)"
                   R"("content":[{"type":"thinking","thinking":"Paris is the city.","signature":"sig"},)"
                   R"({"type":"text","text":"Let me check."},)"
                   R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],)"
                   R"("stop_reason":"tool_use","stop_sequence":null,)"
                   R"("usage":{"input_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,)"
                   R"("output_tokens":7}})");
  });
  llmhost::Host host(host_options());
  const llmhost::Response resp = host.complete(
      to(server, R"({"messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"Use tools."},)"
                 R"({"role":"user","content":[{"type":"text","text":"Weather?"},)"
                 R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},)"
                 R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function",)"
                 R"("function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}}]},)"
                 R"({"role":"tool","tool_call_id":"call_0","content":"12C"},{"role":"user","content":"And Paris?"}],)"
                 R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",)"
                 R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],)"
                 R"("tool_choice":"required","stop":"END","temperature":0.2,"seed":5,"user":"u-1"})"));
  CHECK(resp.provider == "anthropic");
  CHECK(resp.content == "Let me check.");
  CHECK(resp.reasoning == "Paris is the city.");
  CHECK(resp.finish_reason == "tool_calls");
  REQUIRE(resp.tool_calls.size() == 1);
  CHECK(resp.tool_calls[0].id == "toolu_1");
  CHECK(resp.tool_calls[0].name == "get_weather");
  CHECK(resp.tool_calls[0].arguments == R"({"city":"Paris"})");
  CHECK(resp.usage.prompt_tokens == 35);  // cached tokens are prompt tokens to OpenAI
  CHECK(resp.usage.completion_tokens == 7);
  CHECK(resp.model == "claude-sonnet-4-5-20250929");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1/messages");
  CHECK(seen[0].header("x-api-key") == "sk-ant-secret-0123456789");
  CHECK(seen[0].header("anthropic-version") == "2023-06-01");
  CHECK(seen[0].header("authorization").empty());
  simdjson::dom::parser p;
  simdjson::dom::element b = p.parse(seen[0].body);
  CHECK(std::string_view(b["model"]) == "claude-sonnet-4-5");
  CHECK(b["max_tokens"].get_int64().value() == 4096);  // required by Anthropic: the default
  CHECK(std::string_view(b["system"]) == "Be brief.\n\nUse tools.");
  CHECK(b["messages"].get_array().size() == 3);  // user, assistant, user (the tool result merged in)
  CHECK(std::string_view(b["messages"].at(0)["content"].at(1)["source"]["media_type"]) == "image/png");
  CHECK(std::string_view(b["messages"].at(0)["content"].at(1)["source"]["data"]) == "iVBORw0KGgo=");
  CHECK(std::string_view(b["messages"].at(1)["content"].at(0)["type"]) == "tool_use");
  CHECK(std::string_view(b["messages"].at(1)["content"].at(0)["input"]["city"]) == "Lyon");
  CHECK(std::string_view(b["messages"].at(2)["content"].at(0)["type"]) == "tool_result");
  CHECK(std::string_view(b["messages"].at(2)["content"].at(0)["tool_use_id"]) == "call_0");
  CHECK(std::string_view(b["messages"].at(2)["content"].at(1)["text"]) == "And Paris?");
  CHECK(std::string_view(b["tools"].at(0)["name"]) == "get_weather");
  CHECK(std::string_view(b["tools"].at(0)["input_schema"]["type"]) == "object");
  CHECK(std::string_view(b["tool_choice"]["type"]) == "any");
  CHECK(std::string_view(b["stop_sequences"].at(0)) == "END");
  CHECK(b["temperature"].get_double().value() == doctest::Approx(0.2));
  CHECK(std::string_view(b["metadata"]["user_id"]) == "u-1");
  CHECK(b["seed"].error() == simdjson::NO_SUCH_FIELD);  // Anthropic refuses keys it does not know
  CHECK(b["stream"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("anthropic: a typed event stream split at every byte gives text, reasoning, a tool call and usage") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    if (req.body.find("\"stream\":true") == std::string::npos) return (void)c.respond(400, "{}");
    drip(c, event("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message",)"
                                   R"("role":"assistant","model":"claude","content":[],"stop_reason":null,)"
                                   R"("usage":{"input_tokens":12,"output_tokens":1}}})") +
                event("ping", R"({"type":"ping"})") +
                event("content_block_start", R"({"type":"content_block_start","index":0,)"
                                             R"("content_block":{"type":"thinking","thinking":""}})") +
                event("content_block_delta", R"({"type":"content_block_delta","index":0,)"
                                             R"("delta":{"type":"thinking_delta","thinking":"hmm"}})") +
                event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
                event("content_block_start", R"({"type":"content_block_start","index":1,)"
                                             R"("content_block":{"type":"text","text":""}})") +
                event("content_block_delta", R"({"type":"content_block_delta","index":1,)"
                                             R"("delta":{"type":"text_delta","text":"Hel"}})") +
                event("content_block_delta", R"({"type":"content_block_delta","index":1,)"
                                             R"("delta":{"type":"text_delta","text":"lo"}})") +
                event("content_block_start", R"({"type":"content_block_start","index":2,"content_block":)"
                                             R"({"type":"tool_use","id":"toolu_9","name":"f","input":{}}})") +
                event("content_block_delta", R"({"type":"content_block_delta","index":2,)"
                                             R"("delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})") +
                event("content_block_delta", R"({"type":"content_block_delta","index":2,)"
                                             R"("delta":{"type":"input_json_delta","partial_json":"1}"}})") +
                event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use",)"
                                       R"("stop_sequence":null},"usage":{"output_tokens":9}})") +
                event("message_stop", R"({"type":"message_stop"})"));
  });
  llmhost::Host host(host_options());
  std::string text, reasoning, finish, id, name, arguments;
  std::optional<llmhost::Usage> usage;
  host.stream(to(server, R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":100})"),
              [&](const llmhost::Chunk &c) {
                text += c.content;
                reasoning += c.reasoning;
                if (!c.finish_reason.empty()) finish = c.finish_reason;
                if (c.usage) usage = c.usage;
                for (const auto &d : c.tool_calls) {
                  CHECK(d.index == 0);
                  id += d.id;
                  name += d.name;
                  arguments += d.arguments;
                }
                return true;
              });
  CHECK(text == "Hello");
  CHECK(reasoning == "hmm");
  CHECK(finish == "tool_calls");
  CHECK(id == "toolu_9");
  CHECK(name == "f");
  CHECK(arguments == R"({"a":1})");
  REQUIRE(usage);
  CHECK(usage->prompt_tokens == 12);
  CHECK(usage->completion_tokens == 9);
  CHECK(usage->total_tokens == 21);
}

TEST_CASE(
    "anthropic: errors keep their meaning: 529 overloaded, a mid-stream error event, a truncated stream, the key "
    "redacted") {
  llmhost::Host host(host_options());
  const std::string hi = R"({"messages":[{"role":"user","content":"hi"}]})";
  MockServer overloaded([](const HttpRequest &, Conn &c) {
    c.respond(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  });
  const llmhost::Error busy = test::error_of([&] { host.complete(to(overloaded, hi)); });
  CHECK(busy.status() == 529);  // >= 401, not the client's fault: a fallback moves on
  CHECK(std::string(busy.what()).find("Overloaded (overloaded_error)") != std::string::npos);

  MockServer mid([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(event("message_start", R"({"type":"message_start","message":{"usage":{"input_tokens":1}}})") +
            event("content_block_delta", R"({"type":"content_block_delta","index":0,)"
                                         R"("delta":{"type":"text_delta","text":"par"}})") +
            event("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
    c.end_chunked();
  });
  std::string got;
  const llmhost::Error cut = test::error_of([&] {
    host.stream(to(mid, hi), [&](const llmhost::Chunk &c) {
      got += c.content;
      return true;
    });
  });
  CHECK(got == "par");
  CHECK(cut.status() == 529);
  CHECK(std::string(cut.what()).find("upstream error in stream: Overloaded") != std::string::npos);

  MockServer truncated([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(event("message_start", R"({"type":"message_start","message":{}})"));
    c.end_chunked();
  });
  const llmhost::Error short_stream =
      test::error_of([&] { host.stream(to(truncated, hi), [](auto &) { return true; }); });
  CHECK(short_stream.status() == 502);
  CHECK(std::string(short_stream.what()).find("ended before message_stop") != std::string::npos);

  MockServer denied([](const HttpRequest &req, Conn &c) {
    c.respond(401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key )" +
                       req.header("x-api-key") + R"("}})");
  });
  const llmhost::Error key = test::error_of([&] { host.complete(to(denied, hi)); });
  CHECK(key.status() == 401);
  CHECK(std::string(key.what()).find("sk-ant-secret") == std::string::npos);
  CHECK(std::string(key.what()).find("[redacted]") != std::string::npos);

  MockServer unused([](const HttpRequest &, Conn &c) { c.respond(200, "{}"); });
  const llmhost::Error args = test::error_of([&] {
    host.complete(to(unused, R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function",)"
                             R"("function":{"name":"f","arguments":"not json"}}]}]})"));
  });
  CHECK(args.status() == 400);
  CHECK(std::string(args.what()).find("the arguments of tool call \"c1\" are not a JSON object") != std::string::npos);
  CHECK(unused.requests().empty());
}

TEST_CASE("anthropic: the asynchronous form answers and streams on the HTTP event loop, with no worker") {
  MockServer server([](const HttpRequest &req, Conn &c) {
    if (req.body.find("\"stream\":true") == std::string::npos)
      return (void)c.respond(200, R"({"type":"message","model":"claude","content":[{"type":"text","text":"one"}],)"
                                  R"("stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}})");
    c.begin_chunked();
    c.chunk(event("content_block_delta", R"({"type":"content_block_delta","index":0,)"
                                         R"("delta":{"type":"text_delta","text":"two"}})") +
            event("message_stop", R"({"type":"message_stop"})"));
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  // Isolated, a call holds a host thread as a blocking plugin's does (docs/isolation.md).
  const llmhost::BlockingExecutor no_worker = test::isolated()
                                                  ? llmhost::BlockingExecutor{}
                                                  : [](std::function<void()>) { FAIL("a blocking job was started"); };
  const std::string hi = R"({"messages":[{"role":"user","content":"hi"}]})";
  std::promise<llmhost::CompleteResult> answered;
  host.complete(
      to(server, hi), [&](llmhost::CompleteResult r) { answered.set_value(std::move(r)); }, {}, no_worker);
  llmhost::CompleteResult result = answered.get_future().get();
  REQUIRE(std::holds_alternative<llmhost::Response>(result));
  CHECK(std::get<llmhost::Response>(result).content == "one");

  std::mutex mu;
  std::string text;
  std::promise<std::optional<llmhost::Error>> ended;
  host.stream(
      to(server, hi),
      [&](const llmhost::Chunk &c) {
        std::lock_guard lock(mu);
        text += c.content;
        return true;
      },
      [&](std::optional<llmhost::Error> e) { ended.set_value(std::move(e)); }, {}, no_worker);
  CHECK_FALSE(ended.get_future().get());
  std::lock_guard lock(mu);
  CHECK(text == "two");
}
