/*
 * llmhost provider SDK: optional header-only C++ helper over provider.h (C++17 or later).
 *
 * In the spirit of LiteLLM's CustomLLM: derive from llmh::Provider, override the calls you
 * implement, and export the class with one macro:
 *
 *   #include <llmhost/provider.hpp>
 *
 *   class MyProvider final : public llmh::Provider {
 *   public:
 *     MyProvider(const llmh_host_api *host, std::string_view config_json)
 *         : Provider(host, config_json) {}
 *     void complete(const llmh::Request &req, llmh::Response &out) override {
 *       out.content("hello");
 *       out.usage(1, 1);
 *     }
 *   };
 *   LLMH_PROVIDER(MyProvider, "my", "1.0.0", "says hello", LLMH_CAP_COMPLETE)
 *
 * What the helper guarantees:
 * - No exception ever crosses the ABI: llmh::Error(status, message) becomes that status, any
 *   other std::exception becomes 500 with what(), anything else 500 "unknown exception".
 * - No STB_GNU_UNIQUE or dynamically initialised statics and no thread_local: the descriptor is
 *   a constexpr object with internal linkage, so the plugin unloads cleanly on dlclose.
 * - Every view class is a thin, zero-copy wrapper: string_views point into host memory and are
 *   valid only until the plugin call that handed them over returns. Copy what you keep.
 */
#ifndef LLMHOST_PROVIDER_HPP
#define LLMHOST_PROVIDER_HPP

#include <llmhost/views.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace llmh {

/* ------------------------------------------------------------------------------------------ */
/* The provider base class                                                                     */
/* ------------------------------------------------------------------------------------------ */

// Base of a C++ provider; one object per instance (create .. destroy). complete/stream/embed
// are called concurrently from many threads on one object: keep them thread-safe. The
// constructor and destructor run on one thread, never while a call is running. A derived class
// must be constructible as Derived(const llmh_host_api *host, std::string_view config_json)
// and must stop and join every thread it starts in its destructor.
class Provider {
 public:
  // `host` is owned by the host and outlives this object; config_json is copied.
  Provider(const llmh_host_api *host, std::string_view config_json)
      : host_(host), config_json_(config_json.empty() ? std::string_view("{}") : config_json) {}
  virtual ~Provider() = default;
  Provider(const Provider &) = delete;
  Provider &operator=(const Provider &) = delete;

  // Chat completion. Default: throws Error(501). Any thread, concurrently.
  virtual void complete(const Request &, Response &) {
    throw Error(501, "complete is not implemented by this provider");
  }
  // Streaming chat completion: emit chunks, then finish(). Default: throws Error(501). Any
  // thread, concurrently. Throwing after chunks were sent ends the stream with that error.
  virtual void stream(const Request &, Stream &) { throw Error(501, "stream is not implemented by this provider"); }
  // Embeddings: one vector per request input. Default: throws Error(501). Any thread.
  virtual void embed(const Request &, Embeddings &) { throw Error(501, "embed is not implemented by this provider"); }
  // The plugin's extension table for `id`, or nullptr (default). Any thread; must not throw.
  virtual const void *extension(const char *id) noexcept {
    (void)id;
    return nullptr;
  }

  // Writes a log line through the host (copied). Never log a secret. Any thread.
  void log(llmh_log_level level, std::string_view message) const noexcept {
    if (host_ && host_->log) host_->log(host_, level, str(message));
  }
  // The host's extension table for `id`, or nullptr. Any thread.
  const void *host_extension(const char *id) const noexcept {
    return host_ && host_->get_extension ? host_->get_extension(host_, id) : nullptr;
  }
  // The host services table; owned by the host, valid for this object's lifetime. Any thread.
  const llmh_host_api *host() const noexcept { return host_; }
  // This instance's config JSON object (a copy owned by this object; may hold secrets).
  const std::string &config_json() const noexcept { return config_json_; }

 private:
  const llmh_host_api *host_;
  std::string config_json_;
};

/* ------------------------------------------------------------------------------------------ */
/* ABI glue (used by LLMH_PROVIDER; not for direct use)                                        */
/* ------------------------------------------------------------------------------------------ */

namespace detail {

// Maps the exception being handled to `err` and returns 1. Call only inside a catch block.
inline int fail_current(llmh_error *err) noexcept {
  llmh_error scratch{};
  if (!err) err = &scratch;
  try {
    throw;
  } catch (const Error &e) {
    return llmh_error_set(err, static_cast<int32_t>(e.status()), e.what());
  } catch (const std::exception &e) {
    return llmh_error_set(err, 500, e.what());
  } catch (...) {
    return llmh_error_set(err, 500, "unknown exception");
  }
}

// The extern "C"-compatible trampolines for provider class T. Stateless; any thread.
template <class T>
struct Glue {
  static int create(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err) noexcept {
    try {
      std::string_view cfg = config ? sv(config->json) : std::string_view();
      if (cfg.empty()) cfg = "{}";
      T *p = new T(host, cfg);
      *instance = static_cast<void *>(p);
      return 0;
    } catch (...) {
      return fail_current(err);
    }
  }
  static void destroy(void *instance) noexcept {
    try {
      delete static_cast<T *>(instance);
    } catch (...) {}
  }
  static int complete(void *instance, const llmh_request *request, const llmh_response_builder *out,
                      llmh_error *err) noexcept {
    try {
      Request req(request);
      Response resp(out);
      static_cast<T *>(instance)->complete(req, resp);
      return 0;
    } catch (...) {
      return fail_current(err);
    }
  }
  static int stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                    llmh_error *err) noexcept {
    try {
      Request req(request);
      Stream s(sink);
      static_cast<T *>(instance)->stream(req, s);
      return 0;
    } catch (...) {
      return fail_current(err);
    }
  }
  static int embed(void *instance, const llmh_request *request, const llmh_embedding_builder *out,
                   llmh_error *err) noexcept {
    try {
      Request req(request);
      Embeddings e(out);
      static_cast<T *>(instance)->embed(req, e);
      return 0;
    } catch (...) {
      return fail_current(err);
    }
  }
  static const void *get_extension(void *instance, const char *id) noexcept {
    return instance ? static_cast<T *>(instance)->extension(id) : nullptr;
  }
};

// Builds the descriptor at compile time; calls not in `caps` get NULL pointers.
template <class T>
constexpr llmh_provider make_descriptor(const char *name, const char *version, const char *description, uint64_t caps,
                                        const char *const *models) noexcept {
  static_assert(std::is_base_of<Provider, T>::value, "LLMH_PROVIDER: class must derive from llmh::Provider");
  static_assert(std::is_constructible<T, const llmh_host_api *, std::string_view>::value,
                "LLMH_PROVIDER: class must be constructible from (const llmh_host_api *, std::string_view)");
  llmh_provider d{};
  d.struct_size = sizeof(llmh_provider);
  d.abi_major = LLMH_ABI_VERSION_MAJOR;
  d.abi_minor = LLMH_ABI_VERSION_MINOR;
  d.name = name;
  d.version = version;
  d.description = description;
  d.capabilities = caps & (LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED | LLMH_CAP_BODY_MEMBERS);
  d.models = models;
  d.create = &Glue<T>::create;
  d.destroy = &Glue<T>::destroy;
  d.complete = (caps & LLMH_CAP_COMPLETE) ? &Glue<T>::complete : nullptr;
  d.stream = (caps & LLMH_CAP_STREAM) ? &Glue<T>::stream : nullptr;
  d.embed = (caps & LLMH_CAP_EMBED) ? &Glue<T>::embed : nullptr;
  d.get_extension = &Glue<T>::get_extension;
  return d;
}

}  // namespace detail
}  // namespace llmh

// Exports provider class `Class` as this plugin: defines a constexpr descriptor with internal
// linkage and the extern "C" entry point llmh_provider_entry. Use once per plugin, at global
// namespace scope, in one .cpp file. `name`, `version` and `description` must be string
// literals (or other static strings); `capabilities` is LLMH_CAP_* bits.
#define LLMH_PROVIDER(Class, name, version, description, capabilities) \
  LLMH_PROVIDER_WITH_MODELS(Class, name, version, description, capabilities, nullptr)

// As LLMH_PROVIDER, plus `models`: a static NULL-terminated `const char *const[]` (or nullptr).
#define LLMH_PROVIDER_WITH_MODELS(Class, name, version, description, capabilities, models)      \
  namespace {                                                                                   \
  constexpr llmh_provider llmh_provider_descriptor_ =                                           \
      ::llmh::detail::make_descriptor<Class>(name, version, description, capabilities, models); \
  }                                                                                             \
  extern "C" LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &llmh_provider_descriptor_; }

#endif /* LLMHOST_PROVIDER_HPP */
