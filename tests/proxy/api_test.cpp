// The proxy's endpoints through the real `llmhost serve` binary: chat (JSON and SSE, byte for
// byte), text completions, embeddings, models, health, metrics, keep-alive, the access log.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "mock_server.hpp"
#include "proxy_support.hpp"

using namespace ptest;

namespace {

simdjson::dom::element parse(simdjson::dom::parser &p, const std::string &text) {
  simdjson::dom::element e;
  REQUIRE_MESSAGE(!p.parse(text).get(e), text);
  return e;
}

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

std::vector<std::string> bundled() { return {"--plugins", test::bundled_plugins().string()}; }

}  // namespace

TEST_CASE("chat completion as JSON, with and without the /v1 prefix, on one keep-alive connection") {
  Server server(bundled());
  Client client(server.port());
  for (const char *path : {"/v1/chat/completions", "/chat/completions"}) {
    const Response r = client.post(path, chat_body("echo/x", "hello there"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.keep_alive);
    simdjson::dom::parser p;
    auto doc = parse(p, r.body);
    CHECK(str(doc["object"]) == "chat.completion");
    CHECK(str(doc["id"]).rfind("chatcmpl-", 0) == 0);
    CHECK(str(doc["model"]) == "echo/x");
    CHECK(str(doc["choices"].at(0)["message"]["role"]) == "assistant");
    CHECK(str(doc["choices"].at(0)["message"]["content"]) == "hello there");
    CHECK(str(doc["choices"].at(0)["finish_reason"]) == "stop");
    CHECK(int64_t(doc["usage"]["total_tokens"]) == 4);
  }
}

TEST_CASE("a request body sent after 100 Continue, or in chunks, is read whole") {
  Server server(bundled());
  const std::string body = chat_body("echo/x", "hello there");
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Connection: close\r\n";
  auto content_of = [](const std::string &answer) {
    const size_t blank = answer.rfind("\r\n\r\n");
    REQUIRE(blank != std::string::npos);
    simdjson::dom::parser parser;
    return str(parse(parser, answer.substr(blank + 4))["choices"].at(0)["message"]["content"]);
  };
  const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  SUBCASE("Expect: 100-continue, the body sent once the 100 came") {
    Client client(server.port());
    client.write_raw(head + "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    REQUIRE(client.read_raw(kContinue.size()) == kContinue);
    client.write_raw(body);
    const std::string answer = client.read_raw_all();
    CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(content_of(answer) == "hello there");
  }
  SUBCASE("Expect: 100-continue, the body sent with the header (the 100 still comes first)") {
    Client client(server.port());
    client.write_raw(head + "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                     body);
    const std::string answer = client.read_raw_all();
    CHECK(answer.starts_with(kContinue + "HTTP/1.1 200 OK\r\n"));
    CHECK(content_of(answer) == "hello there");
  }
  SUBCASE("Transfer-Encoding: chunked, in two chunks") {
    Client client(server.port());
    const size_t half = body.size() / 2;
    auto chunk = [](const std::string &data) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      return size + data + "\r\n";
    };
    client.write_raw(head + "Transfer-Encoding: chunked\r\n\r\n" + chunk(body.substr(0, half)));
    client.write_raw(chunk(body.substr(half)) + "0\r\n\r\n");
    const std::string answer = client.read_raw_all();
    CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(content_of(answer) == "hello there");
  }
}

TEST_CASE("response heads byte for byte: keep-alive as each HTTP version says it, and the length") {
  Server server(bundled());
  struct Case {
    const char *request, *connection;  // the request line and Connection field; what the head says
  };
  for (const Case c :
       {Case{"HTTP/1.1\r\nConnection: close", "Connection: close\r\n"},
        Case{"HTTP/1.0\r\nConnection: keep-alive", "Connection: keep-alive\r\n"}, Case{"HTTP/1.0", ""}}) {
    CAPTURE(c.request);
    Client client(server.port());
    client.write_raw(std::string("GET /health/liveliness ") + c.request + "\r\nHost: x\r\n\r\n");
    const std::string version = std::string(c.request).substr(0, 8);
    const std::string head = version + " 200 OK\r\nServer: llmhost\r\nContent-Type: application/json\r\n" +
                             c.connection + "Content-Length: ";
    if (std::string_view(c.connection).find("keep-alive") != std::string_view::npos) {
      // The connection stays open: a second request on it is answered too.
      client.write_raw("GET /health/liveliness HTTP/1.0\r\nHost: x\r\n\r\n");
      const std::string both = client.read_raw_all();
      CHECK(both.starts_with(head));
      CHECK(both.find("HTTP/1.0 200 OK", head.size()) != std::string::npos);
      continue;
    }
    const std::string answer = client.read_raw_all();  // the server closes after it
    REQUIRE(answer.starts_with(head));
    const size_t blank = answer.find("\r\n\r\n");
    REQUIRE(blank != std::string::npos);
    const std::string length = answer.substr(head.size(), blank - head.size());
    CHECK(std::to_string(answer.size() - blank - 4) == length);
    CHECK(answer.substr(blank + 4) == R"("I'm alive!")");
  }
}

TEST_CASE("streamed chat completion: OpenAI's SSE framing byte for byte") {
  Server server(bundled());
  Client client(server.port());
  for (bool usage : {false, true}) {
    CAPTURE(usage);
    const std::string extra =
        std::string("\"stream\":true") + (usage ? ",\"stream_options\":{\"include_usage\":true}" : "");
    const Response r = client.post("/v1/chat/completions", chat_body("echo/x", "a b", extra));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("cache-control") == "no-cache");
    CHECK(r.header("transfer-encoding") == "chunked");
    // id and created are the same on every chunk; take them from the first.
    const std::string first = sse_events(r.body)[0];
    const std::string id = json_at(first, "/id");
    const std::string created = json_at(first, "/created");
    const std::string head = "data: {\"id\":\"" + id +
                             "\",\"object\":\"chat.completion.chunk\",\"created\":" + created +
                             ",\"model\":\"echo/x\",\"choices\":[";
    std::string expected =
        head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a\"},\"finish_reason\":null}]}\n\n" +
        head + "{\"index\":0,\"delta\":{\"content\":\" b\"},\"finish_reason\":null}]}\n\n" + head +
        "{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    if (usage) expected += head + "],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}\n\n";
    expected += "data: [DONE]\n\n";
    CHECK(r.body == expected);
  }
  // The connection is still usable after a stream.
  CHECK(client.get("/health/liveliness").status == 200);
}

TEST_CASE("an empty streamed reply still has the role chunk, a finish chunk and [DONE]") {
  Server server(bundled());
  Client client(server.port());
  const Response r = client.post("/v1/chat/completions", chat_body("echo/x", "", "\"stream\":true"));
  REQUIRE(r.status == 200);
  const std::vector<std::string> events = sse_events(r.body);
  const auto first_where = [&](std::string_view pointer, std::string_view value) {
    return std::find_if(events.begin(), events.end(),
                        [&](const std::string &e) { return json_at(e, pointer) == value; });
  };
  const auto role = first_where("/choices/0/delta/role", "assistant");
  const auto stop = first_where("/choices/0/finish_reason", "stop");
  REQUIRE(role != events.end());
  REQUIRE(stop != events.end());
  CHECK(json_at(*role, "/choices/0/delta/content") == "");
  CHECK(json_items(*role, "/choices/0/delta").size() == 2);  // role and content, nothing else
  CHECK(json_at(*role, "/choices/0/finish_reason") == "null");
  CHECK(json_at(*stop, "/choices/0/delta") == "{}");
  CHECK(role < stop);
  CHECK(r.body.size() > 14);
  CHECK(r.body.substr(r.body.size() - 14) == "data: [DONE]\n\n");
}

TEST_CASE("chunks are flushed one by one: the first arrives while the plugin still holds the stream") {
  test::TempDir dir;
  dir.add(test::test_plugin("libdrip.so"));
  const auto release = dir.path() / "release";
  Server server({"--plugins", dir.path().string()}, {"DRIP_RELEASE=" + release.string()});
  Client client(server.port());
  client.send("POST", "/v1/chat/completions", chat_body("drip/x", "hi", "\"stream\":true"));
  const std::string first = client.read_until("\n\n");  // blocks forever if the server buffered
  CHECK(json_at(sse_events(first)[0], "/choices/0/delta/content") == "v1");
  CHECK(first.find("[DONE]") == std::string::npos);
  write_file(release, "");
  const Response r = client.finish();
  CHECK(answer_text(r.body) == "v1 done");
  CHECK(r.body.find("data: [DONE]\n\n") != std::string::npos);
}

TEST_CASE("an upstream stream that ends without [DONE] or a finish_reason still ends the client's properly") {
  using test::http::Conn;
  using test::http::HttpRequest;
  test::http::MockServer upstream([](const HttpRequest &, Conn &c) {
    c.begin_chunked();
    c.chunk(
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"cut"},"finish_reason":null}]})"
        "\n\n");
    c.end_chunked();  // no [DONE], no finish_reason: the body just ends
  });
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg,
             "model_list:\n  - model_name: up\n    litellm_params:\n      model: openai/gpt-test\n"
             "      api_key: sk-test\n      api_base: " +
                 upstream.base_url() + "\n");
  Server server({"--config", cfg.string()});
  Client c(server.port());
  const Response r = c.post("/v1/chat/completions", chat_body("up", "hi", "\"stream\":true"));
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "cut");
  CHECK(!where(sse_events(r.body), "/choices/0/finish_reason", "stop").empty());  // made up, as the framing promises
  CHECK(r.body.size() >= 14);
  CHECK(r.body.substr(r.body.size() - 14) == "data: [DONE]\n\n");
}

TEST_CASE("text completions: one choice per prompt, as JSON and as OpenAI's SSE framing byte for byte") {
  Server server(bundled());
  Client client(server.port());
  const Response r =
      client.post("/v1/completions", R"({"model":"echo/x","prompt":["one two","three"],"max_tokens":9})");
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  auto doc = parse(p, r.body);
  CHECK(str(doc["object"]) == "text_completion");
  CHECK(str(doc["id"]).rfind("cmpl-", 0) == 0);
  CHECK(str(doc["model"]) == "echo/x");
  REQUIRE(simdjson::dom::array(doc["choices"]).size() == 2);
  CHECK(str(doc["choices"].at(0)["text"]) == "one two");
  CHECK(int64_t(doc["choices"].at(1)["index"]) == 1);
  CHECK(str(doc["choices"].at(1)["text"]) == "three");
  CHECK(str(doc["choices"].at(1)["finish_reason"]) == "stop");
  CHECK(doc["choices"].at(0)["logprobs"].is_null());
  CHECK(int64_t(doc["usage"]["total_tokens"]) == 6);  // echo's words, both prompts

  const Response s =
      client.post("/completions",
                  R"({"model":"echo/x","prompt":["a b","c"],"stream":true,"stream_options":{"include_usage":true}})");
  REQUIRE(s.status == 200);
  CHECK(s.header("content-type") == "text/event-stream");
  const std::string first = sse_events(s.body)[0];
  const std::string head = "data: {\"id\":\"" + json_at(first, "/id") +
                           "\",\"object\":\"text_completion\",\"created\":" + json_at(first, "/created") +
                           ",\"model\":\"echo/x\",\"choices\":[";
  auto choice = [&](std::string_view text, int index, std::string_view finish) {
    return head + "{\"text\":\"" + std::string(text) + "\",\"index\":" + std::to_string(index) +
           ",\"logprobs\":null,\"finish_reason\":" + std::string(finish) + "}]}\n\n";
  };
  CHECK(s.body == choice("a", 0, "null") + choice(" b", 0, "null") + choice("", 0, "\"stop\"") +
                      choice("c", 1, "null") + choice("", 1, "\"stop\"") + head +
                      "],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3,\"total_tokens\":6}}\n\n"
                      "data: [DONE]\n\n");
}

TEST_CASE("rerank: documents scored against the query, best first, cut to top_n, with their text when asked") {
  Server server(bundled());
  Client client(server.port());
  const Response r = client.post("/v1/rerank", R"({"model":"echo/r","query":"Red apple","documents":)"
                                               R"(["a green pear",{"text":"red APPLE pie"},"red car"],)"
                                               R"("top_n":2,"return_documents":true})");
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  auto doc = parse(p, r.body);
  CHECK(str(doc["id"]).rfind("rerank-", 0) == 0);
  CHECK(str(doc["model"]) == "echo/r");
  simdjson::dom::array results = doc["results"];
  REQUIRE(results.size() == 2);
  CHECK(int64_t(results.at(0)["index"]) == 1);  // both query words
  CHECK(double(results.at(0)["relevance_score"]) == 1.0);
  CHECK(str(results.at(0)["document"]["text"]) == "red APPLE pie");
  CHECK(int64_t(results.at(1)["index"]) == 2);  // one of two
  CHECK(double(results.at(1)["relevance_score"]) == 0.5);
  CHECK(int64_t(doc["meta"]["billed_units"]["search_units"]) == 1);
  CHECK(int64_t(doc["usage"]["total_tokens"]) == 10);  // echo counts the words of query and documents

  // Without top_n every document comes back, and without return_documents no text.
  const Response all = client.post("/rerank", R"({"model":"echo/r","query":"x","documents":["y","x"]})");
  REQUIRE(all.status == 200);
  auto d2 = parse(p, all.body);
  CHECK(simdjson::dom::array(d2["results"]).size() == 2);
  CHECK(int64_t(d2["results"].at(0)["index"]) == 1);
  CHECK(d2["results"].at(0)["document"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("embeddings as floats and as base64 of the same float32 values") {
  Server server(bundled());
  Client client(server.port());
  const Response f = client.post("/v1/embeddings", R"({"model":"echo/e","input":["one","two"]})");
  REQUIRE(f.status == 200);
  const Response b =
      client.post("/embeddings", R"({"model":"echo/e","input":["one","two"],"encoding_format":"base64"})");
  REQUIRE(b.status == 200);
  simdjson::dom::parser pf, pb;
  auto df = parse(pf, f.body), db = parse(pb, b.body);
  CHECK(str(df["object"]) == "list");
  CHECK(str(df["model"]) == "echo/e");
  REQUIRE(simdjson::dom::array(df["data"]).size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const std::string b64 = str(db["data"].at(i)["embedding"]);
    // decode
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : b64) {
      const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      if (c == '=') break;
      acc = (acc << 6) | static_cast<uint32_t>(std::strchr(alphabet, c) - alphabet);
      bits += 6;
      if (bits >= 8) bytes += static_cast<char>((acc >> (bits -= 8)) & 0xff);
    }
    simdjson::dom::array floats = df["data"].at(i)["embedding"];
    REQUIRE(bytes.size() == floats.size() * 4);
    size_t k = 0;
    for (double v : floats) {
      float x;
      std::memcpy(&x, bytes.data() + 4 * k++, 4);
      CHECK(x == static_cast<float>(v));
    }
  }
}

TEST_CASE("models, liveliness and readiness (with a refused plugin file listed)") {
  test::TempDir dir;
  dir.add(test::bundled_plugins() / "libecho.so");
  dir.add(test::test_plugin("not_a_library.so"));
  Server server({"--plugins", dir.path().string()});
  Client client(server.port());
  for (const char *path : {"/v1/models", "/models"}) {
    const Response m = client.get(path);
    CHECK(m.status == 200);
    CHECK_MESSAGE(!where(where(json_items(m.body, "/data"), "/id", "echo/*"), "/object", "model").empty(), m.body);
  }
  const Response live = client.get("/health/liveliness");
  CHECK(live.status == 200);
  const Response ready = client.get("/health/readiness");
  CHECK(ready.status == 200);
  simdjson::dom::parser p;
  auto doc = parse(p, ready.body);
  CHECK(str(doc["status"]) == "healthy");
  CHECK(str(doc["providers"].at(0)["name"]) == "echo");
  CHECK(str(doc["load_errors"].at(0)["file"]).find("not_a_library.so") != std::string::npos);
}

TEST_CASE("readiness is 503 with no provider loaded") {
  test::TempDir empty;
  Server server({"--plugins", empty.path().string()});
  Client client(server.port());
  CHECK(client.get("/health/readiness").status == 503);
  CHECK(client.get("/health/liveliness").status == 200);
}

TEST_CASE("metrics count requests by route, model, provider and status, with latency and reloads") {
  Server server(bundled());
  Client client(server.port());
  REQUIRE(client.post("/v1/chat/completions", chat_body("echo/x", "hi")).status == 200);
  REQUIRE(client.post("/v1/chat/completions", chat_body("echo/x", "hi", R"("mock_error_status":429)")).status == 429);
  const Response m = client.get("/metrics");
  CHECK(m.status == 200);
  CHECK(m.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(m.body.find(
            R"(llmhost_requests_total{route="/v1/chat/completions",model="echo/x",provider="echo",status="200"} 1)") !=
        std::string::npos);
  CHECK(
      m.body.find(
          R"(llmhost_request_errors_total{route="/v1/chat/completions",model="echo/x",provider="echo",status="429"} 1)") !=
      std::string::npos);
  CHECK(m.body.find(R"(llmhost_request_duration_seconds_count{route="/v1/chat/completions"} 2)") != std::string::npos);
  CHECK(m.body.find(R"(llmhost_request_duration_seconds_bucket{route="/v1/chat/completions",le="+Inf"} 2)") !=
        std::string::npos);
  CHECK(m.body.find("llmhost_requests_in_flight 1\n") != std::string::npos);  // the scrape itself
  CHECK(m.body.find("llmhost_plugin_reloads_total{kind=\"loaded\"} ") != std::string::npos);
  CHECK(m.body.find("# TYPE llmhost_request_duration_seconds histogram") != std::string::npos);
}

TEST_CASE("one structured access-log line per request") {
  Server server(bundled());
  {
    Client client(server.port());
    REQUIRE(client.post("/v1/chat/completions", chat_body("echo/x", "hi")).status == 200);
    REQUIRE(client.get("/nope").status == 404);
  }
  REQUIRE(eventually([&] { return !where(log_lines(server.err()), "/path", "/nope").empty(); }));
  const std::string log = server.err();
  const std::vector<std::string> chats = where(log_lines(log), "/path", "/v1/chat/completions");
  REQUIRE_MESSAGE(!chats.empty(), log);
  const std::string &line = chats[0];
  CHECK(json_at(line, "/method") == "POST");
  CHECK(json_at(line, "/route") == "/v1/chat/completions");
  CHECK(json_at(line, "/model") == "echo/x");
  CHECK(json_at(line, "/provider") == "echo");
  CHECK(json_at(line, "/status") == "200");
  CHECK(json_at(line, "/stream") == "false");
  for (const char *member : {"/latency_ms", "/bytes_in", "/bytes_out"}) {
    CAPTURE(member);
    CHECK(json_has(line, member));
  }
}
