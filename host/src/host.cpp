#include "llmhost/host.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>

#include <llmhost/views.hpp>

#include "dispatch/abi_call.hpp"
#include "dispatch/async_call.hpp"
#include "dispatch/image_call.hpp"
#include "dispatch/model_name.hpp"
#include "dispatch/request_body.hpp"
#include "dispatch/thread_pool.hpp"
#include "http/asio.hpp"
#include "http/http_extension.hpp"
#include "isolation/isolated_plugin.hpp"
#include "loader/dir_watcher.hpp"
#include "loader/plugin_dirs.hpp"
#include "loader/plugin_manager.hpp"
#include "loader/plugin_trust.hpp"
#include "loader/registry.hpp"
#include "tokens/chat_tokens.hpp"
#include "tokens/encoding.hpp"
#include "tokens/tokens_extension.hpp"

namespace llmhost {

// Makes and reads Targets for the host's internals; the public API sees only provider/model.
struct detail::TargetAccess {
  static Target make(std::shared_ptr<const Plugin> plugin, std::string model) {
    return Target(std::move(plugin), std::move(model));
  }
  // The build a target pins; throws Error(400) for an empty Target.
  static const Plugin &pinned(const Target &target) {
    if (!target) throw Error(400, "llmhost: a call on an empty Target (resolve a model first)");
    return *target.plugin_;
  }
  static std::shared_ptr<const Plugin> &&plugin(Target &&target) { return std::move(target.plugin_); }
  static std::string &&model(Target &&target) { return std::move(target.model_); }
};

namespace {

using detail::TargetAccess;

// Lines below this level are dropped by default_log, so the HTTP service need not format them.
constexpr int kDefaultLogLevel = LLMH_LOG_WARN;

void default_log(int level, std::string_view provider, std::string_view message) {
  if (level < kDefaultLogLevel) return;
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
        dirs(options.plugin_dirs.empty() ? Host::default_plugin_dirs() : options.plugin_dirs),
        services(make_services(options.log ? options.log : default_log, options.log ? LLMH_LOG_DEBUG : kDefaultLogLevel,
                               options.provider_config, options.http_io_context, options.http_io_threads)),
        manager(
            registry, services, options.cache_dir, options.allow_untrusted_plugins, options.removal_grace,
            options.on_reload,
            [this](const std::filesystem::path &file, const std::filesystem::path &copy) { return load(file, copy); }),
        pool(pool_size(options.async_threads)) {
    services->usage_encoding = usage_encoding_lookup(options);  // checks default_encoding first
    services->extension =
        detail::extension_chain(services->extension, detail::tokens::make_tokens_extension(options.default_encoding));
    // Makes the deferred-unload reaper (a function-local static) before this Host, so that it
    // outlives even a Host with static storage.
    detail::wait_deferred_unloads();
    manager.rescan(dirs, options.plugin_files);
    if (options.watch)
      watcher.emplace(dirs, options.debounce, [this](const std::filesystem::path &file) {
        if (file.empty())
          manager.rescan(dirs, options.plugin_files);  // the kernel dropped events
        else
          manager.sync(file, true);
      });
  }

  // Which encoding counts a model's unreported usage; empty when none is counted. Throws
  // Error 400 for an unknown default encoding.
  static std::function<const detail::tokens::Encoding *(std::string_view)> usage_encoding_lookup(const HostOptions &o) {
    using detail::tokens::Encoding;
    const auto &names = Encoding::names();
    if (std::find(names.begin(), names.end(), o.default_encoding) == names.end()) {
      std::string known;
      for (std::string_view n : names) known += (known.empty() ? "" : ", ") + std::string(n);
      throw Error(400, "unknown default_encoding \"" + o.default_encoding + "\"; known: " + known);
    }
    if (!o.estimate_usage) return {};
    // Encodings load on their first count, not here: a Host that never counts never pays.
    return [fallback = o.default_encoding](std::string_view model) { return &Encoding::for_model(model, fallback); };
  }

  static std::shared_ptr<detail::HostServices> make_services(
      std::function<void(int, std::string_view, std::string_view)> log, int min_level,
      std::map<std::string, std::string> provider_config = {}, boost::asio::io_context *http_io = nullptr,
      unsigned http_io_threads = 0) {
    auto services = std::make_shared<detail::HostServices>();
    services->extension = detail::http::make_extension_lookup(
        log, min_level,
        http_io ? boost::asio::any_io_executor(http_io->get_executor()) : boost::asio::any_io_executor(),
        http_io_threads);
    services->log = std::move(log);
    services->config_for = [config = std::move(provider_config)](std::string_view name) {
      auto it = config.find(std::string(name));
      return it == config.end() ? std::string("{}") : it->second;
    };
    return services;
  }

  // Loads one build of `file` in process, or in a worker process when it is to be isolated.
  std::shared_ptr<detail::Plugin> load(const std::filesystem::path &file, const std::filesystem::path &copy) {
    auto it = options.plugin_isolation.find(file);
    const PluginIsolation &how = it == options.plugin_isolation.end() ? options.isolation : it->second;
    if (how.mode == Isolation::kInProcess) return detail::Plugin::load(file, copy, services);
    isolation::SupervisorSettings settings;
    static_cast<WorkerSettings &>(settings) = options.workers;
    settings.executable = worker_executable();
    settings.max_memory_mb = how.max_memory_mb;
    settings.default_encoding = options.default_encoding;
    if (options.http_io_context) settings.reader = options.http_io_context->get_executor();
    return isolation::load_isolated(file, copy, services, settings);
  }

  // The llmhost binary isolated plugins' workers run; throws LoadException when there is none.
  std::filesystem::path worker_executable() const {
    if (!options.workers.executable.empty()) return options.workers.executable;
    std::error_code ec;
    const std::filesystem::path beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "llmhost";
    if (!ec && ::access(beside.c_str(), X_OK) == 0) return beside;
    throw LoadException(LoadError{LoadErrorKind::kNotFound, beside.string(),
                                  "isolated plugins need the llmhost binary to run their workers, and " +
                                      beside.string() + " is not one (set HostOptions::workers.executable)"});
  }

  Target resolve(std::string_view model) const {
    const detail::ModelName name = detail::split_model(model);
    auto plugin = registry.find(name.provider);
    if (!plugin)
      throw Error(404, "provider \"" + std::string(name.provider) + "\" is not loaded (model \"" + std::string(model) +
                           "\"); loaded providers: " + join(registry.names()));
    return TargetAccess::make(std::move(plugin), std::string(name.model));
  }

  // Refuses a callback-form call before it reaches a plugin: 503 while the Host is being
  // destroyed (a handler starting a fallback then), 501 for a call the plugin does not offer.
  void admit(const detail::Plugin &plugin, uint64_t cap, const char *call) const {
    if (calls.stopping().stop_requested()) throw Error(503, "llmhost: the host is shutting down");
    detail::require(plugin, cap, call);
  }

  // Starts a callback-form call on `target`: refused (to `done`) before it reaches the plugin,
  // or on the plugin's asynchronous form when `async` says it has one (`start_async(plugin,
  // model, ...)`), else as a job running what `make_blocking()` returns. Exactly one of the two
  // is called, before this returns, so both may take from the caller's frame by reference.
  template <class Done, class StartAsync, class MakeBlocking>
  void start(Target target, Request &&request, Done done, std::stop_token cancel, const BlockingExecutor &run_blocking,
             uint64_t cap, const char *call, bool (*async)(const detail::Plugin &), StartAsync start_async,
             MakeBlocking make_blocking) {
    const detail::Plugin *plugin;
    try {
      plugin = &TargetAccess::pinned(target);
      admit(*plugin, cap, call);
    } catch (...) {
      return done(detail::current_error());
    }
    if (async(*plugin))
      return start_async(TargetAccess::plugin(std::move(target)), TargetAccess::model(std::move(target)),
                         std::move(request), std::move(done), std::move(cancel));
    run_job(run_blocking, std::move(target), std::move(request), std::move(done), std::move(cancel), make_blocking());
  }

  // Runs a blocking plugin call `blocking(plugin, request, stop)` of a callback-form call as a
  // job on `run_blocking` (empty: a Host worker) and hands its outcome, or its error, to `done`.
  template <class Done, class Blocking>
  void run_job(const BlockingExecutor &run_blocking, Target target, Request &&request, Done done,
               std::stop_token cancel, Blocking blocking) {
    // Shared, since a job must be copyable. The job keeps the target's pin: resolving again
    // could land on another build, and dropping it here could unload a replaced build on the
    // caller's thread.
    auto state = std::make_shared<std::pair<Request, Done>>(std::move(request), std::move(done));
    auto job = [state, target = std::move(target), cancel = std::move(cancel), blocking = std::move(blocking),
                hold = calls.hold(), stopping = calls.stopping()] {
      const detail::EitherStop stop(cancel, stopping);
      auto result = [&]() -> decltype(blocking(target, state->first, stop.token())) {
        try {
          return blocking(target, state->first, stop.token());
        } catch (...) {
          return detail::current_error();
        }
      }();
      state->second(std::move(result));
    };
    if (run_blocking)
      run_blocking(std::move(job));
    else
      pool.post(std::move(job));
  }

  ~Impl() {
    // Before any member goes: the calls in flight use the pool, the registry's plugins and the
    // HTTP service. Then the plugins their ends released inside plugin code are unloaded.
    calls.stop_and_wait();
    detail::wait_deferred_unloads();
  }

  HostOptions options;
  std::vector<std::filesystem::path> dirs;
  std::shared_ptr<detail::HostServices> services;
  Registry registry;
  detail::PluginManager manager;
  detail::ThreadPool pool;                    // joined before the registry goes: jobs use it
  std::optional<detail::DirWatcher> watcher;  // stopped first: it drives the manager
  detail::CallTracker calls;                  // callback-form calls in flight
};

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Host::~Host() = default;

const std::string &Target::provider() const { return plugin_->name(); }

namespace {
// A blocking stream on a resolved target.
void stream_on(const Target &target, const detail::Plugin &plugin, const Request &request,
               const ChunkCallback &on_chunk, std::stop_token cancel, detail::Form form = detail::Form::kChat) {
  std::string body_storage;
  const detail::Body body = detail::request_body(request, body_storage);
  const detail::CRequest creq(request, target.model(), body, plugin.reads_body_members());
  detail::call_stream(plugin, *creq.get(), on_chunk, std::move(cancel), &request, form);
}

// A blocking completion on a resolved target.
Response complete_on(const Target &target, const detail::Plugin &plugin, const Request &request, std::stop_token cancel,
                     detail::Form form = detail::Form::kChat) {
  std::string body_storage;
  const detail::Body body = detail::request_body(request, body_storage);
  const detail::CRequest creq(request, target.model(), body, plugin.reads_body_members());
  Response response = detail::call_complete(plugin, *creq.get(), std::move(cancel), form);
  detail::fill_defaults(response, request, plugin);
  return response;
}

// A text completion's prompts, one request each, made in turn. The request's timeout is the
// whole call's: each prompt gets what is left of it, and none starts past it (408).
class Prompts {
 public:
  explicit Prompts(const Request &request) : request_(request), start_(std::chrono::steady_clock::now()) {
    if (request.input.empty()) throw Error(400, "text completion request for \"" + request.model + "\" has no prompt");
  }
  size_t size() const { return request_.input.size(); }
  Request operator[](size_t i) const {
    Request one = detail::prompt_request(request_, i);
    if (request_.timeout_s > 0) {
      one.timeout_s =
          request_.timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      if (one.timeout_s <= 0)
        throw Error(408, "text completion for \"" + request_.model + "\" did not finish its " + std::to_string(size()) +
                             " prompts within the timeout of " + std::to_string(request_.timeout_s) + " s");
    }
    return one;
  }

 private:
  const Request &request_;
  const std::chrono::steady_clock::time_point start_;
};
}  // namespace

Target Host::resolve(std::string_view model) const { return impl_->resolve(model); }

namespace {
// The target `model` resolves to; when it resolves to none, `done` gets the error (the callback
// forms report every failure there) and the Target is empty.
template <class Done>
Target resolve_or_report(const Host &host, const std::string &model, Done &done) {
  try {
    return host.resolve(model);
  } catch (...) {
    done(detail::current_error());
    return {};
  }
}
}  // namespace

Response Host::complete(const Request &request, std::stop_token cancel) {
  return complete(resolve(request.model), request, std::move(cancel));
}

Response Host::complete(const Target &target, const Request &request, std::stop_token cancel) {
  return complete_on(target, TargetAccess::pinned(target), request, std::move(cancel));
}

void Host::complete(Request request, CompleteHandler done, std::stop_token cancel,
                    const BlockingExecutor &run_blocking) {
  if (Target target = resolve_or_report(*this, request.model, done))
    complete(std::move(target), std::move(request), std::move(done), std::move(cancel), run_blocking);
}

void Host::complete(Target target, Request request, CompleteHandler done, std::stop_token cancel,
                    const BlockingExecutor &run_blocking) {
  impl_->start(
      std::move(target), std::move(request), std::move(done), std::move(cancel), run_blocking, LLMH_CAP_COMPLETE,
      "complete", [](const detail::Plugin &p) { return p.async() != nullptr; },
      [this](auto plugin, std::string model, Request &&req, CompleteHandler d, std::stop_token stop) {
        detail::start_async_complete(std::move(plugin), std::move(model), std::move(req), std::move(d), std::move(stop),
                                     impl_->calls);
      },
      [] {
        return [](const Target &t, const Request &req, std::stop_token stop) -> CompleteResult {
          return complete_on(t, TargetAccess::pinned(t), req, std::move(stop));
        };
      });
}

void Host::stream(Request request, ChunkCallback on_chunk, StreamDoneHandler done, std::stop_token cancel,
                  const BlockingExecutor &run_blocking) {
  if (Target target = resolve_or_report(*this, request.model, done))
    stream(std::move(target), std::move(request), std::move(on_chunk), std::move(done), std::move(cancel),
           run_blocking);
}

void Host::stream(Target target, Request request, ChunkCallback on_chunk, StreamDoneHandler done,
                  std::stop_token cancel, const BlockingExecutor &run_blocking) {
  impl_->start(
      std::move(target), std::move(request), std::move(done), std::move(cancel), run_blocking, LLMH_CAP_STREAM,
      "stream", [](const detail::Plugin &p) { return p.async_stream() != nullptr; },
      [this, &on_chunk](auto plugin, std::string model, Request &&req, StreamDoneHandler d, std::stop_token stop) {
        detail::start_async_stream(std::move(plugin), std::move(model), std::move(req), std::move(on_chunk),
                                   std::move(d), std::move(stop), impl_->calls);
      },
      [&on_chunk] {
        return [on_chunk = std::move(on_chunk)](const Target &t, const Request &req,
                                                std::stop_token stop) -> std::optional<Error> {
          stream_on(t, TargetAccess::pinned(t), req, on_chunk, std::move(stop));
          return std::nullopt;
        };
      });
}

void Host::stream(const Request &request, const ChunkCallback &on_chunk, std::stop_token cancel) {
  stream(resolve(request.model), request, on_chunk, std::move(cancel));
}

void Host::stream(const Target &target, const Request &request, const ChunkCallback &on_chunk, std::stop_token cancel) {
  stream_on(target, TargetAccess::pinned(target), request, on_chunk, std::move(cancel));
}

EmbeddingResponse Host::embed(const Request &request, std::stop_token cancel) {
  return embed(resolve(request.model), request, std::move(cancel));
}

EmbeddingResponse Host::embed(const Target &target, const Request &request, std::stop_token cancel) {
  const detail::Plugin &plugin = TargetAccess::pinned(target);
  if (request.input.empty()) throw Error(400, "embedding request for \"" + request.model + "\" has no input");
  std::string body_storage;
  const detail::Body body = detail::request_body(request, body_storage);
  detail::CRequest creq(request, target.model(), body, plugin.reads_body_members());
  EmbeddingResponse response = detail::call_embed(plugin, *creq.get(), cancel);
  if (response.model.empty()) response.model = request.model;
  response.provider = target.provider();
  return response;
}

TextCompletion Host::complete_text(const Request &request, std::stop_token cancel) {
  return complete_text(resolve(request.model), request, std::move(cancel));
}

TextCompletion Host::complete_text(const Target &target, const Request &request, std::stop_token cancel) {
  const detail::Plugin &plugin = TargetAccess::pinned(target);
  const Prompts prompts(request);
  TextCompletion out;
  out.provider = target.provider();
  for (size_t i = 0; i < prompts.size(); ++i) {
    Response r = complete_on(target, plugin, prompts[i], cancel, detail::Form::kText);
    out.choices.push_back({std::move(r.content), std::move(r.finish_reason)});
    if (out.model.empty()) out.model = std::move(r.model);
    out.usage.prompt_tokens += r.usage.prompt_tokens;
    out.usage.completion_tokens += r.usage.completion_tokens;
    out.usage.total_tokens += r.usage.total_tokens;
    out.usage.estimated = out.usage.estimated || r.usage.estimated;
  }
  return out;
}

RerankResponse Host::rerank(const RerankRequest &request, std::stop_token cancel) {
  return rerank(resolve(request.request.model), request, std::move(cancel));
}

RerankResponse Host::rerank(const Target &target, const RerankRequest &r, std::stop_token cancel) {
  const detail::Plugin &plugin = TargetAccess::pinned(target);
  const Request &request = r.request;
  const std::string what = "rerank request for \"" + request.model + "\"";
  if (r.query.empty()) throw Error(400, what + " has no query");
  if (request.input.empty()) throw Error(400, what + " has no documents");
  const size_t top_n = r.top_n.value_or(request.input.size());
  if (top_n == 0 || top_n > request.input.size())
    throw Error(400, what + ": top_n " + std::to_string(top_n) + " is outside 1.." +
                         std::to_string(request.input.size()) + " (the number of documents)");
  std::string body_storage;
  const detail::Body body = detail::request_body(request, body_storage);
  const detail::CRequest creq(request, target.model(), body, plugin.reads_body_members());
  const llmh_rerank_request call{sizeof(llmh_rerank_request), creq.get(), llmh::str(r.query), top_n};
  RerankResponse response = detail::call_rerank(plugin, call, std::move(cancel));
  if (response.model.empty()) response.model = request.model;
  response.provider = target.provider();
  return response;
}

namespace {
// An images call on a resolved target, checked first.
ImageResponse images_on(const Target &target, const ImageRequest &r, std::stop_token cancel, bool edit) {
  const detail::Plugin &plugin = TargetAccess::pinned(target);
  const std::string what = std::string(edit ? "image edit" : "image") + " request for \"" + r.request.model + "\"";
  if (r.prompt.empty()) throw Error(400, what + " has no prompt");
  if (r.n < 1 || r.n > 10) throw Error(400, what + ": n is " + std::to_string(r.n) + ", outside 1..10");
  if (r.response_format != "url" && r.response_format != "b64_json")
    throw Error(400, what + ": response_format \"" + r.response_format + "\" is neither \"url\" nor \"b64_json\"");
  if (edit && r.images.empty()) throw Error(400, what + " has no image to edit");
  std::string body_storage;
  const detail::Body body = detail::request_body(r.request, body_storage);
  const detail::CRequest common(r.request, target.model(), body, plugin.reads_body_members());
  const detail::CImageRequest call(r, common.get());
  detail::PluginImages images = detail::call_images(plugin, *call.get(), std::move(cancel), edit);
  ImageResponse answer = detail::images_answer(std::move(images), r.response_format, target.provider());
  if (answer.model.empty()) answer.model = r.request.model;
  return answer;
}
}  // namespace

ImageResponse Host::generate_images(const ImageRequest &request, std::stop_token cancel) {
  return generate_images(resolve(request.request.model), request, std::move(cancel));
}
ImageResponse Host::generate_images(const Target &target, const ImageRequest &request, std::stop_token cancel) {
  return images_on(target, request, std::move(cancel), false);
}
ImageResponse Host::edit_images(const ImageRequest &request, std::stop_token cancel) {
  return edit_images(resolve(request.request.model), request, std::move(cancel));
}
ImageResponse Host::edit_images(const Target &target, const ImageRequest &request, std::stop_token cancel) {
  return images_on(target, request, std::move(cancel), true);
}

void Host::stream_text(const Request &request, const TextChunkCallback &on_chunk, std::stop_token cancel) {
  stream_text(resolve(request.model), request, on_chunk, std::move(cancel));
}

void Host::stream_text(const Target &target, const Request &request, const TextChunkCallback &on_chunk,
                       std::stop_token cancel) {
  const detail::Plugin &plugin = TargetAccess::pinned(target);
  const Prompts prompts(request);
  for (size_t i = 0; i < prompts.size(); ++i) {
    bool stopped = false;  // by the consumer: the later prompts are not started
    stream_on(
        target, plugin, prompts[i], [&](const Chunk &c) { return on_chunk(i, c) || (stopped = true, false); }, cancel,
        detail::Form::kText);
    if (stopped) return;
  }
}

namespace {
// Counts with `model`'s encoding; the text's UTF-8 error as Error 400.
template <class Count>
TokenCount count_with(std::string_view model, const std::string &fallback, Count count) {
  const detail::tokens::Encoding &e = detail::tokens::Encoding::for_model(model, fallback);
  try {
    return TokenCount{static_cast<int64_t>(count(e)), std::string(e.name())};
  } catch (const std::invalid_argument &bad) {
    throw Error(400, bad.what());
  }
}
}  // namespace

TokenCount Host::count_tokens(std::string_view model, std::string_view text) const {
  return count_with(model, impl_->options.default_encoding, [&](const auto &e) { return e.count(text); });
}

TokenCount Host::count_tokens(std::string_view model, std::span<const Message> messages) const {
  return count_with(model, impl_->options.default_encoding,
                    [&](const auto &e) { return detail::tokens::count_chat_prompt(e, messages); });
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

size_t Host::async_calls() const { return impl_->calls.async_calls(); }

bool Host::has_provider(std::string_view name) const { return impl_->registry.find(name) != nullptr; }

std::vector<LoadError> Host::load_errors() const { return impl_->manager.errors(); }

std::vector<WorkerStatus> Host::workers() const { return impl_->registry.workers(); }

void Host::reload() { impl_->manager.rescan(impl_->dirs, impl_->options.plugin_files); }

ReloadStats Host::reload_stats() const { return impl_->manager.stats(); }

ProviderInfo Host::check(const std::filesystem::path &file, bool allow_untrusted) {
  if (!allow_untrusted) detail::require_trusted(file);
  return detail::Plugin::load(file, file, Impl::make_services(default_log, kDefaultLogLevel))->info();
}

std::string_view to_string(ReloadEvent::Kind kind) noexcept {
  switch (kind) {
    case ReloadEvent::Kind::kLoaded: return "loaded";
    case ReloadEvent::Kind::kReplaced: return "replaced";
    case ReloadEvent::Kind::kRemoved: return "removed";
    case ReloadEvent::Kind::kFailed: return "failed";
    case ReloadEvent::Kind::kGone: return "gone";
  }
  return "unknown";
}

}  // namespace llmhost
