#include "proxy/models.hpp"

#include <algorithm>

#include "json_writer.hpp"
#include "llmhost/errors.hpp"

namespace llmhost::proxy {
namespace {

std::string provider_of(std::string_view model) {
  const auto slash = model.find('/');
  return std::string(slash == std::string_view::npos ? std::string_view() : model.substr(0, slash));
}

bool is_loaded(const std::vector<ProviderInfo> &loaded, std::string_view name) {
  return std::any_of(loaded.begin(), loaded.end(), [&](const ProviderInfo &p) { return p.name == name; });
}

}  // namespace

ModelTable::ModelTable(const config::Config &cfg) : direct_(cfg.direct_routing) {
  for (const config::ModelGroup &g : cfg.models) groups_.push_back(Group{g});
}

std::string ModelTable::resolve(Request &r, const std::vector<ProviderInfo> &loaded) const {
  for (const Group &g : groups_) {
    if (g.group.name != r.model) continue;
    const auto &ds = g.group.deployments;
    const config::Deployment &d = ds[g.next->fetch_add(1, std::memory_order_relaxed) % ds.size()];
    r.model = d.model;
    r.api_key = d.api_key;
    r.api_base = d.api_base;
    r.timeout_s = d.timeout_s;
    if (d.num_retries) r.num_retries = *d.num_retries;
    r.extra_json = d.extra_json;
    return provider_of(d.model);
  }
  const std::string provider = provider_of(r.model);
  if (direct_ && !provider.empty() && provider.size() + 1 < r.model.size() && is_loaded(loaded, provider))
    return provider;
  std::string available;
  for (const std::string &n : names(loaded)) available += (available.empty() ? "" : ", ") + n;
  throw Error(404, "model \"" + r.model + "\" not found; available models: " + (available.empty() ? "(none)" : available));
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
    w.begin_object().member("id", id).member("object", "model").member("created", created).member("owned_by", owner).end_object();
  };
  for (const Group &g : groups_) entry(g.group.name, provider_of(g.group.deployments.front().model));
  if (direct_)
    for (const ProviderInfo &p : loaded) {
      if (p.models.empty()) entry(p.name + "/*", p.name);
      for (const std::string &m : p.models) entry(p.name + "/" + m, p.name);
    }
  w.end_array().end_object();
}

}  // namespace llmhost::proxy
