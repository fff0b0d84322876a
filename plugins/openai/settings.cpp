#include "settings.hpp"

#include <simdjson.h>

#include <cctype>

#include <llmhost/text.hpp>

#include "flavour.hpp"

namespace openai_plugin {
namespace {

// `text` percent-encoded for a URL path segment or query value (RFC 3986's unreserved kept).
std::string path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace

// The config's keys, then the environment's for what it leaves unset.
Settings::Read Settings::read(std::string_view config_json, Flavour flavour) {
  const bool azure = flavour == Flavour::kAzure;
  simdjson::dom::parser parser;
  const simdjson::dom::object obj = llmh_plugins::config_object(parser, config_json, OPENAI_PLUGIN_NAME);
  Read r{flavour, llmh_plugins::RelayConfig(obj, OPENAI_PLUGIN_NAME), {}};
  llmh_plugins::RelayConfig &c = r.config;
  if (c.api_base.empty()) c.api_base = llmh_plugins::env(azure ? "AZURE_API_BASE" : "OPENAI_BASE_URL");
  if (c.api_base.empty() && !azure) c.api_base = llmh_plugins::env("OPENAI_API_BASE");
  if (c.api_key.empty()) c.api_key = llmh_plugins::env(azure ? "AZURE_API_KEY" : "OPENAI_API_KEY");
  if (azure) {
    r.api_version = llmh_plugins::config_string(obj, "api_version", OPENAI_PLUGIN_NAME);
    if (r.api_version.empty()) r.api_version = llmh_plugins::env("AZURE_API_VERSION");
    if (r.api_version.empty()) r.api_version = kDefaultAzureVersion;
  } else if (const std::string org = llmh_plugins::config_string(obj, "organization", OPENAI_PLUGIN_NAME);
             !org.empty()) {
    c.headers.insert(c.headers.begin(), {"OpenAI-Organization", org});
  }
  return r;
}

Settings::Settings(std::string_view config_json, Flavour flavour) : Settings(read(config_json, flavour)) {}

Settings::Settings(Read r)
    : flavour_(r.flavour), config_(std::move(r.config)), api_version_(std::move(r.api_version)) {}

Target Settings::target(const llmh::Request &request, std::string_view endpoint) const {
  Target t;
  std::string_view base = request.api_base();
  if (base.empty()) base = config_.api_base;
  const bool azure = flavour_ == Flavour::kAzure;
  if (base.empty() && azure)
    throw llmh::Error(400, "azure: no api_base for deployment \"" + std::string(request.model()) +
                               "\": set its api_base to https://<resource>.openai.azure.com, or AZURE_API_BASE");
  if (base.empty()) base = kDefaultBase;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  if (azure) {
    const std::string version = request.body_string("api_version").value_or(api_version_);
    t.url.append(base).append("/openai/deployments/").append(path_segment(request.model())).append(endpoint);
    t.url.append("?api-version=").append(path_segment(version));
    config_.apply(t, request, "api-key");
  } else {
    t.url.reserve(base.size() + endpoint.size());  // one allocation: this runs on every call
    t.url.append(base).append(endpoint);
    // Local servers (vLLM, llama.cpp, Ollama) need no key: no Authorization at all then.
    config_.apply(t, request, "Authorization", "Bearer ");
  }
  return t;
}

}  // namespace openai_plugin
