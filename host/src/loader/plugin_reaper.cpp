// Deferred destruction of plugins whose last pin drops while a thread runs inside the plugin:
// the asynchronous form ends a call from inside the plugin's own code (llmh_call_done.finish),
// and a plugin replaced meanwhile must not be unloaded under those frames. On a host thread
// that called into the plugin (CallingPlugin) the plugin is destroyed once that outermost call
// has returned; on a thread of the plugin's own, by one reaper thread (started on first use,
// joined at exit): the plugin's destroy joins its threads before the library is unmapped.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "loader/plugin.hpp"
#include "loader/plugin_reaper.hpp"

namespace llmhost::detail {
namespace {

thread_local int t_calling = 0;        // CallingPlugin scopes open on this thread
thread_local int t_plugin_frames = 0;  // InsidePlugin scopes open on this thread
// Released inside a CallingPlugin scope; destroyed when the outermost one ends. The vector
// belongs to the host (a thread_local in a plugin would pin it, see plugin-guide).
thread_local std::vector<Plugin *> t_released;
// Handles kept until the outermost CallingPlugin scope ends, after t_released (see
// release_after_plugin_frames).
thread_local std::vector<std::shared_ptr<void>> t_kept;

// Every deferred unload, wherever it waits (a thread's t_released or the reaper thread).
class Reaper {
 public:
  static Reaper &instance() {
    static Reaper reaper;
    return reaper;
  }

  // A plugin now waits in some thread's t_released; deleted() when it is gone.
  void deferred() {
    std::lock_guard lock(mu_);
    ++waiting_;
  }
  void deleted() {
    std::lock_guard lock(mu_);
    if (--waiting_ == 0) idle_.notify_all();
  }

  void defer(Plugin *plugin) {
    std::lock_guard lock(mu_);
    ++waiting_;
    pending_.push_back(plugin);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    wake_.notify_all();
  }

  void wait_idle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return waiting_ == 0; });
  }

  ~Reaper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and nothing left to unload
      std::vector<Plugin *> batch;
      batch.swap(pending_);
      lock.unlock();
      for (Plugin *p : batch) delete p;
      lock.lock();
      waiting_ -= batch.size();
      if (waiting_ == 0) idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::vector<Plugin *> pending_;  // for the reaper thread
  size_t waiting_ = 0;             // deferred and not yet deleted, on any thread
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

CallingPlugin::CallingPlugin() { ++t_calling; }
CallingPlugin::~CallingPlugin() {
  if (--t_calling > 0) return;
  std::vector<Plugin *> released;
  released.swap(t_released);
  for (Plugin *p : released) {
    delete p;
    Reaper::instance().deleted();
  }
  std::vector<std::shared_ptr<void>> kept;
  kept.swap(t_kept);
}

void release_after_plugin_frames(std::shared_ptr<void> handle) {
  if (t_calling > 0) t_kept.push_back(std::move(handle));
}

InsidePlugin::InsidePlugin() { ++t_plugin_frames; }
InsidePlugin::~InsidePlugin() { --t_plugin_frames; }

void delete_plugin(Plugin *plugin) {
  if (t_calling > 0) {
    Reaper::instance().deferred();
    t_released.push_back(plugin);
  } else if (t_plugin_frames > 0)
    Reaper::instance().defer(plugin);
  else
    delete plugin;
}

void wait_deferred_unloads() { Reaper::instance().wait_idle(); }

}  // namespace llmhost::detail
