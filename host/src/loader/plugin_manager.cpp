#include "loader/plugin_manager.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "loader/plugin_dirs.hpp"
#include "loader/plugin_trust.hpp"

namespace llmhost::detail {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

PluginManager::PluginManager(Registry &registry, std::shared_ptr<const HostServices> services,
                             std::filesystem::path cache_dir, bool allow_untrusted, EventFn on_event, LoadFn load)
    : registry_(registry),
      services_(std::move(services)),
      cache_(std::move(cache_dir)),
      allow_untrusted_(allow_untrusted),
      on_event_(std::move(on_event)),
      load_(std::move(load)) {}

void PluginManager::sync(const std::filesystem::path &file, bool force) {
  std::lock_guard lock(mu_);
  sync_locked(file, force);
}

void PluginManager::rescan(const std::vector<std::filesystem::path> &dirs,
                           const std::vector<std::filesystem::path> &files) {
  std::lock_guard lock(mu_);
  std::set<std::filesystem::path> seen;
  for (const auto &file : files) {
    seen.insert(file);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {  // named in config: its absence is an error
      set_error({LoadErrorKind::kNotFound, file.string(), "plugin " + file.string() + ": no such file"});
      continue;
    }
    sync_locked(file, false);
  }
  for (const auto &dir : dirs) {
    std::error_code ec;
    const auto in_dir = plugin_files_in(dir, ec);
    if (ec) {
      set_error({LoadErrorKind::kNotFound, dir.string(), "plugin folder " + dir.string() + ": " + ec.message()});
      continue;
    }
    clear_error(dir.string());
    for (const auto &file : in_dir) {
      seen.insert(file);
      sync_locked(file, false);
    }
  }
  // Files that served (or failed) before and are no longer there.
  std::vector<std::filesystem::path> gone;
  for (const auto &[file, s] : serving_)
    if (!seen.count(file)) gone.push_back(file);
  for (const auto &[file, id] : failed_)
    if (!seen.count(file)) gone.push_back(file);
  for (const auto &file : gone) sync_locked(file, false);
}

void PluginManager::sync_locked(const std::filesystem::path &file, bool force) {
  const auto t0 = Clock::now();
  struct stat st {};
  const auto old = serving_.find(file);
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    failed_.erase(file);
    clear_error(file.string());
    if (old == serving_.end()) return;
    registry_.remove(old->second.name, file.string());
    const Serving was = old->second;
    serving_.erase(old);
    ++stats_.removed;
    emit(ReloadEvent::Kind::kRemoved, file.string(), was.name, was.version, "", "", t0);
    return;
  }
  const FileId id{st.st_dev, st.st_ino, st.st_size, int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (!force) {
    if (old != serving_.end() && old->second.id == id) return;
    if (auto f = failed_.find(file); f != failed_.end() && f->second == id) return;
  }

  std::shared_ptr<Plugin> plugin;
  try {
    if (!allow_untrusted_) require_trusted(file);
    const auto copy = cache_.copy_in(file);
    struct Unlink {  // the mapping keeps the copy's inode alive; the name is not needed
      const std::filesystem::path &p;
      ~Unlink() {
        std::error_code ec;
        std::filesystem::remove(p, ec);
      }
    } unlink_copy{copy};
    plugin = load_(file, copy);
  } catch (const LoadException &e) {
    return fail(file, e.error(), id, t0);
  } catch (const std::filesystem::filesystem_error &e) {
    return fail(file,
                {LoadErrorKind::kNotFound, file.string(), "plugin " + file.string() + ": cannot copy: " + e.what()}, id,
                t0);
  }

  if (auto holder = registry_.put(plugin))
    return fail(file,
                {LoadErrorKind::kDuplicateName, file.string(),
                 "plugin " + file.string() + ": provider name \"" + plugin->name() + "\" is already registered by " +
                     *holder + "; this file is ignored"},
                id, t0);
  std::string old_version;
  if (old != serving_.end()) {
    old_version = old->second.version;
    if (old->second.name != plugin->name()) registry_.remove(old->second.name, file.string());
  }
  const bool replaced = old != serving_.end();
  serving_[file] = Serving{plugin->name(), plugin->info().version, id};
  failed_.erase(file);
  clear_error(file.string());
  ++(replaced ? stats_.replaced : stats_.loaded);
  emit(replaced ? ReloadEvent::Kind::kReplaced : ReloadEvent::Kind::kLoaded, file.string(), plugin->name(), old_version,
       plugin->info().version, "", t0);
}

void PluginManager::fail(const std::filesystem::path &file, LoadError error, const FileId &id, Clock::time_point t0) {
  failed_[file] = id;
  ++stats_.failed;
  const auto old = serving_.find(file);
  const std::string name = old != serving_.end() ? old->second.name : std::string();
  const std::string version = old != serving_.end() ? old->second.version : std::string();
  const std::string message = error.message;
  services_->log(LLMH_LOG_ERROR, "", message + (old != serving_.end() ? "; the previous build keeps serving" : ""));
  set_error(std::move(error));
  emit(ReloadEvent::Kind::kFailed, file.string(), name, version, "", message, t0);
}

void PluginManager::set_error(LoadError error) {
  clear_error(error.file);
  errors_.push_back(std::move(error));
}

void PluginManager::clear_error(const std::string &file) {
  std::erase_if(errors_, [&](const LoadError &e) { return e.file == file; });
}

void PluginManager::emit(ReloadEvent::Kind kind, const std::string &file, const std::string &name,
                         std::string old_version, std::string new_version, std::string message, Clock::time_point t0) {
  if (!on_event_) return;
  ReloadEvent ev{kind,
                 file,
                 name,
                 std::move(old_version),
                 std::move(new_version),
                 std::move(message),
                 std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)};
  on_event_(ev);
}

std::vector<LoadError> PluginManager::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

ReloadStats PluginManager::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace llmhost::detail
