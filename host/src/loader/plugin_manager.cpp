#include "loader/plugin_manager.hpp"

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "loader/plugin_dirs.hpp"
#include "loader/plugin_trust.hpp"

namespace llmhost::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Tells one build's bytes from another's within this process.
size_t digest_of(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  return std::hash<std::string_view>{}(bytes);
}

std::string seconds(std::chrono::milliseconds d) {
  std::string s = std::to_string(static_cast<double>(d.count()) / 1000.0);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s + " s";
}

}  // namespace

PluginManager::PluginManager(Registry &registry, std::shared_ptr<const HostServices> services,
                             std::filesystem::path cache_dir, bool allow_untrusted,
                             std::chrono::milliseconds removal_grace, EventFn on_event, LoadFn load)
    : registry_(registry),
      services_(std::move(services)),
      cache_(std::move(cache_dir)),
      allow_untrusted_(allow_untrusted),
      removal_grace_(removal_grace),
      on_event_(std::move(on_event)),
      load_(std::move(load)),
      removal_timer_([this](std::stop_token stop) {
        pthread_setname_np(pthread_self(), "llmh-removals");
        expire_removals(stop);
      }) {}

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
    if (old != serving_.end() && !old->second.gone_until) gone(old, t0);
    return;
  }
  const FileId id = FileId::of(st);
  if (old != serving_.end()) {
    old->second.gone_until.reset();    // back, or a new build coming in
    if (old->second.id == id) return;  // the build serving it (renamed away and back, rescanned)
  }
  if (!force)
    if (auto f = failed_.find(file); f != failed_.end() && f->second == id) return;

  std::shared_ptr<Plugin> plugin;
  size_t digest = 0;
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
    digest = digest_of(copy);
    if (!force && old != serving_.end() && old->second.digest == digest) {
      old->second.id = id;  // the same build under another inode: a folder swap that left it as it was
      return;
    }
    plugin = load_(file, copy);
  } catch (const LoadException &e) {
    // A writer that began after the watcher's last look (the file changed while it was copied
    // and loaded) is not a broken build: its close brings the whole one.
    struct stat now {};
    if (::stat(file.c_str(), &now) == 0 && !(FileId::of(now) == id)) return;
    return fail(file, e.error(), id, t0);
  } catch (const std::filesystem::filesystem_error &e) {
    return fail(file,
                {LoadErrorKind::kNotFound, file.string(), "plugin " + file.string() + ": cannot copy: " + e.what()}, id,
                t0);
  }

  // Another file whose provider this build declares, gone (in its grace, or not yet seen to be:
  // a rename reports the new name and the old in either order): replaced by this one.
  const auto heir_to = std::find_if(serving_.begin(), serving_.end(), [&](const auto &s) {
    std::error_code ec;
    return s.first != file && s.second.name == plugin->name() &&
           (s.second.gone_until || !std::filesystem::is_regular_file(s.first, ec));
  });
  const std::string over = heir_to != serving_.end() ? heir_to->first.string() : std::string();
  if (auto holder = registry_.put(plugin, over))
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
  const bool replaced = old != serving_.end() || heir_to != serving_.end();
  if (heir_to != serving_.end()) {
    old_version = heir_to->second.version;
    serving_.erase(heir_to);
  }
  serving_[file] = Serving{plugin->name(), plugin->info().version, id, digest, std::nullopt};
  failed_.erase(file);
  clear_error(file.string());
  ++(replaced ? stats_.replaced : stats_.loaded);
  emit(replaced ? ReloadEvent::Kind::kReplaced : ReloadEvent::Kind::kLoaded, file.string(), plugin->name(), old_version,
       plugin->info().version, "", t0);
}

void PluginManager::gone(std::map<std::filesystem::path, Serving>::iterator serving, Clock::time_point t0) {
  if (removal_grace_.count() <= 0) return remove(serving, t0);
  serving->second.gone_until = Clock::now() + removal_grace_;
  ++stats_.gone;
  emit(ReloadEvent::Kind::kGone, serving->first.string(), serving->second.name, serving->second.version, "",
       "the file is gone; the provider keeps serving for " + seconds(removal_grace_) + " unless a build of it arrives",
       t0);
  removal_due_.notify_all();
}

void PluginManager::remove(std::map<std::filesystem::path, Serving>::iterator serving, Clock::time_point t0) {
  const std::string file = serving->first.string();
  const Serving was = serving->second;
  registry_.remove(was.name, file);
  serving_.erase(serving);
  ++stats_.removed;
  emit(ReloadEvent::Kind::kRemoved, file, was.name, was.version, "", "", t0);
}

void PluginManager::expire_removals(std::stop_token stop) {
  const auto in_grace = [this] {
    return std::any_of(serving_.begin(), serving_.end(), [](const auto &s) { return s.second.gone_until.has_value(); });
  };
  std::unique_lock lock(mu_);
  while (removal_due_.wait(lock, stop, in_grace)) {
    Clock::time_point next = Clock::time_point::max();
    for (const auto &[file, s] : serving_)
      if (s.gone_until) next = std::min(next, *s.gone_until);
    // Graces only begin later than the ones running, so none can end before `next`.
    removal_due_.wait_until(lock, stop, next, [] { return false; });
    if (stop.stop_requested()) break;
    const auto t0 = Clock::now();
    for (auto it = serving_.begin(); it != serving_.end();) {
      auto s = it++;
      if (!s->second.gone_until || *s->second.gone_until > t0) continue;
      s->second.gone_until.reset();
      struct stat st {};
      // Back, and being written or waiting for its debounce: the watcher (or reload()) loads it.
      if (::stat(s->first.c_str(), &st) == 0 && S_ISREG(st.st_mode)) continue;
      remove(s, t0);
    }
  }
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
