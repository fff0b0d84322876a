#include "registry.hpp"

#include <mutex>

namespace llmhost::detail {

std::optional<std::string> Registry::add(PluginPtr plugin) {
  std::unique_lock lock(mu_);
  auto [it, inserted] = by_name_.try_emplace(plugin->name(), plugin);
  if (!inserted) return it->second->info().file;
  return std::nullopt;
}

Registry::PluginPtr Registry::find(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> Registry::names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto &[name, plugin] : by_name_) out.push_back(name);
  return out;
}

std::vector<ProviderInfo> Registry::list() const {
  std::shared_lock lock(mu_);
  std::vector<ProviderInfo> out;
  out.reserve(by_name_.size());
  for (const auto &[name, plugin] : by_name_) out.push_back(plugin->info());
  return out;
}

}  // namespace llmhost::detail
