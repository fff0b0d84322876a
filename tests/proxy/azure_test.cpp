// A LiteLLM config naming azure/<deployment> next to openai/<model>, through the real serve and
// the bundled plugins, against scripted upstreams in each vendor's shape: an OpenAI client sees
// the same shapes from both, as JSON and as SSE, and Azure's leading filter chunk never reaches it.
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
