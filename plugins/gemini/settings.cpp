#include "settings.hpp"

namespace gemini_plugin {
namespace {

llmh_plugins::RelayConfig read(std::string_view config_json) {
  simdjson::dom::parser parser;
  llmh_plugins::RelayConfig c(llmh_plugins::config_object(parser, config_json, "gemini"), "gemini");
  if (c.api_key.empty()) c.api_key = llmh_plugins::env("GEMINI_API_KEY");
  return c;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Settings::Settings(std::string_view config_json) : config_(read(config_json)) {}

Target Settings::target(const llmh::Request &request, std::string_view method) const {
  Target t;
  std::string base(request.api_base());
  if (base.empty()) base = config_.api_base;
  if (base.empty()) base = kDefaultBase;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string_view model = request.model();
  if (model.rfind("models/", 0) == 0) model.remove_prefix(7);
  t.url = base + (ends_with(base, "/v1beta") || ends_with(base, "/v1") ? "" : "/v1beta") + "/models/" +
          std::string(model) + ":" + std::string(method);
  config_.apply(t, request, "x-goog-api-key");
  return t;
}

}  // namespace gemini_plugin
