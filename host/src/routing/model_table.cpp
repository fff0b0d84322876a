#include "routing/model_table.hpp"

#include <map>

#include "json/writer.hpp"
#include "llmhost/errors.hpp"
#include "routing/shared_limits.hpp"
#include "routing/strategy.hpp"

namespace llmhost::routing {
std::string provider_of(std::string_view model) {
  const auto slash = model.find('/');
  return std::string(slash == std::string_view::npos ? std::string_view() : model.substr(0, slash));
}

Target Route::apply(size_t i, Request &r, const Host &host) const {
  if (!attempts_[i]) {
    r.model = direct_model_;
    return direct_;
  }
  const config::Deployment *d = &attempts_[i]->deployment();
  r.model = d->model;
  r.api_key = d->api_key;
  r.api_base = d->api_base;
  r.timeout_s = d->timeout_s > 0 ? d->timeout_s : timeout_s_;
  r.num_retries = d->num_retries.value_or(num_retries_);
  r.extra_json = d->extra_json;
  return host.resolve(d->model);
}

const std::string &Route::model(size_t i) const {
  return attempts_[i] ? attempts_[i]->deployment().model : direct_model_;
}

std::string Route::provider(size_t i) const { return provider_of(model(i)); }

ModelTable::ModelTable(const config::Config &cfg) : router_(cfg.router), direct_(cfg.direct_routing) {
  groups_.reserve(cfg.models.size());
  for (const config::ModelGroup &g : cfg.models) {
    Group &group = groups_.emplace_back(Group{g, {}, {}});
    std::map<std::string, int> seen;  // the same deployment twice in one name counts apart
    for (const config::Deployment &d : group.group.deployments) {
      std::string key = shared_key(g.name, d);
      if (const int n = seen[key]++) key += "#" + std::to_string(n + 1);
      group.states.push_back(std::make_unique<DeploymentState>(d, router_, group.group.deployments.size() == 1,
                                                               std::move(key), groups_.size() - 1));
    }
  }
  // config::parse has checked that every name in a fallback list is configured.
  for (const config::Fallback &f : cfg.fallbacks) {
    const size_t from = index_of(f.model);
    for (const std::string &to : f.to)
      if (from < groups_.size() && index_of(to) < groups_.size()) groups_[from].fallbacks.push_back(index_of(to));
  }
}

std::string_view ModelTable::first_model(std::string_view name) const {
  const size_t i = index_of(name);
  return i < groups_.size() && !groups_[i].group.deployments.empty() ? groups_[i].group.deployments.front().model
                                                                     : name;
}

size_t ModelTable::index_of(std::string_view name) const {
  size_t i = 0;
  while (i < groups_.size() && groups_[i].group.name != name) ++i;
  return i;
}

Route ModelTable::route(const Request &r, const Host &host) const {
  Route route;
  route.direct_model_ = r.model;
  route.timeout_s_ = r.timeout_s;
  route.num_retries_ = r.num_retries;
  if (const size_t i = index_of(r.model); i < groups_.size()) {
    size_t attempts = groups_[i].states.size();
    for (size_t f : groups_[i].fallbacks) attempts += groups_[f].states.size();
    route.attempts_.reserve(attempts);
    append_ordered(groups_[i], route);
    for (size_t f : groups_[i].fallbacks) append_ordered(groups_[f], route);
    return route;
  }
  if (direct_) {
    try {
      route.direct_ = host.resolve(r.model);
      route.attempts_.push_back(nullptr);
      return route;
    } catch (const Error &) {
      // Not a loaded provider's model either: the 404 below lists what there is.
    }
  }
  std::string available;
  for (const std::string &n : names(host.providers())) available += (available.empty() ? "" : ", ") + n;
  throw Error(404,
              "model \"" + r.model + "\" not found; available models: " + (available.empty() ? "(none)" : available));
}

void ModelTable::append_ordered(const Group &g, Route &route) const {
  const size_t start = route.attempts_.size();
  for (const auto &s : g.states) route.attempts_.push_back(s.get());
  order(router_.strategy, std::span(route.attempts_).subspan(start), *g.turn, Clock::now());
}

std::vector<std::string> ModelTable::names(const std::vector<ProviderInfo> &loaded) const {
  std::vector<std::string> out;
  for (const Group &g : groups_) out.push_back(g.group.name);
  if (!direct_) return out;
  for (const ProviderInfo &p : loaded) {
    if (p.models.empty()) out.push_back(p.name + "/*");
    for (const std::string &m : p.models) out.push_back(p.name + "/" + m);
  }
  return out;
}

void ModelTable::write_list(std::string &out, const std::vector<ProviderInfo> &loaded, int64_t created) const {
  json::Writer w(out);
  w.begin_object().member("object", "list").key("data").begin_array();
  auto entry = [&](const std::string &id, const std::string &owner) {
    w.begin_object()
        .member("id", id)
        .member("object", "model")
        .member("created", created)
        .member("owned_by", owner)
        .end_object();
  };
  for (const Group &g : groups_) entry(g.group.name, provider_of(g.group.deployments.front().model));
  if (direct_)
    for (const ProviderInfo &p : loaded) {
      if (p.models.empty()) entry(p.name + "/*", p.name);
      for (const std::string &m : p.models) entry(p.name + "/" + m, p.name);
    }
  w.end_array().end_object();
}

}  // namespace llmhost::routing
