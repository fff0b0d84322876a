#include "llmhost/host.hpp"

#include <algorithm>
#include <iostream>
#include <mutex>

#include "abi_call.hpp"
#include "plugin_dirs.hpp"
#include "registry.hpp"
#include "request_body.hpp"
#include "router.hpp"
#include "thread_pool.hpp"

namespace llmhost {
namespace {

void default_log(int level, std::string_view provider, std::string_view message) {
  if (level < LLMH_LOG_WARN) return;
  static constexpr const char *kLevels[] = {"debug", "info", "warn", "error"};
  std::cerr << "llmhost: " << kLevels[std::clamp(level, 0, 3)] << ": "
            << (provider.empty() ? std::string_view() : provider) << (provider.empty() ? "" : ": ") << message << '\n';
}

unsigned pool_size(unsigned requested) {
  if (requested) return requested;
  return std::max(2u, std::thread::hardware_concurrency());
}

std::string join(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

struct Host::Impl {
  using Registry = detail::Registry;

  explicit Impl(HostOptions opts)
      : options(std::move(opts)),
        services(std::make_shared<detail::HostServices>()),
        pool(pool_size(options.async_threads)) {
    services->log = options.log ? options.log : default_log;
  }

  void load_all() {
    for (const auto &file : options.plugin_files) load_one(file);
    const auto dirs = options.plugin_dirs.empty() ? Host::default_plugin_dirs() : options.plugin_dirs;
    for (const auto &dir : dirs) {
      std::error_code ec;
      const auto files = detail::plugin_files_in(dir, ec);
      if (ec) {
        record({LoadErrorKind::kNotFound, dir.string(), "plugin folder " + dir.string() + ": " + ec.message()});
        continue;
      }
      for (const auto &file : files) load_one(file);
    }
  }

  void load_one(const std::filesystem::path &file) {
    try {
      auto plugin = detail::Plugin::load(file, file, services);
      if (auto holder = registry.add(plugin))
        record({LoadErrorKind::kDuplicateName, file.string(),
                "plugin " + file.string() + ": provider name \"" + plugin->name() + "\" is already registered by " +
                    *holder + "; this file is ignored"});
    } catch (const LoadException &e) {
      record(e.error());
    }
  }

  void record(LoadError error) {
    services->log(LLMH_LOG_ERROR, "", error.message);
    std::lock_guard lock(errors_mu);
    errors.push_back(std::move(error));
  }

  // Finds the plugin for request.model, pinned for the duration of the call.
  std::pair<Registry::PluginPtr, std::string_view> route(const Request &request) const {
    const detail::Route r = detail::split_model(request.model);
    auto plugin = registry.find(r.provider);
    if (!plugin)
      throw Error(404, "provider \"" + std::string(r.provider) + "\" is not loaded (model \"" + request.model +
                           "\"); loaded providers: " + join(registry.names()));
    return {std::move(plugin), r.model};
  }

  HostOptions options;
  std::shared_ptr<detail::HostServices> services;
  Registry registry;
  mutable std::mutex errors_mu;
  std::vector<LoadError> errors;
  detail::ThreadPool pool;  // last: joined first, while everything above is alive
};

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) { impl_->load_all(); }
Host::~Host() = default;

Response Host::complete(const Request &request, std::stop_token cancel) {
  auto [plugin, model] = impl_->route(request);
  const std::string body = detail::request_body(request);
  detail::CRequest creq(request, model, body);
  Response response = detail::call_complete(*plugin, *creq.get(), cancel);
  if (response.model.empty()) response.model = request.model;
  response.provider = plugin->name();
  return response;
}

void Host::stream(const Request &request, const ChunkCallback &on_chunk, std::stop_token cancel) {
  auto [plugin, model] = impl_->route(request);
  const std::string body = detail::request_body(request);
  detail::CRequest creq(request, model, body);
  detail::call_stream(*plugin, *creq.get(), on_chunk, cancel);
}

EmbeddingResponse Host::embed(const Request &request, std::stop_token cancel) {
  auto [plugin, model] = impl_->route(request);
  if (request.input.empty()) throw Error(400, "embedding request for \"" + request.model + "\" has no input");
  const std::string body = detail::request_body(request);
  detail::CRequest creq(request, model, body);
  EmbeddingResponse response = detail::call_embed(*plugin, *creq.get(), cancel);
  if (response.model.empty()) response.model = request.model;
  response.provider = plugin->name();
  return response;
}

namespace {
// Runs `fn` on the pool and hands its result or exception to the returned future.
template <class Fn>
auto post_async(detail::ThreadPool &pool, Fn fn) -> std::future<decltype(fn())> {
  auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
  auto future = task->get_future();
  pool.post([task] { (*task)(); });
  return future;
}
}  // namespace

std::future<Response> Host::complete_async(Request request, std::stop_token cancel) {
  return post_async(impl_->pool, [this, request = std::move(request), cancel] { return complete(request, cancel); });
}

std::future<void> Host::stream_async(Request request, ChunkCallback on_chunk, std::stop_token cancel) {
  return post_async(impl_->pool, [this, request = std::move(request), on_chunk = std::move(on_chunk), cancel] {
    stream(request, on_chunk, cancel);
  });
}

std::future<EmbeddingResponse> Host::embed_async(Request request, std::stop_token cancel) {
  return post_async(impl_->pool, [this, request = std::move(request), cancel] { return embed(request, cancel); });
}

std::vector<ProviderInfo> Host::providers() const { return impl_->registry.list(); }

std::vector<LoadError> Host::load_errors() const {
  std::lock_guard lock(impl_->errors_mu);
  return impl_->errors;
}

ProviderInfo Host::check(const std::filesystem::path &file) {
  auto services = std::make_shared<detail::HostServices>();
  services->log = default_log;
  return detail::Plugin::load(file, file, services)->info();
}

}  // namespace llmhost
