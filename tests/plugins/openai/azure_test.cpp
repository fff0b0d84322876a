// The azure provider (the openai sources built as `azure`, plugins/openai/flavour.hpp) through the
// real Host, the real plugin file and the real HTTP service, against a scripted server in Azure
// OpenAI's shape: deployment URLs with an api-version, the api-key header, the leading chunk
// with no choices, embeddings, and what it says when it is not configured.
#include "http_support.hpp"

using namespace test::http;

namespace {

// An azure/<deployment> chat request aimed at `server`, whose origin is the api_base (as
// https://<resource>.openai.azure.com is).
llmhost::Request azure_chat(const MockServer &server, const std::string &deployment, const std::string &extra = {}) {
  llmhost::Request r = test::chat("azure/" + deployment, "Hi", extra);
  r.api_base = server.origin() + "/";
  r.api_key = "azure-key-0123456789";
  return r;
}

}  // namespace

TEST_CASE("azure: a completion goes to its deployment's URL with the api-version and the api-key header") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, completion_json("from azure")); });
  llmhost::Host host(host_options());
  const llmhost::Response resp = host.complete(azure_chat(server, "gpt-4o-eu"));
  CHECK(resp.content == "from azure");
  CHECK(resp.provider == "azure");
  CHECK(resp.usage.total_tokens == 12);

  llmhost::Request pinned = azure_chat(server, "gpt 4o", R"({"api_version":"2025-01-01-preview","seed":3})");
  CHECK(host.complete(pinned).content == "from azure");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].target == "/openai/deployments/gpt-4o-eu/chat/completions?api-version=2024-10-21");
  CHECK(seen[0].header("api-key") == "azure-key-0123456789");
  CHECK(seen[0].header("authorization").empty());
  CHECK(seen[1].target == "/openai/deployments/gpt%204o/chat/completions?api-version=2025-01-01-preview");
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(seen[1].body);
  CHECK(body["api_version"].error() == simdjson::NO_SUCH_FIELD);  // in the URL, not the body
  CHECK(body["seed"].get_int64().value() == 3);
}

TEST_CASE("azure: a stream skips the leading chunk that has no choices, and keeps text and usage") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(R"(data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":)"
            R"([{"prompt_index":0,"content_filter_results":{}}]})"
            "\n\n");
    c.chunk(R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,)"
            R"("delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]})"
            "\n\n");
    c.chunk(R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,)"
            R"("delta":{"content":"lo"},"finish_reason":"stop"}]})"
            "\n\n");
    c.chunk(R"(data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"
            "\n\ndata: [DONE]\n\n");
    c.end_chunked();
  });
  llmhost::Host host(host_options());
  std::string text;
  int chunks = 0;
  std::optional<llmhost::Usage> usage;
  host.stream(azure_chat(server, "gpt-4o-eu"), [&](const llmhost::Chunk &c) {
    ++chunks;
    text += c.content;
    if (c.usage) usage = c.usage;
    return true;
  });
  CHECK(text == "Hello");
  CHECK(chunks == 3);  // two with text, one with usage: not the filter results
  REQUIRE(usage);
  CHECK(usage->total_tokens == 6);
  CHECK(server.requests().at(0).target == "/openai/deployments/gpt-4o-eu/chat/completions?api-version=2024-10-21");
}

TEST_CASE("azure: embeddings go to the deployment's /embeddings") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]}],)"
                   R"("model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}})");
  });
  llmhost::Host host(host_options());
  llmhost::Request r = azure_chat(server, "embed-eu");
  r.input = {"hello"};
  const auto e = host.embed(r);
  REQUIRE(e.data.size() == 1);
  CHECK(e.data[0] == std::vector<float>{0.5f, -1.0f});
  CHECK(server.requests().at(0).target == "/openai/deployments/embed-eu/embeddings?api-version=2024-10-21");
}

TEST_CASE("azure: no api_base is a clear 400, and an upstream error never shows the key") {
  llmhost::Host host(host_options());
  llmhost::Request r = test::chat("azure/gpt-4o-eu", "Hi");
  const llmhost::Error e = test::error_of([&] { host.complete(r); });
  CHECK(e.status() == 400);
  CHECK(std::string(e.what()).find("azure: no api_base for deployment \"gpt-4o-eu\"") != std::string::npos);

  MockServer server([](const HttpRequest &req, Conn &c) {
    c.respond(401, R"({"error":{"code":"401","message":"Access denied due to invalid subscription key )" +
                       req.header("api-key") + R"(."}})");
  });
  const llmhost::Error denied = test::error_of([&] { host.complete(azure_chat(server, "gpt-4o-eu")); });
  CHECK(denied.status() == 401);
  const std::string message = denied.what();
  CHECK(message.find("Access denied") != std::string::npos);
  CHECK(message.find("azure-key-0123456789") == std::string::npos);
  CHECK(message.find("[redacted]") != std::string::npos);
  CHECK(message.find("api-version") == std::string::npos);  // the URL is shown without its query
}
