#include "settings.hpp"

#include <simdjson.h>

#include <cstdlib>

#include <llmhost/text.hpp>

namespace anthropic_plugin {
namespace {

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

[[noreturn]] void bad_config(const std::string &why) { throw llmh::Error(400, "anthropic config: " + why); }

std::string string_member(simdjson::dom::object &obj, const char *key) {
  simdjson::dom::element e;
  if (obj[key].get(e) || e.is_null()) return {};
  std::string_view s;
  if (e.get(s)) bad_config(std::string("\"") + key + "\" must be a string");
  return std::string(s);
}

}  // namespace

Settings::Settings(std::string_view config_json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(config_json.data(), config_json.size(), true).get(obj)) bad_config("not a JSON object");
  api_base_ = string_member(obj, "api_base");
  if (api_base_.empty()) api_base_ = env("ANTHROPIC_BASE_URL");
  api_key_ = string_member(obj, "api_key");
  if (api_key_.empty()) api_key_ = env("ANTHROPIC_API_KEY");
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

Target Settings::target(const llmh::Request &request) const {
  Target t;
  std::string base(request.api_base());
  if (base.empty()) base = api_base_;
  if (base.empty()) base = kDefaultBase;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The SDKs take the origin; a base written with its "/v1", as OpenAI's are, works too.
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0) base.resize(base.size() - 3);
  t.url = base + "/v1/messages";
  t.shown_url = llmh::redact_url(t.url);
  std::string_view key = request.api_key();
  if (key.empty()) key = api_key_;
  if (!key.empty()) {
    t.headers.emplace_back("x-api-key", std::string(key));
    t.secrets.emplace_back(key);
  }
  t.headers.emplace_back("anthropic-version", std::string(kApiVersion));
  t.headers.emplace_back("Content-Type", "application/json");
  for (const auto &h : headers_) {
    t.headers.push_back(h);
    if (h.second.size() >= 8) t.secrets.push_back(h.second);
  }
  t.timeout_s = request.timeout_s() > 0 ? request.timeout_s() : timeout_s_;
  t.num_retries = request.num_retries();
  return t;
}

}  // namespace anthropic_plugin
