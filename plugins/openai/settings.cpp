#include "settings.hpp"

#include <simdjson.h>

#include <cctype>
#include <cstdlib>

#include <llmhost/text.hpp>

#include "flavour.hpp"

namespace openai_plugin {
namespace {

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

[[noreturn]] void bad_config(const std::string &why) { throw llmh::Error(400, OPENAI_PLUGIN_NAME " config: " + why); }

std::string string_member(simdjson::dom::object &obj, const char *key) {
  simdjson::dom::element e;
  if (obj[key].get(e)) return {};
  if (e.is_null()) return {};
  std::string_view s;
  if (e.get(s)) bad_config(std::string("\"") + key + "\" must be a string");
  return std::string(s);
}

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

Settings::Settings(std::string_view config_json, Flavour flavour) : flavour_(flavour) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(config_json.data(), config_json.size(), true).get(obj)) bad_config("not a JSON object");
  const bool azure = flavour_ == Flavour::kAzure;
  api_base_ = string_member(obj, "api_base");
  if (api_base_.empty()) api_base_ = env(azure ? "AZURE_API_BASE" : "OPENAI_BASE_URL");
  if (api_base_.empty() && !azure) api_base_ = env("OPENAI_API_BASE");
  api_key_ = string_member(obj, "api_key");
  if (api_key_.empty()) api_key_ = env(azure ? "AZURE_API_KEY" : "OPENAI_API_KEY");
  if (azure) {
    api_version_ = string_member(obj, "api_version");
    if (api_version_.empty()) api_version_ = env("AZURE_API_VERSION");
    if (api_version_.empty()) api_version_ = kDefaultAzureVersion;
  } else if (const std::string org = string_member(obj, "organization"); !org.empty()) {
    headers_.emplace_back("OpenAI-Organization", org);
  }
  simdjson::dom::element timeout;
  if (!obj["timeout"].get(timeout) && !timeout.is_null() && timeout.get(timeout_s_))
    bad_config("\"timeout\" must be a number of seconds");
  for (const char *key : {"headers", "extra_headers"}) {
    simdjson::dom::element e;
    if (obj[key].get(e) || e.is_null()) continue;
    simdjson::dom::object headers;
    if (e.get(headers)) bad_config(std::string("\"") + key + "\" must be an object of strings");
    for (auto [name, value] : headers) {
      std::string_view v;
      if (value.get(v)) bad_config(std::string("header \"") + std::string(name) + "\" must be a string");
      headers_.emplace_back(std::string(name), std::string(v));
    }
  }
}

Target Settings::target(const llmh::Request &request, std::string_view endpoint) const {
  Target t;
  std::string base(request.api_base());
  if (base.empty()) base = api_base_;
  const bool azure = flavour_ == Flavour::kAzure;
  if (base.empty() && azure)
    throw llmh::Error(400, "azure: no api_base for deployment \"" + std::string(request.model()) +
                               "\": set its api_base to https://<resource>.openai.azure.com, or AZURE_API_BASE");
  if (base.empty()) base = kDefaultBase;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (azure) {
    const std::string version = request.body_string("api_version").value_or(api_version_);
    t.url = base + "/openai/deployments/" + path_segment(request.model()) + std::string(endpoint) +
            "?api-version=" + path_segment(version);
  } else {
    t.url = base + std::string(endpoint);
  }
  t.shown_url = llmh::redact_url(t.url);

  std::string_view key = request.api_key();
  if (key.empty()) key = api_key_;
  // Local servers (vLLM, llama.cpp, Ollama) need no key: send no Authorization at all then.
  if (!key.empty() && azure) t.headers.emplace_back("api-key", std::string(key));
  if (!key.empty() && !azure) t.headers.emplace_back("Authorization", "Bearer " + std::string(key));
  if (!key.empty()) t.secrets.emplace_back(key);
  t.headers.emplace_back("Content-Type", "application/json");
  for (const auto &h : headers_) t.headers.push_back(h);
  for (const auto &h : headers_)
    if (h.second.size() >= 8) t.secrets.push_back(h.second);
  t.timeout_s = request.timeout_s() > 0 ? request.timeout_s() : timeout_s_;
  t.num_retries = request.num_retries();
  return t;
}

}  // namespace openai_plugin
