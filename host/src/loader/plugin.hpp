// One loaded build of a provider: the mapped library, its validated descriptor, its instance,
// and the host services table handed to it. Destroying a Plugin destroys the instance and then
// unmaps the library, so a Plugin must outlive every call into it (callers pin it with a
// shared_ptr; see registry.hpp).
#pragma once

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "llmhost/async.h"
#include "llmhost/errors.hpp"
#include "llmhost/images.h"
#include "llmhost/provider.h"
#include "llmhost/rerank.h"
#include "llmhost/text_completion.h"
#include "llmhost/types.hpp"
#include "loader/extension_lookup.hpp"
#include "loader/plugin_reaper.hpp"

namespace llmhost::detail {

namespace tokens {
class Encoding;
}

// What the host offers every plugin; shared by all plugins of one Host.
struct HostServices {
  std::function<void(int level, std::string_view provider, std::string_view message)> log;
  // Extension tables by id ("llmhost.http.v1", ...); NULL when not offered.
  ExtensionLookup extension;
  // The JSON object handed to create() of provider `name`; "{}" when unset.
  std::function<std::string(std::string_view name)> config_for;
  // The encoding that counts the usage a provider did not report for `model`; null (or unset:
  // a worker process, where the host counts instead) when usage is not estimated.
  std::function<const tokens::Encoding *(std::string_view model)> usage_encoding;
};

// What the host knows of a plugin that runs in a worker process (isolation/): implemented there,
// read here so that listings need not know how.
class PluginWorker {
 public:
  virtual ~PluginWorker() = default;
  // Any thread.
  virtual WorkerStatus status() const = 0;
};

class Plugin {
 public:
  // Loads `load_path` (a file, or a private copy of `file`), validates the descriptor and
  // creates the instance with services->config_for(name), then takes its asynchronous call
  // table if it offers one. Errors name `file`. Throws LoadException. The last pin of the
  // returned plugin may be dropped on any thread, including inside a callback the plugin is
  // running (see CallingPlugin and InsidePlugin).
  static std::shared_ptr<Plugin> load(const std::filesystem::path &file, const std::filesystem::path &load_path,
                                      std::shared_ptr<const HostServices> services);
  // A plugin whose descriptor the host implements itself: an isolated plugin's stand-in, whose
  // calls go to a worker process. `descriptor` and `instance` (already created) live in
  // `owner`, which the Plugin keeps until after destroy(instance); `info` is what it lists,
  // `worker` what it reports of its worker; `services` the Host's. Throws LoadException for an
  // invalid descriptor.
  static std::shared_ptr<Plugin> host_implemented(const std::filesystem::path &file, const llmh_provider *descriptor,
                                                  void *instance, ProviderInfo info,
                                                  std::shared_ptr<const PluginWorker> worker,
                                                  std::shared_ptr<void> owner,
                                                  std::shared_ptr<const HostServices> services);
  ~Plugin();
  Plugin(const Plugin &) = delete;
  Plugin &operator=(const Plugin &) = delete;

  const llmh_provider &descriptor() const { return *desc_; }
  // Whether the plugin reads llmh_request.body_members (LLMH_CAP_BODY_MEMBERS), so that the
  // host lists them for it.
  bool reads_body_members() const { return (desc_->capabilities & LLMH_CAP_BODY_MEMBERS) != 0; }
  void *instance() const { return instance_; }
  const ProviderInfo &info() const { return info_; }
  const HostServices &services() const { return *services_; }
  // The worker of an isolated plugin; nullptr for one loaded in process.
  const PluginWorker *worker() const { return worker_.get(); }
  const std::string &name() const { return info_.name; }
  // The plugin's "llmhost.async.v1" table (validated), or nullptr when it has none.
  const llmh_async_provider *async() const { return async_; }
  // The table's stream_async (ABI 1.2), or nullptr when the plugin has none.
  auto async_stream() const {
    return async_ && LLMH_HAS_FIELD(async_, llmh_async_provider, stream_async) ? async_->stream_async : nullptr;
  }
  // The plugin's "llmhost.text_completion.v1" table (validated), or nullptr when it has none.
  const llmh_text_completion_provider *text_completion() const { return text_; }
  // The plugin's "llmhost.rerank.v1" table (validated), or nullptr when it has none.
  const llmh_rerank_provider *rerank() const { return rerank_; }
  // The plugin's "llmhost.images.v1" table (validated), or nullptr when it has none.
  const llmh_images_provider *images() const { return images_; }

 private:
  Plugin() = default;
  static void host_log(const llmh_host_api *api, llmh_log_level level, llmh_str message);
  static const void *host_extension(const llmh_host_api *api, const char *id);
  // Takes the plugin's extension tables (text completions, rerank, images), validated; throws
  // LoadException naming `file` for a broken one.
  void take_extensions(const std::filesystem::path &file);

  boost::dll::shared_library library_;
  const llmh_provider *desc_ = nullptr;
  void *instance_ = nullptr;
  bool created_ = false;
  ProviderInfo info_;
  std::shared_ptr<const HostServices> services_;
  llmh_host_api api_{};
  const llmh_async_provider *async_ = nullptr;
  const llmh_text_completion_provider *text_ = nullptr;
  const llmh_rerank_provider *rerank_ = nullptr;
  const llmh_images_provider *images_ = nullptr;
  std::shared_ptr<const PluginWorker> worker_;
  std::shared_ptr<void> owner_;  // a host-implemented descriptor and its instance
};

// Checks a descriptor as the loader does before create(): struct size, ABI major, name,
// create and a function for every declared capability. Throws LoadException naming `file`.
void validate_descriptor(const llmh_provider *descriptor, const std::filesystem::path &file);

// Validates a provider name: [a-z0-9_.-]{1,64}.
bool valid_provider_name(std::string_view name);

}  // namespace llmhost::detail
