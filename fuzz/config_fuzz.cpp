// llmhost::config::parse: serve's config.yaml (LiteLLM's shape). Only ConfigError may come
// out, and a config it accepts must hold what the server relies on. os.environ/ names resolve
// through a fake environment: FUZZ_SET is set, anything else is not.
// Input: the YAML text.
#include <cstring>
#include <string>

#include "config/config.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  const llmhost::config::EnvLookup env = [](const char *name) -> const char * {
    return std::strcmp(name, "FUZZ_SET") == 0 ? "sk-fuzz-secret" : nullptr;
  };
  try {
    const llmhost::config::Config c = llmhost::config::parse(text, "/nonexistent/llmhost-fuzz/config.yaml", env);
    for (const auto &g : c.models) {
      if (g.name.empty() || g.deployments.empty()) llmhost_fuzz::fail("config: an empty model group");
      for (const auto &d : g.deployments) {
        const size_t slash = d.model.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == d.model.size())
          llmhost_fuzz::fail("config: a deployment model that is not provider/model");
        if (d.timeout_s < 0 || (d.num_retries && *d.num_retries > 100))
          llmhost_fuzz::fail("config: a bad timeout/retries");
        if (!d.extra_json.empty() && (d.extra_json.front() != '{' || d.extra_json.back() != '}'))
          llmhost_fuzz::fail("config: extra_json is not an object");
      }
    }
    for (const auto &w : c.warnings) llmhost_fuzz::touch(std::string_view(w));
  } catch (const llmhost::config::ConfigError &e) {
    llmhost_fuzz::touch(std::string_view(e.what()));
  }
  return 0;
}
