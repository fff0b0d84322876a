// Provider name -> the plugin currently serving it. A call pins the plugin it found (a
// shared_ptr copy), so a plugin replaced or removed meanwhile is destroyed and unloaded only
// when its last call ends.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "loader/plugin.hpp"

namespace llmhost::detail {

class Registry {
 public:
  using PluginPtr = std::shared_ptr<const Plugin>;

  // Serves `plugin` under its name, replacing the plugin there when it came from the same
  // file (a new build) or from `over` (a file that is gone). When another file holds the name,
  // returns that file and changes nothing. The replaced plugin lives on while calls pin it.
  std::optional<std::string> put(PluginPtr plugin, std::string_view over = {});
  // Stops serving `name` if the plugin serving it came from `file`.
  void remove(std::string_view name, const std::string &file);
  // The plugin serving `name`, pinned; nullptr when none.
  PluginPtr find(std::string_view name) const;
  // Sorted names, and the listing of every registered provider sorted by name.
  std::vector<std::string> names() const;
  std::vector<ProviderInfo> list() const;
  // What the isolated plugins' workers are doing, sorted by provider name.
  std::vector<WorkerStatus> workers() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, PluginPtr, std::less<>> by_name_;
};

}  // namespace llmhost::detail
