// Public model names -> deployments (config model_list), plus direct "provider/model" routing
// to loaded providers; and the /v1/models listing.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "llmhost/types.hpp"

namespace llmhost::proxy {

class ModelTable {
 public:
  explicit ModelTable(const config::Config &cfg);

  // Points `r` (whose model is the name the client sent) at a deployment: sets model,
  // api_key, api_base, timeout, num_retries and extra_json. Several deployments behind one
  // name take turns. Returns the provider name. Throws llmhost::Error(404) listing the
  // available models when the name is neither configured nor a loaded provider's.
  std::string resolve(Request &r, const std::vector<ProviderInfo> &loaded) const;

  // Appends the OpenAI `list` of models: the configured names, then (with direct routing)
  // "provider/model" for each model a provider declares, or "provider/*" when it declares none.
  void write_list(std::string &out, const std::vector<ProviderInfo> &loaded, int64_t created) const;

  std::vector<std::string> names(const std::vector<ProviderInfo> &loaded) const;

 private:
  struct Group {
    config::ModelGroup group;
    std::unique_ptr<std::atomic<uint64_t>> next = std::make_unique<std::atomic<uint64_t>>(0);
  };
  std::vector<Group> groups_;
  bool direct_;
};

}  // namespace llmhost::proxy
