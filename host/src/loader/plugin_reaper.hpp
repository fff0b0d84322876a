// When a loaded Plugin may be destroyed: its deleter, and the scopes that mark a thread as
// running plugin code. Light on purpose: the HTTP service includes it for its callbacks.
#pragma once

#include <memory>

namespace llmhost::detail {

class Plugin;

// Destroys `plugin` now, at the end of the outermost CallingPlugin scope, or on the reaper
// thread (inside an InsidePlugin scope only).
void delete_plugin(Plugin *plugin);

// The scopes below keep a plugin mapped while a thread may still run its code. A plugin whose
// last pin is dropped inside one is destroyed and unloaded later, when that is safe.
//
// CallingPlugin: a host thread calls into plugin code that may end an asynchronous call (the
// HTTP service calling a request's done, on_line or cancelled). A plugin released meanwhile is
// destroyed on this thread when the outermost CallingPlugin scope ends.
class CallingPlugin {
 public:
  CallingPlugin();
  ~CallingPlugin();
  CallingPlugin(const CallingPlugin &) = delete;
  CallingPlugin &operator=(const CallingPlugin &) = delete;
};

// InsidePlugin: the current thread is in a host function a plugin called (llmh_call_done.
// finish), possibly on a thread of the plugin's own. Outside any CallingPlugin scope, a plugin
// released meanwhile is destroyed on a reaper thread; its destroy joins the plugin's threads.
class InsidePlugin {
 public:
  InsidePlugin();
  ~InsidePlugin();
  InsidePlugin(const InsidePlugin &) = delete;
  InsidePlugin &operator=(const InsidePlugin &) = delete;
};

// Drops `handle` once this thread has left plugin code: at the end of the outermost
// CallingPlugin scope, or now outside one. For what a waiting ~Host must not see released while
// the HTTP loop still returns through a plugin's frames (the Host would then unload it).
void release_after_plugin_frames(std::shared_ptr<void> handle);

// Waits until every plugin whose unload was deferred (by any thread) is destroyed and
// unloaded. Any thread outside CallingPlugin and InsidePlugin scopes.
void wait_deferred_unloads();

}  // namespace llmhost::detail
