#include "loader/registry.hpp"

#include <mutex>
#include <utility>

namespace llmhost::detail {

std::optional<std::string> Registry::put(PluginPtr plugin, std::string_view over) {
  PluginPtr replaced;  // released after the lock: its destruction may unload a library
  std::unique_lock lock(mu_);
  auto [it, inserted] = by_name_.try_emplace(plugin->name(), plugin);
  if (inserted) return std::nullopt;
  const std::string &holder = it->second->info().file;
  if (holder != plugin->info().file && (over.empty() || holder != over)) return holder;
  replaced = std::exchange(it->second, std::move(plugin));
  lock.unlock();
  return std::nullopt;
}

void Registry::remove(std::string_view name, const std::string &file) {
  PluginPtr removed;
  std::unique_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second->info().file != file) return;
  removed = std::move(it->second);
  by_name_.erase(it);
  lock.unlock();
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

std::vector<WorkerStatus> Registry::workers() const {
  std::vector<PluginPtr> isolated;
  {
    std::shared_lock lock(mu_);
    for (const auto &[name, plugin] : by_name_)
      if (plugin->worker()) isolated.push_back(plugin);
  }
  // Off the lock: a status takes its supervisor's lock.
  std::vector<WorkerStatus> out;
  out.reserve(isolated.size());
  for (const PluginPtr &p : isolated) out.push_back(p->worker()->status());
  return out;
}

}  // namespace llmhost::detail
