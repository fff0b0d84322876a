// A LiteLLM config naming azure/<deployment>, anthropic/<model> and gemini/<model> next to openai/<model>,
// through the real serve and the bundled plugins, against scripted upstreams in each vendor's
// shape: an OpenAI client sees the same shapes from all, as JSON and as SSE.
#include <doctest/doctest.h>

#include "mock_server.hpp"
#include "proxy_support.hpp"

using namespace ptest;
using test::http::Conn;
using test::http::HttpRequest;
using test::http::MockServer;

namespace {

// One upstream answering chat completions as JSON or SSE (by the body's "stream"), `leading`
// first in a stream: Azure's filter chunk, or nothing.
void answer(const HttpRequest &req, Conn &c, const std::string &who, const std::string &leading) {
  if (req.body.find("\"stream\":true") == std::string::npos) {
    c.respond(200, R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
                   R"("message":{"role":"assistant","content":"from )" +
                       who +
                       R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,)"
                       R"("total_tokens":5}})");
    return;
  }
  c.begin_chunked();
  c.chunk(leading);
  c.chunk(R"(data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,)"
          R"("delta":{"content":"from )" +
          who + R"("},"finish_reason":"stop"}]})" + "\n\ndata: [DONE]\n\n");
  c.end_chunked();
}

}  // namespace

TEST_CASE("azure/<deployment> and openai/<model> side by side: the same OpenAI shapes, JSON and SSE") {
  MockServer openai([](const HttpRequest &r, Conn &c) { answer(r, c, "openai", ""); });
  MockServer azure([](const HttpRequest &r, Conn &c) {
    if (r.target.rfind("/openai/deployments/gpt-4o-eu/chat/completions?api-version=2024-06-01", 0) != 0 ||
        r.header("api-key") != "az-key-123456") {
      c.respond(404, R"({"error":{"code":"DeploymentNotFound","message":"no such deployment"}})");
      return;
    }
    answer(r, c, "azure",
           R"(data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]})"
           "\n\n");
  });
  ConfiguredServer f(
      "model_list:\n"
      "  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " +
      openai.base_url() +
      "\n"
      "  - model_name: gpt-4o-eu\n    litellm_params:\n      model: azure/gpt-4o-eu\n      api_base: " +
      azure.origin() + "\n      api_key: az-key-123456\n      api_version: \"2024-06-01\"\n");
  CHECK(f.server->err().find("not loaded") == std::string::npos);
  for (const std::string name : {"openai", "azure"}) {
    CAPTURE(name);
    const std::string model = name == "azure" ? "gpt-4o-eu" : "gpt-4o";
    const Response json = f.chat(model);
    REQUIRE(json.status == 200);
    CHECK(answer_text(json.body) == "from " + name);
    CHECK(json_at(json.body, "/object") == "chat.completion");
    CHECK(json_at(json.body, "/model") == "m");  // the model the upstream says answered
    CHECK(json_at(json.body, "/usage/total_tokens") == "5");
    const Response sse = f.chat(model, "\"stream\":true");
    REQUIRE(sse.status == 200);
    CHECK(answer_text(sse.body) == "from " + name);
    CHECK(sse.body.find("prompt_filter_results") == std::string::npos);
    CHECK(sse.body.rfind("data: [DONE]\n\n") == sse.body.size() - 14);
  }
  // Neither the key nor the api_version reached the body.
  for (const auto &r : azure.requests()) {
    CHECK(r.body.find("az-key") == std::string::npos);
    CHECK(r.body.find("api_version") == std::string::npos);
  }
}

TEST_CASE("anthropic/<model> through serve: OpenAI's chat.completion and chunks from Messages and typed events") {
  MockServer anthropic([](const HttpRequest &r, Conn &c) {
    if (r.target != "/v1/messages" || r.header("x-api-key") != "sk-ant-123456") {
      c.respond(401, R"({"type":"error","error":{"type":"authentication_error","message":"bad key"}})");
      return;
    }
    if (r.body.find("\"stream\":true") == std::string::npos) {
      c.respond(200, R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",)"
                     R"("content":[{"type":"text","text":"from anthropic"}],"stop_reason":"end_turn",)"
                     R"("usage":{"input_tokens":3,"output_tokens":2}})");
      return;
    }
    c.begin_chunked();
    c.chunk(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n");
    c.chunk(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"from \"}}\n\n");
    c.chunk(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"anthropic\"}}\n\n");
    c.chunk(
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},"
        "\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    c.end_chunked();
  });
  ConfiguredServer f(
      "model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-x\n"
      "      api_base: " +
      anthropic.origin() + "\n      api_key: sk-ant-123456\n");
  const Response json = f.chat("claude");
  REQUIRE(json.status == 200);
  CHECK(answer_text(json.body) == "from anthropic");
  CHECK(json_at(json.body, "/object") == "chat.completion");
  CHECK(json_at(json.body, "/choices/0/finish_reason") == "stop");
  CHECK(json_at(json.body, "/usage/total_tokens") == "5");
  const Response sse = f.chat("claude", "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
  REQUIRE(sse.status == 200);
  CHECK(answer_text(sse.body) == "from anthropic");
  CHECK(sse.body.find("\"finish_reason\":\"length\"") != std::string::npos);
  CHECK(sse.body.find("\"total_tokens\":5") != std::string::npos);
  CHECK(sse.body.rfind("data: [DONE]\n\n") == sse.body.size() - 14);
}

TEST_CASE("gemini/<model> through serve: OpenAI's chat.completion and chunks from generateContent") {
  MockServer gemini([](const HttpRequest &r, Conn &c) {
    if (r.header("x-goog-api-key") != "AIza-123456") {
      c.respond(400, R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}})");
      return;
    }
    const std::string answer = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"from gemini"}]},)"
                               R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,)"
                               R"("candidatesTokenCount":2,"totalTokenCount":5}})";
    if (r.target == "/v1beta/models/gemini-2.5-flash:generateContent") return (void)c.respond(200, answer);
    if (r.target != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse") return (void)c.respond(404, "{}");
    c.begin_chunked();
    c.chunk("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"from \"}]}}]}\n\n");
    c.chunk("data: " + answer.substr(0, answer.find("from gemini")) + "gemini" +
            answer.substr(answer.find("from gemini") + 11) + "\n\n");
    c.end_chunked();
  });
  ConfiguredServer f(
      "model_list:\n  - model_name: flash\n    litellm_params:\n      model: gemini/gemini-2.5-flash\n"
      "      api_base: " +
      gemini.origin() + "\n      api_key: AIza-123456\n");
  const Response json = f.chat("flash");
  REQUIRE(json.status == 200);
  CHECK(answer_text(json.body) == "from gemini");
  CHECK(json_at(json.body, "/choices/0/finish_reason") == "stop");
  CHECK(json_at(json.body, "/usage/total_tokens") == "5");
  const Response sse = f.chat("flash", "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
  REQUIRE(sse.status == 200);
  CHECK(answer_text(sse.body) == "from gemini");
  CHECK(sse.body.find("\"total_tokens\":5") != std::string::npos);
  CHECK(sse.body.rfind("data: [DONE]\n\n") == sse.body.size() - 14);
}

TEST_CASE("anthropic tool calls through serve: an OpenAI client gets tool_calls, whole and streamed") {
  MockServer anthropic([](const HttpRequest &r, Conn &c) {
    if (r.body.find("\"stream\":true") == std::string::npos) {
      c.respond(200, R"({"type":"message","model":"claude-x","content":[{"type":"tool_use","id":"toolu_1",)"
                     R"("name":"lookup","input":{"q":"llmhost"}}],"stop_reason":"tool_use",)"
                     R"("usage":{"input_tokens":3,"output_tokens":2}})");
      return;
    }
    c.begin_chunked();
    c.chunk(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"lookup\",\"input\":{}}}\n\n");
    c.chunk(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"q\\\":\"}}\n\n");
    c.chunk(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"llmhost\\\"}\"}}\n\n");
    c.chunk(
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
        "\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    c.end_chunked();
  });
  ConfiguredServer f(
      "model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-x\n"
      "      api_base: " +
      anthropic.origin() + "\n");
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}])";
  const Response json = f.chat("claude", tools);
  REQUIRE(json.status == 200);
  CHECK(json_at(json.body, "/choices/0/finish_reason") == "tool_calls");
  CHECK(json_at(json.body, "/choices/0/message/tool_calls/0/id") == "toolu_1");
  CHECK(json_at(json.body, "/choices/0/message/tool_calls/0/function/name") == "lookup");
  CHECK(json_at(json.body, "/choices/0/message/tool_calls/0/function/arguments") == R"({"q":"llmhost"})");
  const Response sse = f.chat("claude", tools + ",\"stream\":true");
  REQUIRE(sse.status == 200);
  // The arguments arrive in fragments on tool call 0, as OpenAI streams them.
  CHECK(sse.body.find(R"("tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"lookup")") !=
        std::string::npos);
  CHECK(sse.body.find(R"({"index":0,"function":{"arguments":"{\"q\":"}})") != std::string::npos);
  CHECK(sse.body.find("\"finish_reason\":\"tool_calls\"") != std::string::npos);
}
