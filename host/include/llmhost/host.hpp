// llmhost::Host: the embeddable gateway. Loads provider plugins from folders, routes
// "provider/model" to them and dispatches calls across the C ABI.
//
// Thread safety: every member function may be called concurrently from any thread once the
// Host is constructed. Callbacks (stream chunks) run on the thread that executes the call:
// the caller's for the blocking forms, a Host worker for the async forms.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <variant>
#include <vector>

#include "llmhost/errors.hpp"
#include "llmhost/types.hpp"

namespace boost::asio {
class io_context;
}

namespace llmhost {
namespace detail {
class Plugin;
struct TargetAccess;  // how the host's internals make and read a Target
}  // namespace detail

// What a (re)load did to one plugin file; handed to HostOptions::on_reload.
struct ReloadEvent {
  // kGone: the file disappeared; its provider keeps serving for HostOptions::removal_grace, and
  // is replaced if a build of it arrives meanwhile (kReplaced), else removed then (kRemoved).
  enum class Kind { kLoaded, kReplaced, kRemoved, kFailed, kGone };
  Kind kind;
  std::string file;                       // the plugin file in its folder
  std::string name;                       // the provider name (the old one for kRemoved)
  std::string old_version;                // the build that served before (kReplaced, kRemoved, kFailed, kGone)
  std::string new_version;                // the build that serves now (kLoaded, kReplaced)
  std::string message;                    // kFailed: the load error; the old build, if any, keeps serving
  std::chrono::microseconds duration{0};  // time to copy, load, validate and swap
};

// Stable lower-case name of a kind: "loaded", "replaced", "removed", "failed", "gone".
std::string_view to_string(ReloadEvent::Kind kind) noexcept;

// Counts of reload events since the Host started (initial loads included).
struct ReloadStats {
  uint64_t loaded = 0, replaced = 0, removed = 0, failed = 0, gone = 0;
};

// How one plugin runs (docs/isolation.md).
struct PluginIsolation {
  Isolation mode = Isolation::kInProcess;
  // Process mode: the most address space the plugin's worker may use (RLIMIT_AS), in MiB; an
  // allocation past it fails, which usually crashes the plugin. 0 = no cap.
  size_t max_memory_mb = 0;
};

// The worker processes of isolated plugins: how they start, and when they are given up on.
struct WorkerSettings {
  // The llmhost binary a worker runs (`llmhost __worker`). Empty: `llmhost` beside this
  // program's executable (the CLI runs itself).
  std::filesystem::path executable;
  // A plugin crashing this many times within crash_loop_window is unavailable (503) for
  // max_backoff, or until a new build of it arrives.
  unsigned crash_loop_crashes = 5;
  std::chrono::milliseconds crash_loop_window{60'000};
  // After a crash a worker restarts at once; after the next ones within the window, after
  // first_backoff, doubling each time up to max_backoff.
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  // How long a call may run past its deadline or its cancel before its worker is killed as hung
  // (the other calls on it fail with 502); also how long a worker may leave its channel unread.
  std::chrono::milliseconds hang_grace{5'000};
  // How long a worker may take to load its plugin.
  std::chrono::milliseconds start_timeout{10'000};
};

struct HostOptions {
  // Folders to scan for plugins (every *.so in each, sorted by path). Empty = default_plugin_dirs().
  std::vector<std::filesystem::path> plugin_dirs;
  // Extra plugin files loaded before the folders (config's custom_provider_map).
  std::vector<std::filesystem::path> plugin_files;
  // Per-provider settings: provider name -> a JSON object text handed to that provider's
  // create() (llmh_config.json). Providers without an entry get "{}".
  std::map<std::string, std::string> provider_config;
  // Load plugins from files or folders that are world-writable or owned by another user
  // (refused by default, as ssh and sudo refuse such files). For development only.
  bool allow_untrusted_plugins = false;
  // Where plugins run: in this process (the default), or each in a worker process of its own,
  // where a crash, an abort or a hang fails only that plugin's calls (docs/isolation.md).
  PluginIsolation isolation;
  // Per plugin file (as listed in plugin_files, or found in plugin_dirs): overrides `isolation`.
  std::map<std::filesystem::path, PluginIsolation> plugin_isolation;
  WorkerSettings workers;
  // Threads running the async forms; 0 = hardware concurrency (at least 2).
  unsigned async_threads = 0;
  // Where the HTTP service (llmhost/http.h) runs perform_async: curl's sockets and timers, and
  // the plugins' callbacks; and where isolated plugins' answers are read from their workers.
  // Null: threads of their own. Given (llmhost serve passes its own, so that an upstream
  // exchange or an isolated plugin's answer never leaves the server's I/O thread):
  // it may be run by several threads (the service uses a strand of it), and must be running
  // whenever a call is in flight and while the Host is destroyed.
  boost::asio::io_context *http_io_context = nullptr;
  // How many threads run *http_io_context. 1: the service uses its executor as it is. 0 (not
  // known) or more: a strand of it, which costs a heap allocation for each executor copy an
  // upstream socket operation makes (about 14 per proxied call).
  unsigned http_io_threads = 0;
  // Where plugin log lines and host notices go; default: stderr for WARN and above.
  std::function<void(int level, std::string_view provider, std::string_view message)> log;

  // Usage a provider does not report (all zero) is counted by the host with the model's
  // tiktoken encoding, for completions and streams, and marked Usage::estimated
  // (docs/tokens.md). false: usage stays as the provider reported it.
  bool estimate_usage = true;
  // The encoding that counts models tiktoken's table does not know: "cl100k_base" (LiteLLM's
  // default) or "o200k_base". The Host constructor throws Error 400 for another name.
  std::string default_encoding = "cl100k_base";

  // Hot reload: watch the plugin folders (inotify) and load, swap and remove providers as
  // their files come, change and go. Calls in flight finish on the build they started on.
  bool watch = false;
  // Quiet time after a file settles (closed, renamed, deleted) before it is loaded.
  std::chrono::milliseconds debounce{10};
  // How long the provider of a plugin file that disappeared keeps serving (ReloadEvent::kGone).
  // A build of it arriving meanwhile (same file name, or another file declaring the same
  // provider) replaces it with no failed call: `install`, `rm` + `cp`, a rename away and back,
  // a folder swap. Zero: removed at once. The default covers a script's `rm` + `cp` (measured
  // in docs/hot-reload.md) many times over.
  std::chrono::milliseconds removal_grace{2'000};
  // Where private copies of plugin files are loaded from; empty = a fresh temp folder,
  // removed when the Host is destroyed.
  std::filesystem::path cache_dir;
  // Told about every load, swap, removal and failure, on the thread that did it (the
  // watcher's, reload()'s caller, or for a removal after its grace the Host's removal timer).
  // Must not call reload() itself.
  std::function<void(const ReloadEvent &)> on_reload;
};

// Called once per chunk; return false to stop the stream (the plugin sees the cancel).
using ChunkCallback = std::function<bool(const Chunk &)>;
// The same for a streamed text completion: `prompt` is the index of the prompt the chunk
// completes (the choice's index).
using TextChunkCallback = std::function<bool(size_t prompt, const Chunk &)>;

// The outcome of a callback-form call: the response, or the error it failed with.
using CompleteResult = std::variant<Response, Error>;
// Receives a callback-form call's outcome, exactly once. Must not block and must not throw.
using CompleteHandler = std::function<void(CompleteResult)>;
// Receives a callback-form stream's end, exactly once: nothing when it finished (or its
// consumer stopped it), else the error. Must not block and must not throw.
using StreamDoneHandler = std::function<void(std::optional<Error>)>;
// Runs a job on some thread other than the caller's (a worker pool), for blocking plugin calls.
using BlockingExecutor = std::function<void(std::function<void()>)>;

// A model name resolved once (Host::resolve): the provider build that serves it, and the model
// as that provider sees it (the name without "provider/"). The build is pinned: every call
// made with this Target runs on it, even when its file is replaced or removed meanwhile, and it
// stays loaded while a Target holds it. Cheap to copy (a reference count); immutable, so any
// thread may use it.
class Target {
 public:
  Target() = default;
  explicit operator bool() const { return plugin_ != nullptr; }
  // The provider's name, as it declares it.
  const std::string &provider() const;
  // The model the provider is asked for: "gpt-4o" for "openai/gpt-4o".
  const std::string &model() const { return model_; }

 private:
  friend struct detail::TargetAccess;
  Target(std::shared_ptr<const detail::Plugin> plugin, std::string model)
      : plugin_(std::move(plugin)), model_(std::move(model)) {}
  std::shared_ptr<const detail::Plugin> plugin_;
  std::string model_;
};

class Host {
 public:
  explicit Host(HostOptions options = {});
  ~Host();
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  // Resolves "provider/model" to the build serving that provider now. Throws llmhost::Error:
  // 400 for a name without a provider or a model part, 404 (listing the loaded providers) when
  // no such provider is loaded. Every call below that takes a Request without a Target resolves
  // request.model this way first; a front end that must know the provider before the call
  // (routing, labels) resolves once and passes the Target, so nothing is looked up twice.
  Target resolve(std::string_view model) const;

  // Blocking calls. Throw llmhost::Error (with status) on failure: 404 for an unknown
  // provider, 400 for a model without "provider/", 501 for an unsupported call, or the
  // plugin's own status. `cancel` lets another thread abandon the call.
  Response complete(const Request &request, std::stop_token cancel = {});
  void stream(const Request &request, const ChunkCallback &on_chunk, std::stop_token cancel = {});
  EmbeddingResponse embed(const Request &request, std::stop_token cancel = {});
  // The same on a resolved target: request.model is not read for routing (the response still
  // reports it as the model unless the plugin names one).
  Response complete(const Target &target, const Request &request, std::stop_token cancel = {});
  void stream(const Target &target, const Request &request, const ChunkCallback &on_chunk, std::stop_token cancel = {});
  EmbeddingResponse embed(const Target &target, const Request &request, std::stop_token cancel = {});

  // Text completions (OpenAI's /v1/completions, llmhost/text_completion.h): request.input holds
  // the prompts, and the answer has one choice per prompt, in order. Each prompt is one plugin
  // call, made in turn, whose body has "prompt" set to that prompt alone. Throws as complete:
  // 400 without a prompt, 501 when the provider has no text completions (or no streamed ones).
  TextCompletion complete_text(const Request &request, std::stop_token cancel = {});
  TextCompletion complete_text(const Target &target, const Request &request, std::stop_token cancel = {});
  // Streamed: the chunks of each prompt in turn, each with its prompt's index.
  void stream_text(const Request &request, const TextChunkCallback &on_chunk, std::stop_token cancel = {});
  void stream_text(const Target &target, const Request &request, const TextChunkCallback &on_chunk,
                   std::stop_token cancel = {});

  // Reranking (llmhost/rerank.h): the documents in request.request.input scored against the
  // query, best first, at most top_n. Throws as complete: 400 for no query, no documents or a
  // top_n outside 1..documents, 501 when the provider does not rerank.
  RerankResponse rerank(const RerankRequest &request, std::stop_token cancel = {});
  RerankResponse rerank(const Target &target, const RerankRequest &request, std::stop_token cancel = {});

  // Images (llmhost/images.h): generated from request.prompt, or (edit_images) request.images
  // changed as it says, in request.response_format ("url", the default, or "b64_json"). Throws as
  // complete: 400 for no prompt, n outside 1..10, another response_format, or an edit without
  // an image; 501 when the provider does not make (or edit) images.
  ImageResponse generate_images(const ImageRequest &request, std::stop_token cancel = {});
  ImageResponse generate_images(const Target &target, const ImageRequest &request, std::stop_token cancel = {});
  ImageResponse edit_images(const ImageRequest &request, std::stop_token cancel = {});
  ImageResponse edit_images(const Target &target, const ImageRequest &request, std::stop_token cancel = {});

  // Callback form: starts the call and returns at once; `done` gets the response or the error,
  // exactly once. A plugin with the asynchronous call form (llmhost/async.h) needs no thread
  // while it waits: `done` runs on the thread that ends the call (usually the HTTP event loop).
  // Any other plugin runs its blocking `complete` as a job handed to `run_blocking` (empty: a
  // Host worker), and `done` runs there. A call refused before it reaches a plugin (404, 400
  // for the model, 501, 503 while the Host is being destroyed) runs `done` on the calling
  // thread before this returns; a body that is not a JSON object (400) is reported where the
  // plugin would have run. ~Host cancels the calls still in flight and waits until their
  // `done` has returned.
  void complete(Request request, CompleteHandler done, std::stop_token cancel = {},
                const BlockingExecutor &run_blocking = {});
  // The same for a stream: chunks go to `on_chunk`, then `done` runs once. With a plugin's
  // asynchronous stream form, on_chunk runs on the thread the plugin emits from (usually the
  // HTTP event loop), one chunk at a time, and must not block; else on the job, where it may.
  void stream(Request request, ChunkCallback on_chunk, StreamDoneHandler done, std::stop_token cancel = {},
              const BlockingExecutor &run_blocking = {});
  // The callback forms on a resolved target.
  void complete(Target target, Request request, CompleteHandler done, std::stop_token cancel = {},
                const BlockingExecutor &run_blocking = {});
  void stream(Target target, Request request, ChunkCallback on_chunk, StreamDoneHandler done,
              std::stop_token cancel = {}, const BlockingExecutor &run_blocking = {});

  // Asynchronous forms: return at once; the call runs on a Host worker thread.
  std::future<Response> complete_async(Request request, std::stop_token cancel = {});
  std::future<void> stream_async(Request request, ChunkCallback on_chunk, std::stop_token cancel = {});
  std::future<EmbeddingResponse> embed_async(Request request, std::stop_token cancel = {});

  // Loaded providers, sorted by name, and the files that are refused right now (a file whose
  // latest build failed while an older one serves is listed in both).
  std::vector<ProviderInfo> providers() const;
  // Callback-form calls running in a plugin's asynchronous form now (they hold no thread).
  size_t async_calls() const;
  // Whether a provider of that name is loaded now; no copy of the list, for per-request checks.
  bool has_provider(std::string_view name) const;
  std::vector<LoadError> load_errors() const;
  // The worker processes of the isolated plugins loaded now, sorted by provider name.
  std::vector<WorkerStatus> workers() const;

  // Rescans the plugin folders and files now: loads new and changed files; providers whose
  // files are gone are removed after HostOptions::removal_grace. Events go to
  // HostOptions::on_reload. Blocks until done.
  void reload();
  ReloadStats reload_stats() const;

  // Tokens as `model`'s tiktoken encoding counts them (docs/tokens.md): o200k_base or
  // cl100k_base by tiktoken's table, HostOptions::default_encoding for a model it does not
  // know; "provider/" prefixes are ignored. Throws Error 400 for text that is not UTF-8. The
  // encoding loads on its first use. Any thread.
  TokenCount count_tokens(std::string_view model, std::string_view text) const;
  // A chat prompt's tokens with OpenAI's framing: 3 per message, 1 per name, 3 for the reply.
  TokenCount count_tokens(std::string_view model, std::span<const Message> messages) const;

  // Loads one file on its own (not registered) and describes it; throws LoadException.
  static ProviderInfo check(const std::filesystem::path &file, bool allow_untrusted = false);

  // $LLMHOST_PLUGIN_DIR if set; else <exe dir>/../plugins if it exists (build tree); else
  // <exe dir>/../lib/llmhost/plugins (install tree).
  static std::vector<std::filesystem::path> default_plugin_dirs();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmhost
