// Where and how to reach the upstream: base URL, key and headers from the request, the
// instance config or the environment, in that order.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmhost/provider.hpp>

#include <llmhost/http.hpp>
#include "common/relay_config.hpp"

#include "flavour.hpp"

namespace openai_plugin {

inline constexpr std::string_view kDefaultBase = "https://api.openai.com/v1";
// Azure's current GA api-version, for a deployment that names none.
inline constexpr std::string_view kDefaultAzureVersion = "2024-10-21";

// One call's resolved target (llmhost/http.hpp). Holds the key: never log it or put it in
// a message.
using Target = llmh::HttpRequest;

class Settings {
 public:
  // Reads the instance config and the environment, once, at create time:
  // - openai: {"api_base", "api_key", "organization", "timeout", "extra_headers"|"headers":
  //   {name: value}}; OPENAI_BASE_URL, OPENAI_API_BASE, OPENAI_API_KEY.
  // - azure: the same (no organization) plus "api_version"; AZURE_API_BASE, AZURE_API_KEY,
  //   AZURE_API_VERSION.
  // Throws llmh::Error(400) for a config that is not a JSON object or has a wrongly typed key.
  explicit Settings(std::string_view config_json, Flavour flavour = kFlavour);

  // The target for `endpoint` ("/chat/completions", "/embeddings") of this request:
  // - openai: the base URL + endpoint, "Authorization: Bearer KEY" (none without a key);
  // - azure: the origin + /openai/deployments/<model>/ + endpoint + ?api-version=V (the
  //   request's api_version, else the config's, the environment's, kDefaultAzureVersion) and
  //   "api-key: KEY"; Error 400 when no api_base is set anywhere (Azure has no default).
  // Thread-safe (reads only).
  Target target(const llmh::Request &request, std::string_view endpoint) const;

 private:
  struct Read {
    Flavour flavour;
    llmh_plugins::RelayConfig config;
    std::string api_version;
  };
  static Read read(std::string_view config_json, Flavour flavour);
  explicit Settings(Read r);

  Flavour flavour_;
  llmh_plugins::RelayConfig config_;  // api_base from the environment too; "" = kDefaultBase (openai)
  std::string api_version_;           // azure
};

}  // namespace openai_plugin
