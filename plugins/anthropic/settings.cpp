#include "settings.hpp"

namespace anthropic_plugin {
namespace {

llmh_plugins::RelayConfig read(std::string_view config_json) {
  simdjson::dom::parser parser;
  llmh_plugins::RelayConfig c(llmh_plugins::config_object(parser, config_json, "anthropic"), "anthropic");
  if (c.api_base.empty()) c.api_base = llmh_plugins::env("ANTHROPIC_BASE_URL");
  if (c.api_key.empty()) c.api_key = llmh_plugins::env("ANTHROPIC_API_KEY");
  return c;
}

}  // namespace

Settings::Settings(std::string_view config_json) : config_(read(config_json)) {}

Target Settings::target(const llmh::Request &request) const {
  Target t;
  std::string base(request.api_base());
  if (base.empty()) base = config_.api_base;
  if (base.empty()) base = kDefaultBase;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The SDKs take the origin; a base written with its "/v1", as OpenAI's are, works too.
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0) base.resize(base.size() - 3);
  t.url = base + "/v1/messages";
  config_.apply(t, request, "x-api-key");
  t.headers.emplace_back("anthropic-version", std::string(kApiVersion));
  return t;
}

}  // namespace anthropic_plugin
