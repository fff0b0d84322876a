// Public model names -> deployments (config model_list), plus direct "provider/model" routing
// to loaded providers; and the /v1/models listing.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "llmhost/host.hpp"
#include "llmhost/types.hpp"
#include "routing/deployment_state.hpp"

namespace llmhost::routing {

// "provider" of "provider/model" ("" when there is no slash).
std::string provider_of(std::string_view model);

// Where one request may go, in the order to try them: the deployments of the name the client
// sent, in the order of router_settings' strategy (routing/strategy.hpp), then those of each of
// its fallback names in config order (each name's in strategy order). A direct
// "provider/model" route is a single attempt with no deployment, resolved when the route is made.
class Route {
 public:
  size_t size() const { return attempts_.size(); }
  // Attempt `i`'s deployment state; nullptr for the direct route, which has no limits.
  DeploymentState *state(size_t i) const { return attempts_[i]; }
  // Points `r` at attempt `i`: its model and the deployment's api_key, api_base, timeout,
  // num_retries and extra params, or the client's own values where the deployment sets none.
  // Returns the attempt's target: resolved now for a deployment (Error 404 when its provider is
  // not loaded), the route's own for the direct route.
  Target apply(size_t i, Request &r, const Host &host) const;
  // "provider/model" of attempt `i`, and its provider part, for messages and metrics.
  const std::string &model(size_t i) const;
  std::string provider(size_t i) const;
  // One past the last attempt of the same model name as attempt `i`.
  size_t group_end(size_t i) const {
    size_t end = i + 1;
    while (end < attempts_.size() && attempts_[i] && attempts_[end] && attempts_[end]->group() == attempts_[i]->group())
      ++end;
    return end;
  }
  // Moves attempt `j` to `i` (i <= j, the same model name), the ones between one later.
  void promote(size_t j, size_t i) {
    std::rotate(attempts_.begin() + static_cast<ptrdiff_t>(i), attempts_.begin() + static_cast<ptrdiff_t>(j),
                attempts_.begin() + static_cast<ptrdiff_t>(j) + 1);
  }

 private:
  friend class ModelTable;
  std::vector<DeploymentState *> attempts_;  // nullptr: the direct route
  Target direct_;                            // the direct route's target
  std::string direct_model_;                 // the name the client sent
  double timeout_s_ = 0;                     // the client's values, restored per attempt
  uint32_t num_retries_ = 0;
};

class ModelTable {
 public:
  explicit ModelTable(const config::Config &cfg);
  ModelTable(const ModelTable &) = delete;
  ModelTable &operator=(const ModelTable &) = delete;

  // The route for `r.model` (the name the client sent); r's timeout and num_retries are kept
  // as the client's defaults. Throws llmhost::Error(404) listing the available models when the
  // name is neither configured nor resolved by `host` to a loaded provider.
  Route route(const Request &r, const Host &host) const;

  // Appends the OpenAI `list` of models: the configured names, then (with direct routing)
  // "provider/model" for each model a provider declares, or "provider/*" when it declares none.
  void write_list(std::string &out, const std::vector<ProviderInfo> &loaded, int64_t created) const;

  std::vector<std::string> names(const std::vector<ProviderInfo> &loaded) const;

  // The "provider/model" a configured name's first deployment calls; `name` itself when it is
  // not configured. For counting tokens with the model that would answer.
  std::string_view first_model(std::string_view name) const;

  // Every configured deployment's state with its model name, in config order; for /metrics.
  template <class Fn>
  void each_deployment(Fn fn) const {
    for (const Group &g : groups_)
      for (const auto &s : g.states) fn(g.group.name, *s);
  }

 private:
  struct Group {
    config::ModelGroup group;
    std::vector<size_t> fallbacks;                         // indexes into groups_
    std::vector<std::unique_ptr<DeploymentState>> states;  // one per group.deployments entry
    std::unique_ptr<std::atomic<uint64_t>> turn = std::make_unique<std::atomic<uint64_t>>(0);  // round-robin
  };
  size_t index_of(std::string_view name) const;  // groups_.size() when not configured
  void append_ordered(const Group &g, Route &route) const;

  std::vector<Group> groups_;
  config::RouterSettings router_;
  bool direct_;
};

}  // namespace llmhost::routing
