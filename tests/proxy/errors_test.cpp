// Every error the proxy answers, as OpenAI error JSON with the right status; limits; auth.
#include <doctest/doctest.h>

#include <simdjson.h>
#include <tuple>

#include <chrono>
#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "proxy_support.hpp"

using namespace ptest;

namespace {

struct ErrorInfo {
  int status;
  std::string message, type, param, code;
};

ErrorInfo error_of(const Response &r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE_MESSAGE(!p.parse(r.body).get(doc), r.body);
  simdjson::dom::object e;
  REQUIRE_MESSAGE(!doc["error"].get(e), r.body);
  ErrorInfo out{
      r.status, std::string(std::string_view(e["message"])), std::string(std::string_view(e["type"])), {}, {}};
  std::string_view s;
  if (!e["param"].get(s)) out.param = s;
  if (!e["code"].get(s)) out.code = s;
  CHECK(r.header("content-type") == "application/json");
  return out;
}

std::vector<std::string> bundled() { return {"--plugins", test::bundled_plugins().string()}; }

}  // namespace

TEST_CASE("bad request bodies: 400 saying where and which field") {
  Server server(bundled());
  Client c(server.port());
  struct Case {
    std::string body, param, message_part;
  };
  const std::vector<Case> cases = {
      {"{\"model\":\"echo/x\",\n \"messages\": [}", "", "line 2, column 15"},
      {"", "", "empty"},
      {"[1,2]", "", "must be a JSON object"},
      {R"({"messages":[{"role":"user","content":"x"}]})", "model", "\"model\""},
      {R"({"model":"echo/x"})", "messages", "\"messages\""},
      {R"({"model":"echo/x","messages":[{"content":"x"}]})", "messages[0].role", "\"role\""},
      {R"({"model":"echo/x","messages":[{"role":"user","content":5}]})", "messages[0].content", "messages[0].content"},
      {R"({"model":"echo/x","messages":[{"role":"user","content":"x"},{"role":"user","content":[{"type":"text"},5]}]})",
       "messages[1].content[0].text", "\"messages[1].content[0].text\" is required"},
      {R"({"model":"echo/x","messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":1}}]}]})",
       "messages[0].tool_calls[0].function.name", "\"messages[0].tool_calls[0].function.name\" must be a string"},
      {R"({"model":"echo/x","messages":[{"role":"user","content":"x"}],"stop":["a",2]})", "stop[1]", "\"stop[1]\""},
      {R"({"model":"echo/x","messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature", "number"},
      {R"({"model":"echo/x","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "max_tokens", "integer"},
      {R"({"model":"echo/x","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream", "true or false"},
      {R"({"model":7,"messages":[]})", "model", "string"},
  };
  for (const Case &k : cases) {
    CAPTURE(k.body);
    const ErrorInfo e = error_of(c.post("/v1/chat/completions", k.body));
    CHECK(e.status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK(e.param == k.param);
    CHECK(e.message.find(k.message_part) != std::string::npos);
  }
  const ErrorInfo emb = error_of(c.post("/v1/embeddings", R"({"model":"echo/x","input":[1,2,3]})"));
  CHECK(emb.status == 400);
  CHECK(emb.param == "input");
  CHECK(error_of(c.post("/v1/embeddings", R"({"model":"echo/x"})")).param == "input");

  // Text completions: a missing, empty or tokenized prompt, and a bad parameter.
  for (const char *body : {R"({"model":"echo/x"})", R"({"model":"echo/x","prompt":[]})",
                           R"({"model":"echo/x","prompt":[[1,2]]})", R"({"model":"echo/x","prompt":5})"}) {
    CAPTURE(body);
    const ErrorInfo e = error_of(c.post("/v1/completions", body));
    CHECK(e.status == 400);
    CHECK(e.param == "prompt");
    CHECK(e.message.find("\"prompt\"") != std::string::npos);
  }
  CHECK(error_of(c.post("/v1/completions", R"({"model":"echo/x","prompt":"x","max_tokens":"9"})")).param ==
        "max_tokens");
  // Rerank: no query, no documents, a top_n larger than the documents, a document that is no text.
  struct RerankCase {
    const char *body, *param, *message_part;
  };
  for (const RerankCase &k : std::vector<RerankCase>{
           {R"({"model":"echo/x","documents":["a"]})", "query", "missing required field \"query\""},
           {R"({"model":"echo/x","query":"q","documents":[]})", "documents", "must not be empty"},
           {R"({"model":"echo/x","query":"q"})", "documents", "\"documents\""},
           {R"({"model":"echo/x","query":"q","documents":["a","b"],"top_n":3})", "top_n",
            "more than the number of documents (2)"},
           {R"({"model":"echo/x","query":"q","documents":["a","b"],"top_n":0})", "top_n", "at least 1"},
           {R"({"model":"echo/x","query":"q","documents":["a",{"txt":"b"}]})", "documents[1]", "\"text\" string"},
       }) {
    CAPTURE(k.body);
    const ErrorInfo e = error_of(c.post("/v1/rerank", k.body));
    CHECK(e.status == 400);
    CHECK(e.param == k.param);
    CHECK(e.message.find(k.message_part) != std::string::npos);
  }
  // Images: no prompt, n out of range, an unknown response_format.
  for (const RerankCase &k : std::vector<RerankCase>{
           {R"({"model":"echo/x"})", "prompt", "missing required field \"prompt\""},
           {R"({"model":"echo/x","prompt":""})", "prompt", "must not be empty"},
           {R"({"model":"echo/x","prompt":"p","n":0})", "n", "1..10"},
           {R"({"model":"echo/x","prompt":"p","response_format":"png"})", "response_format", "\"url\" or \"b64_json\""},
       }) {
    CAPTURE(k.body);
    const ErrorInfo e = error_of(c.post("/v1/images/generations", k.body));
    CHECK(e.status == 400);
    CHECK(e.param == k.param);
    CHECK(e.message.find(k.message_part) != std::string::npos);
  }
  // and the server goes on serving
  CHECK(c.post("/v1/images/generations", R"({"model":"echo/x","prompt":"still here"})").status == 200);
  CHECK(c.post("/v1/completions", R"({"model":"echo/x","prompt":"still here"})").status == 200);
  CHECK(c.post("/v1/rerank", R"({"model":"echo/x","query":"q","documents":["q"]})").status == 200);
}

TEST_CASE("unknown model: 404 model_not_found listing what is available") {
  Server server(bundled());
  Client c(server.port());
  for (const char *model : {"nope/x", "gpt-4o"}) {
    const ErrorInfo e = error_of(c.post("/v1/chat/completions", chat_body(model, "hi")));
    CHECK(e.status == 404);
    CHECK(e.code == "model_not_found");
    CHECK(e.param == "model");
    CHECK(e.message.find(model) != std::string::npos);
    CHECK(e.message.find("echo/*") != std::string::npos);
  }
  CHECK(error_of(c.post("/v1/embeddings", R"({"model":"nope/x","input":"a"})")).status == 404);
}

TEST_CASE("plugin errors keep their status, also for streams that fail before the first chunk") {
  Server server(bundled());
  Client c(server.port());
  for (int status : {400, 401, 429, 500, 503}) {
    CAPTURE(status);
    const std::string knob = "\"mock_error_status\":" + std::to_string(status);
    const ErrorInfo e = error_of(c.post("/v1/chat/completions", chat_body("echo/x", "hi", knob)));
    CHECK_MESSAGE(e.status == status, server.err());
    CHECK(e.message.find("mock error") != std::string::npos);
    const ErrorInfo s = error_of(c.post("/v1/chat/completions", chat_body("echo/x", "hi", knob + ",\"stream\":true")));
    CHECK(s.status == status);
  }
  CHECK(error_of(c.post("/v1/chat/completions", chat_body("echo/x", "hi", "\"mock_error_status\":429"))).type ==
        "rate_limit_error");
  // cecho has no embed and no text completions: 501.
  CHECK(error_of(c.post("/v1/embeddings", R"({"model":"cecho/x","input":"a"})")).status == 501);
  CHECK(error_of(c.post("/v1/rerank", R"({"model":"cecho/x","query":"q","documents":["a"]})")).status == 501);
  CHECK(error_of(c.post("/v1/images/generations", R"({"model":"cecho/x","prompt":"p"})")).status == 501);
  const ErrorInfo text = error_of(c.post("/v1/completions", R"({"model":"cecho/x","prompt":"a"})"));
  CHECK(text.status == 501);
  CHECK(text.message.find("text completions") != std::string::npos);
  // A text completion's plugin error keeps its status, streamed or not.
  for (const char *stream : {"false", "true"}) {
    const std::string body =
        std::string(R"({"model":"echo/x","prompt":"a","mock_error_status":429,"stream":)") + stream + "}";
    CHECK(error_of(c.post("/v1/completions", body)).status == 429);
  }
}

TEST_CASE("unknown routes are 404, wrong methods 405 with Allow") {
  Server server(bundled());
  Client c(server.port());
  CHECK(error_of(c.get("/v1/nothing")).status == 404);
  const Response r = c.get("/v1/chat/completions");
  CHECK(error_of(r).status == 405);
  CHECK(r.header("allow") == "POST");
  CHECK(error_of(c.post("/v1/models", "{}")).status == 405);
}

TEST_CASE("a body over the default 10 MiB limit gets 413; one under it is served") {
  Server server(bundled());
  {
    Client c(server.port());
    const std::string pad(10 * 1024 * 1024, 'x');
    const Response r = c.post("/v1/chat/completions", chat_body("echo/x", "hi", "\"pad\":\"" + pad + "\""));
    const ErrorInfo e = error_of(r);
    CHECK(e.status == 413);
    CHECK(e.message.find("limit") != std::string::npos);
    CHECK_FALSE(r.keep_alive);
  }
  Client c(server.port());
  const std::string pad(9 * 1024 * 1024, 'x');
  const Response ok = c.post("/v1/chat/completions", chat_body("echo/x", "small", "\"pad\":\"" + pad + "\""));
  CHECK(ok.status == 200);
  CHECK(answer_text(ok.body) == "small");
}

TEST_CASE("--max-body-mb lowers the limit; a chunked body over it is refused too") {
  Server server({"--plugins", test::bundled_plugins().string(), "--max-body-mb", "0.01"});
  Client c(server.port());
  const std::string big(20000, 'x');
  std::string raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", big.size());
  raw += size + big + "\r\n0\r\n\r\n";
  c.write_raw(raw);
  const std::string reply = c.read_raw_all();
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
}

namespace {
// A multipart/form-data body of text fields and files (name, filename, bytes), boundary "b0und".
std::string form(const std::vector<std::pair<std::string, std::string>> &fields,
                 const std::vector<std::tuple<std::string, std::string, std::string>> &files) {
  std::string body;
  for (const auto &[name, value] : fields)
    body += "--b0und\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  for (const auto &[name, filename, bytes] : files)
    body += "--b0und\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
            "\"\r\nContent-Type: image/png\r\n\r\n" + bytes + "\r\n";
  return body + "--b0und--\r\n";
}
const Headers kForm = {{"Content-Type", "multipart/form-data; boundary=b0und"}};
}  // namespace

TEST_CASE("image edits: a broken or incomplete form, or an oversized image, gets a clear 4xx; the server goes on") {
  Server server({"--plugins", test::bundled_plugins().string(), "--max-body-mb", "0.05"});
  Client c(server.port());
  const std::string png = "\x89PNG\r\n\x1a\n-not-really-pixels";
  const Response ok =
      c.post("/v1/images/edits",
             form({{"model", "echo/x"}, {"prompt", "bluer"}, {"n", "2"}}, {{"image", "a.png", png}}), kForm);
  CHECK_MESSAGE(ok.status == 200, ok.body);
  CHECK(json_at(ok.body, "/data/1/url").rfind("data:image/png;base64,", 0) == 0);

  struct Case {
    std::string body;
    Headers headers;
    const char *param, *message_part;
  };
  const std::vector<Case> cases = {
      {form({{"model", "echo/x"}, {"prompt", "p"}}, {{"image", "a.png", png}}).substr(0, 60), kForm, "",
       "malformed multipart/form-data body"},
      {"--b0und\r\nContent-Type: text/plain\r\n\r\nx\r\n--b0und--\r\n", kForm, "", "no Content-Disposition"},
      {form({{"model", "echo/x"}, {"prompt", "p"}}, {}), kForm, "image", "missing required file \"image\""},
      {form({{"model", "echo/x"}}, {{"image", "a.png", png}}), kForm, "prompt", "\"prompt\""},
      {form({{"model", "echo/x"}, {"prompt", "p"}}, {{"image", "a.png", ""}}), kForm, "image", "empty file"},
      {form({{"model", "echo/x"}, {"prompt", "p"}, {"n", "11"}}, {{"image", "a.png", png}}), kForm, "n", "1..10"},
      {R"({"model":"echo/x","prompt":"p"})", {{"Content-Type", "application/json"}}, "", "multipart/form-data"},
  };
  for (const Case &k : cases) {
    CAPTURE(k.body);
    const ErrorInfo e = error_of(c.post("/v1/images/edits", k.body, k.headers));
    CHECK(e.status == 400);
    CHECK(e.param == k.param);
    CHECK(e.message.find(k.message_part) != std::string::npos);
  }
  // An image past the body limit: 413, before any plugin sees it.
  const Response big =
      c.post("/v1/images/edits",
             form({{"model", "echo/x"}, {"prompt", "p"}}, {{"image", "big.png", std::string(60000, 'x')}}), kForm);
  CHECK(big.status == 413);
  Client again(server.port());
  CHECK(again.post("/v1/images/edits", form({{"model", "echo/x"}, {"prompt", "p"}}, {{"image", "a.png", png}}), kForm)
            .status == 200);
  // cecho makes no images: 501.
  CHECK(error_of(again.post("/v1/images/edits",
                            form({{"model", "cecho/x"}, {"prompt", "p"}}, {{"image", "a.png", png}}), kForm))
            .status == 501);
}

TEST_CASE("oversized headers get 431, malformed HTTP 400") {
  Server server(bundled());
  {
    Client c(server.port());
    const Response r = c.get("/health/liveliness", {{"X-Big", std::string(20000, 'h')}});
    CHECK(r.status == 431);
  }
  Client c(server.port());
  c.write_raw("THIS IS NOT HTTP\r\n\r\n");
  CHECK(c.read_raw_all().rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("idle connections are closed after --idle-timeout") {
  Server server({"--plugins", test::bundled_plugins().string(), "--idle-timeout", "0.2"});
  Client c(server.port());
  CHECK(c.get("/health/liveliness").status == 200);
  CHECK(c.closed_by_server());  // blocks until the server closes; a hang fails by test timeout
}

TEST_CASE("a request that stops arriving midway is dropped after --idle-timeout; the server goes on") {
  Server server({"--plugins", test::bundled_plugins().string(), "--idle-timeout", "0.5"});
  Client header(server.port());
  header.write_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le");
  Client body(server.port());
  body.write_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\":");
  const auto start = std::chrono::steady_clock::now();
  CHECK(header.closed_by_server());
  CHECK(body.closed_by_server());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  // A connection that keeps sending requests is not idle: two requests 0.3 s apart (each
  // within the 0.5 s) on one connection both succeed.
  Client busy(server.port());
  CHECK(busy.post("/v1/chat/completions", chat_body("echo/x", "one")).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(busy.post("/v1/chat/completions", chat_body("echo/x", "two")).status == 200);
}

TEST_CASE("master key: every API route needs Bearer <key>; health and metrics do not") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg, "general_settings:\n  master_key: os.environ/PROXY_TEST_MASTER_KEY\n");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()},
                {"PROXY_TEST_MASTER_KEY=sk-test-secret-123"});
  Client c(server.port());
  const ErrorInfo missing = error_of(c.post("/v1/chat/completions", chat_body("echo/x", "hi")));
  CHECK(missing.status == 401);
  CHECK(missing.code == "invalid_api_key");
  const Headers wrong = {{"Authorization", "Bearer sk-wrong"}};
  const Headers right = {{"Authorization", "Bearer sk-test-secret-123"}};
  CHECK(error_of(c.post("/v1/chat/completions", chat_body("echo/x", "hi"), wrong)).status == 401);
  CHECK(error_of(c.post("/chat/completions", chat_body("echo/x", "hi"), {{"Authorization", "sk-test-secret-123"}}))
            .status == 401);
  CHECK(error_of(c.get("/v1/models")).status == 401);
  CHECK(error_of(c.post("/v1/embeddings", R"({"model":"echo/x","input":"a"})")).status == 401);
  CHECK(c.post("/v1/chat/completions", chat_body("echo/x", "hi"), right).status == 200);
  CHECK(c.get("/v1/models", right).status == 200);
  CHECK(c.get("/health/liveliness").status == 200);
  CHECK(c.get("/health/readiness").status == 200);
  CHECK(c.get("/metrics").status == 200);
  c.close();
  REQUIRE(eventually([&] { return !where(log_lines(server.err()), "/path", "/metrics").empty(); }));
  CHECK(server.err().find("sk-test-secret-123") == std::string::npos);
  CHECK(server.err().find("sk-wrong") == std::string::npos);
}

TEST_CASE("a client that half-closes after its request is taken as gone: its call is cancelled, it reads 499") {
  Server server({"--no-access-log"});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  const std::string body = chat_body("echo/x", "hi", "\"mock_delay_ms\":10000");
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  boost::asio::write(s, boost::asio::buffer(request));
  s.shutdown(boost::asio::ip::tcp::socket::shutdown_send);  // FIN: as a client that closed
  const auto start = std::chrono::steady_clock::now();
  std::string reply;
  boost::system::error_code ec;
  boost::asio::read(s, boost::asio::dynamic_buffer(reply), ec);  // until the server closes
  CHECK(reply.rfind("HTTP/1.1 499", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start < test::kSoon);  // not the plugin's 10 s
  Client c(server.port());
  CHECK(eventually([&] {
    return c.get("/metrics").body.find("model=\"echo/x\",provider=\"echo\",status=\"499\"} 1\n") != std::string::npos;
  }));
}
