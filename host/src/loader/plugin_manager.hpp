// Keeps the registry in step with the plugin files: loads each file from a private copy,
// swaps new builds in, removes providers whose files are gone, and records what failed.
// Every load and swap is serialized here; calls never wait on it (they only read the
// registry), and a build that fails validation never replaces a working one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "llmhost/host.hpp"
#include "loader/plugin.hpp"
#include "loader/plugin_cache.hpp"
#include "loader/registry.hpp"

namespace llmhost::detail {

class PluginManager {
 public:
  using EventFn = std::function<void(const ReloadEvent &)>;
  // Loads one build: `file` as found, from `copy`, the private copy made of it. Throws
  // LoadException. Plugin::load, or a stand-in for a worker process (isolation/).
  using LoadFn =
      std::function<std::shared_ptr<Plugin>(const std::filesystem::path &file, const std::filesystem::path &copy)>;

  PluginManager(Registry &registry, std::shared_ptr<const HostServices> services, std::filesystem::path cache_dir,
                bool allow_untrusted, EventFn on_event, LoadFn load);

  // Brings one file in step: loads it when new, or changed (always, when `force`), removes its
  // provider when it is gone.
  void sync(const std::filesystem::path &file, bool force);
  // Syncs every plugin file of `dirs` plus `files`, and removes providers of vanished files.
  void rescan(const std::vector<std::filesystem::path> &dirs, const std::vector<std::filesystem::path> &files);

  std::vector<LoadError> errors() const;
  ReloadStats stats() const;

 private:
  // What identifies one build of a file on disk.
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileId &) const = default;
  };
  struct Serving {
    std::string name;
    std::string version;
    FileId id;
  };

  void sync_locked(const std::filesystem::path &file, bool force);
  void fail(const std::filesystem::path &file, LoadError error, const FileId &id,
            std::chrono::steady_clock::time_point t0);
  void set_error(LoadError error);
  void clear_error(const std::string &file);
  void emit(ReloadEvent::Kind kind, const std::string &file, const std::string &name, std::string old_version,
            std::string new_version, std::string message, std::chrono::steady_clock::time_point t0);

  Registry &registry_;
  std::shared_ptr<const HostServices> services_;
  PluginCache cache_;
  bool allow_untrusted_;
  EventFn on_event_;
  LoadFn load_;

  mutable std::mutex mu_;
  std::map<std::filesystem::path, Serving> serving_;  // files whose build is registered
  std::map<std::filesystem::path, FileId> failed_;    // builds that failed; not retried unchanged
  std::vector<LoadError> errors_;                     // one per refused file or folder
  ReloadStats stats_;
};

}  // namespace llmhost::detail
