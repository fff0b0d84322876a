// config.yaml (LiteLLM's shape): parsing, errors with file and line, and serve using it.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>

#include "config/config.hpp"
#include "proxy_support.hpp"

using namespace ptest;
namespace config = llmhost::config;

namespace {

config::EnvLookup env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char *name) -> const char * {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(const std::string &yaml, const std::filesystem::path &file = "/cfg/config.yaml") {
  try {
    config::parse(yaml, file, env_of({}));
  } catch (const config::ConfigError &e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the issue's config shape parses, with os.environ/, relative paths and extra keys") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "build");
  std::filesystem::create_directories(dir.path() / "plugins");
  write_file(dir.path() / "build" / "libmy_custom_llm.so", "");
  const std::string yaml = R"(model_list:
  - model_name: my-custom-model
    litellm_params:
      model: my-custom-llm/custom-model-v1
      api_key: os.environ/CUSTOM_API_KEY
      api_base: https://internal-api.company.com/v1
      timeout: 30
      num_retries: 2
      any_extra_key: passed to the plugin
      quoted_number: "42"
      temperature: 0.5
      flags: [1, true, null]
  - model_name: my-custom-model
    litellm_params:
      model: echo/second
litellm_settings:
  custom_provider_map:
    - provider: my-custom-llm
      custom_handler: ./build/libmy_custom_llm.so
general_settings:
  master_key: os.environ/LLMHOST_MASTER_KEY
  plugin_dirs: [./plugins]
)";
  const config::Config c = config::parse(
      yaml, dir.path() / "config.yaml", env_of({{"CUSTOM_API_KEY", "sk-custom"}, {"LLMHOST_MASTER_KEY", "sk-master"}}));
  REQUIRE(c.models.size() == 1);
  CHECK(c.models[0].name == "my-custom-model");
  REQUIRE(c.models[0].deployments.size() == 2);
  const config::Deployment &d = c.models[0].deployments[0];
  CHECK(d.model == "my-custom-llm/custom-model-v1");
  CHECK(d.api_key == "sk-custom");
  CHECK(d.api_base == "https://internal-api.company.com/v1");
  CHECK(d.timeout_s == 30);
  CHECK(d.num_retries == 2u);
  CHECK(json_items(d.extra_json, "").size() == 4);
  CHECK(json_at(d.extra_json, "/any_extra_key") == "passed to the plugin");
  CHECK(json_at(d.extra_json, "/quoted_number") == "42");
  simdjson::dom::parser p;
  CHECK(p.parse(d.extra_json)["quoted_number"].is_string());  // quoted in the YAML: not the number 42
  CHECK(json_at(d.extra_json, "/temperature") == "0.5");
  CHECK(json_at(d.extra_json, "/flags") == "[1,true,null]");
  CHECK(c.models[0].deployments[1].extra_json.empty());
  REQUIRE(c.custom_providers.size() == 1);
  CHECK(c.custom_providers[0].provider == "my-custom-llm");
  CHECK(c.custom_providers[0].file == dir.path() / "build" / "libmy_custom_llm.so");
  REQUIRE(c.plugin_dirs.size() == 1);
  CHECK(c.plugin_dirs[0] == dir.path() / "plugins");
  CHECK(c.master_key == "sk-master");
  CHECK(c.direct_routing);
  CHECK(c.warnings.empty());
}

TEST_CASE("config errors name the file, the line and the cause") {
  CHECK(error_of("model_list:\n  - model_name: a\n    litellm_params:\n      model: x/y\n      api_key: "
                 "os.environ/NOPE_KEY\n") ==
        "/cfg/config.yaml:5:16: \"model_list[0].litellm_params.api_key\": environment variable NOPE_KEY is not set");
  CHECK(error_of("model_list:\n  - model_name: a\n    litellm_params:\n      model: no-slash\n")
            .rfind("/cfg/config.yaml:4:14: ", 0) == 0);
  CHECK(error_of("model_list: {a: 1}\n").rfind("/cfg/config.yaml:1:13: \"model_list\" must be a list", 0) == 0);
  CHECK(error_of("model_list:\n  - model_name: a\n").find(":2:5: model_list[0] is missing \"litellm_params\"") !=
        std::string::npos);
  CHECK(error_of("model_list:\n  - model_name: a\n    litellm_params:\n      model: x/y\n      timeout: soon\n")
            .find(":5:16: \"model_list[0].litellm_params.timeout\" must be a non-negative number") !=
        std::string::npos);
  CHECK(error_of("litellm_settings:\n  custom_provider_map:\n    - provider: p\n      custom_handler: ./missing.so\n")
            .find(":4:23: custom_provider_map[0].custom_handler: no such file: /cfg/missing.so") != std::string::npos);
  CHECK(error_of("general_settings:\n  plugin_dirs: [./nowhere]\n")
            .find(":2:17: general_settings.plugin_dirs: no such folder") != std::string::npos);
  CHECK(error_of("model_list: [\n").find("/cfg/config.yaml:") == 0);
  CHECK(error_of("model_list: [\n").find("invalid YAML") != std::string::npos);
  CHECK(error_of("general_settings:\n  direct_provider_routing: maybe\n").find(":2:28:") != std::string::npos);
}

TEST_CASE("unsupported keys are warnings, not errors") {
  const config::Config c =
      config::parse("environment_variables: {a: 1}\nlitellm_settings:\n  drop_params: true\n", "/c.yaml", env_of({}));
  REQUIRE(c.warnings.size() == 2);
  CHECK(c.warnings[0].rfind("/c.yaml:1:1: ", 0) == 0);
}

TEST_CASE("serve: a config error stops start-up with file, line and cause") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg,
             "model_list:\n  - model_name: a\n    litellm_params:\n      model: echo/x\n      api_key: "
             "os.environ/PROXY_TEST_UNSET_VAR\n");
  const test::RunResult r = serve_fails({"--config", cfg.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(cfg.string() + ":5:16:") != std::string::npos);
  CHECK(r.err.find("PROXY_TEST_UNSET_VAR is not set") != std::string::npos);
  CHECK(serve_fails({"--config", (dir.path() / "missing.yaml").string()}).exit_code == 1);
}

TEST_CASE("serve: model_list names route to their deployment with its params and extra keys") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg, R"(model_list:
  - model_name: my-model
    litellm_params:
      model: echo/any
      api_key: os.environ/PROXY_TEST_API_KEY
      mock_response: configured reply
  - model_name: shouty
    litellm_params:
      model: cecho/x
general_settings:
  direct_provider_routing: false
)");
  Server server({"--plugins", test::bundled_plugins().string(), "--config", cfg.string()},
                {"PROXY_TEST_API_KEY=sk-deployment-secret"});
  Client c(server.port());
  const Response r = c.post("/v1/chat/completions", chat_body("my-model", "hi"));
  CHECK(r.status == 200);
  CHECK(answer_text(r.body) == "configured reply");
  CHECK(json_at(r.body, "/model") == "my-model");
  const Response s = c.post("/v1/chat/completions", chat_body("my-model", "hi", "\"stream\":true"));
  CHECK(answer_text(s.body) == "configured reply");
  CHECK(!where(sse_events(s.body), "/model", "my-model").empty());
  // Direct provider/model routing is off: only configured names.
  CHECK(c.post("/v1/chat/completions", chat_body("echo/any", "hi")).status == 404);
  const Response models = c.get("/v1/models");
  const std::vector<std::string> listed = json_items(models.body, "/data");
  CHECK(!where(listed, "/id", "my-model").empty());
  CHECK(!where(listed, "/id", "shouty").empty());
  CHECK(models.body.find("echo/*") == std::string::npos);
  c.close();
  REQUIRE(eventually([&] { return !where(log_lines(server.err()), "/path", "/v1/models").empty(); }));
  CHECK(server.err().find("sk-deployment-secret") == std::string::npos);
}

TEST_CASE("serve: custom_provider_map loads a plugin outside the plugin folders, relative to the config") {
  test::TempDir dir, empty;
  std::filesystem::create_directories(dir.path() / "handlers");
  dir.add(test::bundled_plugins() / "libecho.so", "handlers/libecho.so");
  const auto cfg = dir.path() / "config.yaml";
  write_file(
      cfg,
      "litellm_settings:\n  custom_provider_map:\n    - provider: echo\n      custom_handler: handlers/libecho.so\n");
  Server server({"--plugins", empty.path().string(), "--config", cfg.string()});
  Client c(server.port());
  CHECK(answer_text(c.post("/v1/chat/completions", chat_body("echo/x", "routed")).body) == "routed");
  // A handler that declares another provider name stops start-up.
  write_file(
      cfg,
      "litellm_settings:\n  custom_provider_map:\n    - provider: other\n      custom_handler: handlers/libecho.so\n");
  const test::RunResult r = serve_fails({"--plugins", empty.path().string(), "--config", cfg.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(cfg.string() + ":3: custom_provider_map provider \"other\"") != std::string::npos);
}

TEST_CASE("serve: the example config under docs/ works with the bundled plugins") {
  Server server({"--plugins", test::bundled_plugins().string(), "--config",
                 (std::filesystem::path(LLMHOST_SOURCE_DIR) / "docs/examples/config.yaml").string()});
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", chat_body("echo-model", "hello")).status == 200);
  CHECK(!where(json_items(c.get("/v1/models").body, "/data"), "/id", "echo-model").empty());
}

TEST_CASE("the isolation settings as docs/isolation.md shows them, and their mistakes") {
  // The example in the docs, with its plugin file pointed at a real one.
  const std::string doc = read_file(std::filesystem::path(LLMHOST_SOURCE_DIR) / "docs/isolation.md");
  const size_t start = doc.find("```yaml\n") + 8;
  std::string yaml = doc.substr(start, doc.find("```", start) - start);
  const std::string handler = "/opt/llmhost/plugins/libacme.so";
  REQUIRE(yaml.find(handler) != std::string::npos);
  yaml.replace(yaml.find(handler), handler.size(), test::test_plugin("libfaulty.so").string());
  const config::Config c = config::parse(yaml, "/c.yaml", env_of({}));
  REQUIRE(c.custom_providers.size() == 1);
  CHECK(c.custom_providers[0].isolation == llmhost::Isolation::kProcess);
  CHECK(c.custom_providers[0].max_memory_mb == 2048u);
  CHECK(c.plugin_isolation == llmhost::Isolation::kInProcess);
  CHECK(c.plugin_max_memory_mb == 4096u);
  CHECK(c.plugin_crash_loop_crashes == 5u);
  CHECK(c.plugin_crash_loop_window_s == 60.0);
  CHECK(c.plugin_hang_grace_s == 5.0);
  CHECK(c.warnings.empty());

  CHECK(error_of("general_settings:\n  plugin_isolation: sandbox\n") ==
        "/cfg/config.yaml:2:21: \"general_settings.plugin_isolation\" must be process or in_process");
  CHECK(error_of("general_settings:\n  plugin_crash_loop_crashes: 0\n") ==
        "/cfg/config.yaml:2:30: \"general_settings.plugin_crash_loop_crashes\" must be at least 1");
  CHECK(error_of("general_settings:\n  plugin_max_memory_mb: 0.5\n") ==
        "/cfg/config.yaml:2:25: \"general_settings.plugin_max_memory_mb\" must be a whole number of MiB, at least 1");
}

TEST_CASE("num_retries is a whole number 0..100; api_base reads os.environ/ as api_key does") {
  const auto deployment = [](const std::string &params) {
    return "model_list:\n  - model_name: a\n    litellm_params:\n      model: x/y\n" + params;
  };
  const config::Config c = config::parse(deployment("      num_retries: 100\n      api_base: os.environ/CFG_BASE\n"),
                                         "/c.yaml", env_of({{"CFG_BASE", "http://10.0.0.7:8000/v1"}}));
  REQUIRE(c.models.size() == 1);
  CHECK(c.models[0].deployments[0].num_retries == 100u);
  CHECK(c.models[0].deployments[0].api_base == "http://10.0.0.7:8000/v1");
  CHECK(
      config::parse(deployment("      num_retries: 0\n"), "/c.yaml", env_of({})).models[0].deployments[0].num_retries ==
      0u);
  for (const char *bad : {"101", "-1", "2.5", "many"}) {
    CAPTURE(bad);
    CHECK(error_of(deployment(std::string("      num_retries: ") + bad + "\n"))
              .find(":5:20: \"model_list[0].litellm_params.num_retries\"") != std::string::npos);
  }
  CHECK(error_of(deployment("      api_base: os.environ/CFG_UNSET_BASE\n")) ==
        "/cfg/config.yaml:5:17: \"model_list[0].litellm_params.api_base\": environment variable CFG_UNSET_BASE is not "
        "set");
}

TEST_CASE("plugin_removal_grace: seconds, 0 allowed, not negative") {
  CHECK(config::parse("general_settings:\n  plugin_removal_grace: 0\n", "/c.yaml", env_of({})).plugin_removal_grace_s ==
        0.0);
  CHECK(
      config::parse("general_settings:\n  plugin_removal_grace: 2.5\n", "/c.yaml", env_of({})).plugin_removal_grace_s ==
      2.5);
  CHECK(error_of("general_settings:\n  plugin_removal_grace: -1\n") ==
        "/cfg/config.yaml:2:25: \"general_settings.plugin_removal_grace\" must be a non-negative number");
}

TEST_CASE("serve: a model_list entry whose provider is not loaded is a warning naming the line, and a 404") {
  test::TempDir dir;
  const auto cfg = dir.path() / "config.yaml";
  write_file(cfg, "model_list:\n  - model_name: ghost\n    litellm_params:\n      model: nosuch/x\n");
  Server server({"--config", cfg.string()});
  CHECK(server.err().find("warning: " + cfg.string() + ":2: model \"ghost\" uses provider \"nosuch\", which is not " +
                          "loaded (requests get 404 until it is)") != std::string::npos);
  Client c(server.port());
  CHECK(c.post("/v1/chat/completions", chat_body("ghost", "hi")).status == 404);
}

TEST_CASE("max_connections: a whole number, at least 1") {
  CHECK(config::parse("general_settings:\n  max_connections: 64\n", "/c.yaml", env_of({})).limits.max_connections ==
        64u);
  CHECK(error_of("general_settings:\n  max_connections: 0\n") ==
        "/cfg/config.yaml:2:20: \"general_settings.max_connections\" must be at least 1");
  CHECK(error_of("general_settings:\n  max_connections: 2.5\n").find(":2:20:") != std::string::npos);
}

TEST_CASE("the shared limits config as docs/scale-out.md shows it, and redis_url's forms") {
  const std::string doc = read_file(std::filesystem::path(LLMHOST_SOURCE_DIR) / "docs/scale-out.md");
  const size_t start = doc.find("```yaml\n") + 8;
  const std::string yaml = doc.substr(start, doc.find("```", start) - start);
  const config::Config c = config::parse(
      yaml, "/c.yaml", env_of({{"OPENAI_API_KEY", "sk-x"}, {"REDIS_HOST", "10.0.0.5"}, {"REDIS_PASSWORD", "s3cret"}}));
  REQUIRE(c.router.redis);
  CHECK(c.router.redis->host == "10.0.0.5");
  CHECK(c.router.redis->port == 6379);
  CHECK(c.router.redis->password == "s3cret");
  CHECK(c.router.redis->timeout_s == 0.1);
  REQUIRE(c.models.size() == 1);
  CHECK(c.models[0].deployments[0].rpm == 60u);
  CHECK(c.models[0].deployments[0].tpm == 100000u);
  CHECK(c.warnings.empty());

  const auto url = [](const std::string &u) {
    return *config::parse("router_settings:\n  redis_url: " + u + "\n", "/c.yaml", env_of({})).router.redis;
  };
  const config::RedisSettings plain = url("redis://cache");
  CHECK(plain.host == "cache");
  CHECK(plain.port == 6379);
  CHECK(plain.password.empty());
  const config::RedisSettings full = url("redis://app:pw:with:colons@10.1.2.3:6380/2");
  CHECK(full.username == "app");
  CHECK(full.password == "pw:with:colons");
  CHECK(full.host == "10.1.2.3");
  CHECK(full.port == 6380);
  CHECK(full.db == 2u);
  CHECK(url("redis://:pw@[::1]:7000").host == "::1");
  CHECK(url("redis://:pw@[::1]:7000").port == 7000);
  CHECK(url("redis://:pw@[::1]:7000").password == "pw");
  CHECK(error_of("router_settings:\n  redis_url: cache:6379\n").find("it must start with redis://") !=
        std::string::npos);
  CHECK(error_of("router_settings:\n  redis_url: redis://cache/x\n").find("the database \"x\" is not a number") !=
        std::string::npos);
  CHECK(error_of("router_settings:\n  redis_host: cache\n  redis_timeout: 0\n")
            .find("\"router_settings.redis_timeout\" must be a number of seconds in (0, 60]") != std::string::npos);
}

TEST_CASE("the configs of docs/providers/ parse, each routing to its provider") {
  const std::vector<std::pair<std::string, std::string>> docs = {
      {"azure.md", "azure/"}, {"anthropic.md", "anthropic/"}, {"gemini.md", "gemini/"}};
  for (const auto &[file, prefix] : docs) {
    CAPTURE(file);
    const std::string doc = read_file(std::filesystem::path(LLMHOST_SOURCE_DIR) / "docs/providers" / file);
    const size_t start = doc.find("```yaml\n") + 8;
    const config::Config c =
        config::parse(doc.substr(start, doc.find("```", start) - start), "/c.yaml",
                      env_of({{"AZURE_API_KEY", "k"}, {"ANTHROPIC_API_KEY", "k"}, {"GEMINI_API_KEY", "k"}}));
    REQUIRE_FALSE(c.models.empty());
    for (const auto &g : c.models) CHECK(g.deployments[0].model.rfind(prefix, 0) == 0);
    CHECK(c.warnings.empty());
  }
}
