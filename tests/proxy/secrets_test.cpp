// Keys never show: every CLI command and every serve endpoint runs with recognisable keys
// ("SECRET-CANARY") arriving every way a key can arrive (master key and deployment api_key
// through os.environ/, the client's Authorization header, --api-key, OPENAI_API_KEY, userinfo
// and query of an api_base), including an adversarial upstream that echoes the Authorization
// header it received back in its error bodies. Everything printed, logged or answered is
// captured and searched.
#include <doctest/doctest.h>

#include <signal.h>

#include "http_support.hpp"
#include "proxy_support.hpp"

using namespace ptest;

namespace {

const std::string kCanary = "SECRET-CANARY";
const std::string kMaster = "sk-SECRET-CANARY-MASTER-7f3a9c11";
const std::string kDeploy = "sk-SECRET-CANARY-DEPLOY-51be02aa";
const std::string kClient = "sk-SECRET-CANARY-CLIENT-c0ffee00";
const std::string kCli = "sk-SECRET-CANARY-CLI-d15ea5e0";
const std::string kEnv = "sk-SECRET-CANARY-ENV-0ddba110";

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// An OpenAI-compatible upstream that puts the Authorization header it got into whatever it
// answers, the way the prompt's last message asks.
test::http::MockServer echoing_upstream() {
  using test::http::Conn;
  using test::http::HttpRequest;
  return test::http::MockServer([](const HttpRequest &req, Conn &c) {
    const std::string auth = req.header("authorization");
    const std::string ask = has(req.target, "/embeddings") ? "embed" : test::http::last_user_content(req.body);
    if (ask == "say-ok") return void(c.respond(200, test::http::completion_json("fine")));
    if (ask == "fail-401")
      return void(c.respond(401, R"({"error":{"message":"Incorrect API key provided: )" + auth +
                                     R"(","type":"invalid_request_error","code":"invalid_api_key"}})"));
    if (ask == "fail-text")
      return void(c.respond(500, "upstream exploded; request had Authorization: " + auth, {}, "text/plain"));
    if (ask == "fail-cut")  // the error snippet (200 bytes) ends inside the key
      return void(c.respond(500, std::string(175, 'x') + " " + auth, {}, "text/plain"));
    if (ask == "fail-429") return void(c.respond(429, R"({"error":"rate limited: )" + auth + R"("})"));
    if (ask == "fail-detail") return void(c.respond(503, R"({"detail":"bad key )" + auth + R"("})"));
    if (ask == "fail-200") return void(c.respond(200, R"({"error":{"message":"no choices for )" + auth + R"("}})"));
    if (ask == "embed")
      return void(c.respond(400, R"({"error":{"message":"bad embedding request with )" + auth + R"("}})"));
    if (ask == "stream-ok" || ask == "stream-error") {
      c.begin_chunked();
      c.chunk(
          R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"part"},"finish_reason":null}]})"
          "\n\n");
      if (ask == "stream-error")
        c.chunk(R"(data: {"error":{"message":"stream broke for )" + auth +
                R"("}})"
                "\n\n");
      c.chunk("data: [DONE]\n\n");
      return void(c.end_chunked());
    }
    c.respond(400, R"({"error":{"message":"unknown ask )" + ask + " from " + auth + R"("}})");
  });
}

// Everything the client side saw.
struct Transcript {
  std::string text;
  void add(const std::string &what, const Response &r) {
    text += "== " + what + " -> " + std::to_string(r.status) + "\n";
    for (const auto &[k, v] : r.headers) text += k + ": " + v + "\n";
    text += r.body + "\n";
  }
  void add(const std::string &what, const test::RunResult &r) {
    text += "== " + what + " -> exit " + std::to_string(r.exit_code) + "\n" + r.out + "\n" + r.err + "\n";
  }
};

}  // namespace

TEST_CASE("serve: no key in any response, log line, metric or message, whichever way it arrived") {
  auto upstream = echoing_upstream();
  const std::string up = upstream.base_url();
  const test::http::RefusedPort refused_port;
  const int refused = refused_port.port();
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg,
             "model_list:\n"
             "  - model_name: up\n"
             "    litellm_params:\n"
             "      model: openai/gpt-test\n"
             "      api_base: " +
                 up +
                 "\n"
                 "      api_key: os.environ/CANARY_DEPLOY_KEY\n"
                 "  - model_name: echoed\n"
                 "    litellm_params:\n"
                 "      model: echo/x\n"
                 "      api_key: os.environ/CANARY_DEPLOY_KEY\n"
                 "  - model_name: leaky-url\n"
                 "    litellm_params:\n"
                 "      model: openai/gpt-test\n"
                 "      api_base: http://user:" +
                 kDeploy + "@127.0.0.1:" + std::to_string(refused) + "/v1?key=" + kDeploy +
                 "\n"
                 "      api_key: os.environ/CANARY_DEPLOY_KEY\n"
                 "general_settings:\n"
                 "  master_key: os.environ/CANARY_MASTER_KEY\n");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()},
                {"CANARY_DEPLOY_KEY=" + kDeploy, "CANARY_MASTER_KEY=" + kMaster, "OPENAI_API_KEY=" + kEnv,
                 "OPENAI_BASE_URL=" + up});
  Transcript t;
  const Headers auth = {{"Authorization", "Bearer " + kMaster}};
  Client c(server.port());
  auto chat = [&](const std::string &model, const std::string &ask, bool stream = false) {
    const Response r = c.post("/v1/chat/completions", chat_body(model, ask, stream ? "\"stream\":true" : ""), auth);
    t.add(model + " " + ask + (stream ? " (stream)" : ""), r);
    return r;
  };

  CHECK(chat("echoed", "hello").status == 200);
  CHECK(chat("echoed", "hello", true).status == 200);
  CHECK(chat("up", "say-ok").status == 200);
  CHECK(chat("up", "stream-ok", true).status == 200);
  CHECK(chat("up", "fail-401").status == 401);
  CHECK(chat("up", "fail-401", true).status == 401);
  CHECK(chat("up", "fail-text").status == 500);
  CHECK(chat("up", "fail-cut").status == 500);
  CHECK(chat("up", "fail-429").status == 429);
  CHECK(chat("up", "fail-detail").status == 503);
  CHECK(chat("up", "fail-200").status == 502);
  const Response mid = chat("up", "stream-error", true);
  CHECK(mid.status == 200);
  CHECK(answer_text(mid.body) == "part");
  CHECK(has(mid.body, "stream broke for"));  // the upstream's message, minus the key
  CHECK(chat("leaky-url", "say-ok").status == 503);
  CHECK(chat("openai/gpt-test", "fail-401").status == 401);  // OPENAI_API_KEY / OPENAI_BASE_URL
  CHECK(chat("nope/x", "hi").status == 404);
  const Response emb = c.post("/v1/embeddings", R"({"model":"up","input":"x"})", auth);
  t.add("embeddings", emb);
  CHECK(emb.status == 400);
  t.add("models", c.get("/v1/models", auth));
  t.add("models?key", c.get("/v1/models?api_key=" + kClient, auth));
  t.add("liveliness", c.get("/health/liveliness"));
  t.add("readiness", c.get("/health/readiness"));
  t.add("unknown route", c.get("/v1/nothing?key=" + kClient, auth));
  t.add("wrong method", c.get("/v1/chat/completions", auth));
  t.add("bad key", c.post("/v1/chat/completions", chat_body("echoed", "hi"), {{"Authorization", "Bearer " + kClient}}));
  t.add("no Bearer", c.post("/v1/chat/completions", chat_body("echoed", "hi"), {{"Authorization", kMaster}}));
  t.add("no key", c.post("/v1/chat/completions", chat_body("echoed", "hi")));
  t.add("malformed", c.post("/v1/chat/completions", "{\"model\":", auth));
  t.add("metrics", c.get("/metrics"));
  // The upstream really got the deployment's key (and the environment's for the direct route),
  // so the searches below look for something that went through.
  bool deploy_sent = false, env_sent = false;
  for (const auto &r : upstream.requests()) {
    deploy_sent |= r.header("authorization") == "Bearer " + kDeploy;
    env_sent |= r.header("authorization") == "Bearer " + kEnv;
  }
  CHECK(deploy_sent);
  CHECK(env_sent);

  c.close();
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
  const std::string err = server.err();
  CHECK(!where(log_lines(err), "/status", "401").empty());  // the access log is there ...
  CHECK_MESSAGE(!has(t.text, kCanary), t.text);
  CHECK_MESSAGE(!has(err, kCanary), err);  // ... and names no key
}

TEST_CASE("CLI: no key in the output or the error of any command") {
  auto upstream = echoing_upstream();
  const std::string up = upstream.base_url();
  const std::string cli = test::cli().string();
  const std::string plugins = test::bundled_plugins().string();
  const std::vector<std::string> env = {"OPENAI_API_KEY=" + kEnv};
  Transcript t;
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {cli, "--plugins", plugins};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string what = args.size() > 2 ? args[0] + " " + args[2] : args[0];  // no key in the label
    const test::RunResult r = test::run(argv, env);
    t.add(what, r);
    return r;
  };
  CHECK(run({"providers"}).exit_code == 0);
  CHECK(run({"providers", "--json"}).exit_code == 0);
  CHECK(run({"check", (test::bundled_plugins() / "libopenai.so").string()}).exit_code == 0);
  CHECK(run({"complete", "echo/x", "hi", "--api-key", kCli}).exit_code == 0);
  CHECK(run({"complete", "openai/gpt-test", "say-ok", "--api-key", kCli, "--api-base", up}).exit_code == 0);
  for (const char *ask : {"fail-401", "fail-text", "fail-cut", "fail-429", "fail-detail", "fail-200"}) {
    const test::RunResult r = run({"complete", "openai/gpt-test", ask, "--api-key", kCli, "--api-base", up});
    CHECK(r.exit_code == 1);
    CHECK(has(r.err, "llmhost: error"));
    CHECK(run({"complete", "openai/gpt-test", ask, "--api-base", up, "--json"}).exit_code == 1);  // OPENAI_API_KEY
  }
  CHECK(run({"stream", "openai/gpt-test", "stream-error", "--api-key", kCli, "--api-base", up}).exit_code == 1);
  CHECK(run({"stream", "openai/gpt-test", "fail-401", "--api-key", kCli, "--api-base", up, "--json"}).exit_code == 1);
  CHECK(run({"embed", "openai/text-embedding-3-small", "x", "--api-key", kCli, "--api-base", up}).exit_code == 1);
  const test::http::RefusedPort refused_port;
  const std::string leaky =
      "http://user:" + kCli + "@127.0.0.1:" + std::to_string(refused_port.port()) + "/v1?key=" + kCli;
  CHECK(run({"complete", "openai/gpt-test", "say-ok", "--api-key", kCli, "--api-base", leaky}).exit_code == 1);
  bool cli_sent = false;
  for (const auto &r : upstream.requests()) cli_sent |= r.header("authorization") == "Bearer " + kCli;
  CHECK(cli_sent);
  CHECK_MESSAGE(!has(t.text, kCanary), t.text);
}

TEST_CASE("serve start-up failures do not print the master key") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  Transcript t;
  // A literal master key followed by a missing folder, broken YAML, a bad limit; a bad timeout.
  int n = 0;
  for (const std::string &yaml : {"general_settings:\n  master_key: " + kMaster + "\n  plugin_dirs: [./missing]\n",
                                  "general_settings:\n  master_key: " + kMaster + "\n  plugin_dirs: {a: [\n",
                                  "general_settings:\n  master_key: " + kMaster + "\n  max_messages: many\n",
                                  "model_list:\n  - model_name: a\n    litellm_params: {model: echo/x, api_key: " +
                                      kDeploy + ", timeout: soon}\n"}) {
    write_file(cfg, yaml);
    const test::RunResult r = serve_fails({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()});
    CHECK(r.exit_code == 1);
    CHECK(has(r.err, "config error"));
    t.add("config " + std::to_string(++n), r);
  }
  CHECK_MESSAGE(!has(t.text, kCanary), t.text);
}
