// Keeps the registry in step with the plugin files: loads each file from a private copy,
// swaps new builds in, removes providers whose files are gone, and records what failed.
// Every load and swap is serialized here; calls never wait on it (they only read the
// registry), and a build that fails validation never replaces a working one.
//
// A file that disappears is not removed at once: its provider keeps serving for the removal
// grace, because most ways of replacing a file (`install`, `rm` + `cp`, a rename away and back,
// a folder swap) make it absent for a moment. A build of the same provider arriving meanwhile
// replaces it like any new build; a thread of the manager's own removes it when the grace ends.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
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
                bool allow_untrusted, std::chrono::milliseconds removal_grace, EventFn on_event, LoadFn load);

  // Brings one file in step: loads it when new or changed, and starts its provider's removal
  // grace when it is gone. `force`: the watcher saw it written, so a build that failed before
  // is tried again, and identical bytes under a new inode or time are loaded anew.
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
    static FileId of(const struct stat &st) {
      return {st.st_dev, st.st_ino, st.st_size, int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
    }
  };
  struct Serving {
    std::string name;
    std::string version;
    FileId id;
    size_t digest = 0;  // of the bytes loaded: a folder swap reloads only the builds that changed
    std::optional<std::chrono::steady_clock::time_point> gone_until;  // absent: removal due then
  };

  void sync_locked(const std::filesystem::path &file, bool force);
  void gone(std::map<std::filesystem::path, Serving>::iterator serving, std::chrono::steady_clock::time_point t0);
  void remove(std::map<std::filesystem::path, Serving>::iterator serving, std::chrono::steady_clock::time_point t0);
  // The removal timer: removes the providers whose grace ended and whose file is still absent.
  void expire_removals(std::stop_token stop);
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
  std::chrono::milliseconds removal_grace_;
  EventFn on_event_;
  LoadFn load_;

  mutable std::mutex mu_;
  std::map<std::filesystem::path, Serving> serving_;  // files whose build is registered
  std::map<std::filesystem::path, FileId> failed_;    // builds that failed; not retried unchanged
  std::vector<LoadError> errors_;                     // one per refused file or folder
  ReloadStats stats_;
  std::condition_variable_any removal_due_;  // a grace began
  std::jthread removal_timer_;               // last: stopped before the rest goes
};

}  // namespace llmhost::detail
