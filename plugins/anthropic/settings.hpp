// Where and how to reach Anthropic's Messages API: the origin, the key (x-api-key) and the
// API version, from the request, the instance config or the environment, in that order.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmhost/provider.hpp>

#include <llmhost/http.hpp>
#include "common/relay_config.hpp"

namespace anthropic_plugin {

inline constexpr std::string_view kDefaultBase = "https://api.anthropic.com";
inline constexpr std::string_view kApiVersion = "2023-06-01";  // the anthropic-version header

using Target = llmh::HttpRequest;

class Settings {
 public:
  // Reads the instance config (common/relay_config.hpp) and the environment
  // (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY), once, at create time. Throws llmh::Error(400) for a
  // config that is not a JSON object or has a wrongly typed key.
  explicit Settings(std::string_view config_json);

  // <origin>/v1/messages with x-api-key and anthropic-version. The origin is the request's
  // api_base, else the config's, ANTHROPIC_BASE_URL, kDefaultBase; a trailing "/v1" is accepted
  // too. Thread-safe (reads only).
  Target target(const llmh::Request &request) const;

 private:
  llmh_plugins::RelayConfig config_;
};

}  // namespace anthropic_plugin
