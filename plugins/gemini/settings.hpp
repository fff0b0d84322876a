// Where and how to reach the Gemini API: the origin, the key (x-goog-api-key), from the request,
// the instance config or the environment, in that order.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmhost/provider.hpp>

#include <llmhost/http.hpp>
#include "common/relay_config.hpp"

namespace gemini_plugin {

inline constexpr std::string_view kDefaultBase = "https://generativelanguage.googleapis.com";

using Target = llmh::HttpRequest;

class Settings {
 public:
  // Reads the instance config (common/relay_config.hpp) and the environment (GEMINI_API_KEY),
  // once, at create time. Throws llmh::Error(400) for a config that is not a JSON object or has
  // a wrongly typed key.
  explicit Settings(std::string_view config_json);

  // <origin>/v1beta/models/<model>:<method> (the model and method percent-encoded where
  // needed), with x-goog-api-key. The origin is the request's api_base, else the config's, else
  // kDefaultBase; a base that already ends in a version ("/v1beta", "/v1") keeps it.
  // Thread-safe (reads only).
  Target target(const llmh::Request &request, std::string_view method) const;

 private:
  llmh_plugins::RelayConfig config_;
};

}  // namespace gemini_plugin
