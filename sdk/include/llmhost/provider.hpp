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
 *     using Provider::Provider;  // MyProvider(const llmh_host_api *host, std::string_view config_json)
 *     void complete(const llmh::Request &req, llmh::Response &out) override {
 *       out.content("hello");
 *       out.usage(1, 1);
 *     }
 *   };
 *   LLMH_PROVIDER(MyProvider, "my", "1.0.0", "says hello")
 *
 * The capabilities come from the methods the class overrides (complete or complete_async:
 * LLMH_CAP_COMPLETE; stream or stream_async: LLMH_CAP_STREAM; embed: LLMH_CAP_EMBED), so they
 * cannot disagree with the code; so do the extension tables it offers (complete_text and
 * stream_text: "llmhost.text_completion.v1"; rerank: "llmhost.rerank.v1"; generate_images and
 * edit_images: "llmhost.images.v1"). A fifth macro argument adds
 * LLMH_CAP_BODY_MEMBERS; call bits written there must match the overrides, or the plugin does not compile.
 *
 * What the helper guarantees:
 * - No exception ever crosses the ABI: llmh::Error(status, message) becomes that status, any
 *   other std::exception becomes 500 with what(), anything else 500 "unknown exception".
 * - An asynchronous call ends exactly once (llmhost/async_call.hpp): a handle dropped without
 *   finishing ends it with an error, and an exception thrown while the glue still holds the
 *   handle ends it with that exception.
 * - No STB_GNU_UNIQUE or dynamically initialised statics and no thread_local: the descriptor is
 *   a constexpr object with internal linkage, so the plugin unloads cleanly on dlclose.
 * - Every view class is a thin, zero-copy wrapper: string_views point into host memory and are
 *   valid only until the plugin call that handed them over returns (for an asynchronous call,
 *   until it is finished). Copy what you keep.
 */
#ifndef LLMHOST_PROVIDER_HPP
#define LLMHOST_PROVIDER_HPP

#include <llmhost/text_completion.h>
#include <llmhost/async_call.hpp>
#include <llmhost/views.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
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
  // Text completion (llmhost/text_completion.h): the text for the one prompt req.prompt(),
  // through out.content(). Any thread, concurrently. Overriding it offers the extension.
  virtual void complete_text(const Request &, Response &) {
    throw Error(501, "complete_text is not implemented by this provider");
  }
  // The same, streamed: chunks whose content is the next piece of text, then finish(). Needs
  // complete_text too. Any thread, concurrently.
  virtual void stream_text(const Request &, Stream &) {
    throw Error(501, "stream_text is not implemented by this provider");
  }
  // Reranking (llmhost/rerank.h): a score per document of req.documents() against req.query().
  // Any thread, concurrently. Overriding it offers the extension.
  virtual void rerank(const RerankRequest &, Ranking &) {
    throw Error(501, "rerank is not implemented by this provider");
  }
  // Images (llmhost/images.h): req.n() images from req.prompt(), each added to `out` as the
  // provider has it (a URL, base64 or bytes). Any thread, concurrently. Overriding it offers the
  // extension.
  virtual void generate_images(const ImageRequest &, Images &) {
    throw Error(501, "generate_images is not implemented by this provider");
  }
  // The same for an edit of req.images() (and req.mask()). Needs generate_images too.
  virtual void edit_images(const ImageRequest &, Images &) {
    throw Error(501, "edit_images is not implemented by this provider");
  }

  // The asynchronous forms (llmhost/async.h): start the call and return without waiting; end
  // it later through the handle. To keep the call past the return, move the handle out
  // (`[call = std::move(call)]`); a handle left in place ends the call when the method returns
  // (with the exception it throws, or as dropped). Called concurrently on the host's I/O
  // threads: never block here. Overriding complete_async alone is enough: the helper makes the
  // blocking complete from it (the calling thread waits for the finish); the same holds for
  // stream_async and stream. A class with stream_async and a blocking complete must override
  // complete_async too, so that no blocking call runs on an I/O thread.
  virtual void complete_async(AsyncCompletion &&call) { call.fail(501, "complete_async is not implemented"); }
  virtual void stream_async(AsyncStream &&call) { call.fail(501, "stream_async is not implemented"); }
  // Whether this instance offers the asynchronous forms it overrides; asked once, right after
  // construction. Say false when they cannot run without blocking (for example when the host's
  // HTTP service has no perform_async): the host then calls the blocking forms. Default: true.
  virtual bool offers_async() const noexcept { return true; }

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

// Which calls class T overrides: &T::f names T's own (or an intermediate base's) override and
// has Provider's member type only when nobody overrode it. A call name must not be overloaded.
template <class T>
struct Overrides {
  static constexpr bool complete =
      !std::is_same<decltype(&T::complete), void (Provider::*)(const Request &, Response &)>::value;
  static constexpr bool stream =
      !std::is_same<decltype(&T::stream), void (Provider::*)(const Request &, Stream &)>::value;
  static constexpr bool embed =
      !std::is_same<decltype(&T::embed), void (Provider::*)(const Request &, Embeddings &)>::value;
  static constexpr bool complete_async =
      !std::is_same<decltype(&T::complete_async), void (Provider::*)(AsyncCompletion &&)>::value;
  static constexpr bool stream_async =
      !std::is_same<decltype(&T::stream_async), void (Provider::*)(AsyncStream &&)>::value;
  static constexpr bool complete_text =
      !std::is_same<decltype(&T::complete_text), void (Provider::*)(const Request &, Response &)>::value;
  static constexpr bool stream_text =
      !std::is_same<decltype(&T::stream_text), void (Provider::*)(const Request &, Stream &)>::value;
  static constexpr bool rerank =
      !std::is_same<decltype(&T::rerank), void (Provider::*)(const RerankRequest &, Ranking &)>::value;
  static constexpr bool generate_images =
      !std::is_same<decltype(&T::generate_images), void (Provider::*)(const ImageRequest &, Images &)>::value;
  static constexpr bool edit_images =
      !std::is_same<decltype(&T::edit_images), void (Provider::*)(const ImageRequest &, Images &)>::value;
  static constexpr uint64_t capabilities = ((complete || complete_async) ? LLMH_CAP_COMPLETE : 0) |
                                           ((stream || stream_async) ? LLMH_CAP_STREAM : 0) |
                                           (embed ? LLMH_CAP_EMBED : 0);
};

// A blocking call made of an asynchronous one: the `done` it hands over wakes the waiting
// thread and copies the error.
class BlockingFinish {
 public:
  explicit BlockingFinish(llmh_error *err) noexcept : err_(err) {
    done_.struct_size = sizeof done_;
    done_.host_data = this;
    done_.finish = &finished;
  }
  const llmh_call_done *done() const noexcept { return &done_; }
  // Waits for the finish; 0 for success, 1 with the error in `err`.
  int wait() {
    std::unique_lock<std::mutex> lock(mu_);
    finished_cv_.wait(lock, [this] { return finished_; });
    return failed_ ? 1 : 0;
  }

 private:
  static void finished(const llmh_call_done *done, const llmh_error *err) noexcept {
    auto *self = static_cast<BlockingFinish *>(done->host_data);
    // Notified under the lock: the waiter destroys this object as soon as it sees finished_.
    std::lock_guard<std::mutex> lock(self->mu_);
    if (err) {
      self->failed_ = true;
      if (self->err_) llmh_error_set(self->err_, err->status, err->message);
    }
    self->finished_ = true;
    self->finished_cv_.notify_one();
  }

  llmh_error *err_;
  llmh_call_done done_{};
  std::mutex mu_;
  std::condition_variable finished_cv_;
  bool finished_ = false;
  bool failed_ = false;
};

// The extern "C"-compatible trampolines for provider class T. Stateless; any thread.
template <class T>
struct Glue {
  using O = Overrides<T>;
  static_assert(!(O::stream_async && O::complete && !O::complete_async),
                "llmh::Provider: a class with stream_async and a blocking complete must override complete_async "
                "too, or the host would run the blocking complete on an I/O thread");
  static_assert(O::complete_text || !O::stream_text,
                "llmh::Provider: a class with stream_text must override complete_text too (llmhost/text_completion.h)");
  static_assert(O::generate_images || !O::edit_images,
                "llmh::Provider: a class with edit_images must override generate_images too (llmhost/images.h)");

  // Runs one blocking call: `method(provider, request, view)`, with the host's request and its
  // builder or sink `out` wrapped in their views (ReqView, View); an exception becomes `err`.
  template <class View, class ReqView = Request, class CRequest, class Out, class Method>
  static int run(void *instance, const CRequest *request, const Out *out, llmh_error *err, Method method) noexcept {
    try {
      ReqView req(request);
      View view(out);
      method(*static_cast<T *>(instance), req, view);
      return 0;
    } catch (...) {
      return fail_current(err);
    }
  }

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
    if constexpr (!O::complete && O::complete_async) {
      BlockingFinish wait(err);
      complete_async(instance, request, out, wait.done());
      return wait.wait();
    } else {
      return run<Response>(instance, request, out, err, [](T &p, const Request &r, Response &o) { p.complete(r, o); });
    }
  }
  static int stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                    llmh_error *err) noexcept {
    if constexpr (!O::stream && O::stream_async) {
      BlockingFinish wait(err);
      stream_async(instance, request, sink, wait.done());
      return wait.wait();
    } else {
      return run<Stream>(instance, request, sink, err, [](T &p, const Request &r, Stream &o) { p.stream(r, o); });
    }
  }
  static int embed(void *instance, const llmh_request *request, const llmh_embedding_builder *out,
                   llmh_error *err) noexcept {
    return run<Embeddings>(instance, request, out, err, [](T &p, const Request &r, Embeddings &o) { p.embed(r, o); });
  }
  static int complete_text(void *instance, const llmh_request *request, const llmh_response_builder *out,
                           llmh_error *err) noexcept {
    return run<Response>(instance, request, out, err,
                         [](T &p, const Request &r, Response &o) { p.complete_text(r, o); });
  }
  static int stream_text(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                         llmh_error *err) noexcept {
    return run<Stream>(instance, request, sink, err, [](T &p, const Request &r, Stream &o) { p.stream_text(r, o); });
  }
  static int rerank(void *instance, const llmh_rerank_request *request, const llmh_rerank_builder *out,
                    llmh_error *err) noexcept {
    return run<Ranking, RerankRequest>(instance, request, out, err,
                                       [](T &p, const RerankRequest &r, Ranking &o) { p.rerank(r, o); });
  }
  static int generate_images(void *instance, const llmh_image_request *request, const llmh_image_builder *out,
                             llmh_error *err) noexcept {
    return run<Images, ImageRequest>(instance, request, out, err,
                                     [](T &p, const ImageRequest &r, Images &o) { p.generate_images(r, o); });
  }
  static int edit_images(void *instance, const llmh_image_request *request, const llmh_image_builder *out,
                         llmh_error *err) noexcept {
    return run<Images, ImageRequest>(instance, request, out, err,
                                     [](T &p, const ImageRequest &r, Images &o) { p.edit_images(r, o); });
  }
  // The handle stays here unless the provider moves it out; one left here ends the call when
  // the method returns: with the exception thrown, else as dropped (its destructor).
  static void complete_async(void *instance, const llmh_request *request, const llmh_response_builder *out,
                             const llmh_call_done *done) noexcept {
    AsyncCompletion call(request, out, done);
    try {
      static_cast<T *>(instance)->complete_async(std::move(call));
    } catch (...) {
      call.fail_current();
    }
  }
  static void stream_async(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                           const llmh_call_done *done) noexcept {
    AsyncStream call(request, sink, done);
    try {
      static_cast<T *>(instance)->stream_async(std::move(call));
    } catch (...) {
      call.fail_current();
    }
  }
  // The asynchronous table, offered when the class overrides an asynchronous form. Its
  // complete_async is never NULL (async.h): with no completion at all it answers 501, and the
  // host never calls it then (no LLMH_CAP_COMPLETE).
  static constexpr llmh_async_provider kAsync = {sizeof(llmh_async_provider), &Glue::complete_async,
                                                 O::stream_async ? &Glue::stream_async : nullptr};

  // The text completion table, offered when the class overrides complete_text.
  static constexpr llmh_text_completion_provider kText = {sizeof(llmh_text_completion_provider), &Glue::complete_text,
                                                          O::stream_text ? &Glue::stream_text : nullptr};

  // The rerank table, offered when the class overrides rerank.
  static constexpr llmh_rerank_provider kRerank = {sizeof(llmh_rerank_provider), &Glue::rerank};
  // The images table, offered when the class overrides generate_images.
  static constexpr llmh_images_provider kImages = {sizeof(llmh_images_provider), &Glue::generate_images,
                                                   O::edit_images ? &Glue::edit_images : nullptr};

  static const void *get_extension(void *instance, const char *id) noexcept {
    if (!instance) return nullptr;
    T *p = static_cast<T *>(instance);
    if constexpr (O::complete_async || O::stream_async)
      if (std::strcmp(id, LLMH_ASYNC_EXTENSION_ID) == 0) return p->offers_async() ? &kAsync : nullptr;
    if constexpr (O::complete_text)
      if (std::strcmp(id, LLMH_TEXT_COMPLETION_EXTENSION_ID) == 0) return &kText;
    if constexpr (O::rerank)
      if (std::strcmp(id, LLMH_RERANK_EXTENSION_ID) == 0) return &kRerank;
    if constexpr (O::generate_images)
      if (std::strcmp(id, LLMH_IMAGES_EXTENSION_ID) == 0) return &kImages;
    return p->extension(id);
  }
};

// Named in the compiler's error when LLMH_PROVIDER's capabilities name a call the class does not
// override, or leave out one it does: not constexpr, so reaching it stops constant evaluation.
inline void llmh_capabilities_disagree_with_the_overridden_methods() noexcept {}

// Builds the descriptor at compile time; the calls the class does not override get NULL.
template <class T>
constexpr llmh_provider make_descriptor(const char *name, const char *version, const char *description, uint64_t caps,
                                        const char *const *models) noexcept {
  static_assert(std::is_base_of<Provider, T>::value, "LLMH_PROVIDER: class must derive from llmh::Provider");
  static_assert(std::is_constructible<T, const llmh_host_api *, std::string_view>::value,
                "LLMH_PROVIDER: class must be constructible from (const llmh_host_api *, std::string_view)");
  constexpr uint64_t kCalls = LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED;
  if ((caps & kCalls) != 0 && (caps & kCalls) != Overrides<T>::capabilities)
    llmh_capabilities_disagree_with_the_overridden_methods();
  llmh_provider d{};
  d.struct_size = sizeof(llmh_provider);
  d.abi_major = LLMH_ABI_VERSION_MAJOR;
  d.abi_minor = LLMH_ABI_VERSION_MINOR;
  d.name = name;
  d.version = version;
  d.description = description;
  d.capabilities = Overrides<T>::capabilities | (caps & LLMH_CAP_BODY_MEMBERS);
  d.models = models;
  d.create = &Glue<T>::create;
  d.destroy = &Glue<T>::destroy;
  d.complete = (d.capabilities & LLMH_CAP_COMPLETE) ? &Glue<T>::complete : nullptr;
  d.stream = (d.capabilities & LLMH_CAP_STREAM) ? &Glue<T>::stream : nullptr;
  d.embed = (d.capabilities & LLMH_CAP_EMBED) ? &Glue<T>::embed : nullptr;
  d.get_extension = &Glue<T>::get_extension;
  return d;
}

}  // namespace detail
}  // namespace llmh

// Exports provider class `Class` as this plugin: defines a constexpr descriptor with internal
// linkage and the extern "C" entry point llmh_provider_entry. Use once per plugin, at global
// namespace scope, in one .cpp file: LLMH_PROVIDER(Class, name, version, description) or, with
// extra capability bits, LLMH_PROVIDER(Class, name, version, description, capabilities).
// `name`, `version` and `description` must be string literals (or other static strings).
#define LLMH_PROVIDER(Class, name, version, ...)  \
  LLMH_PROVIDER_APPLY_(LLMH_PROVIDER_WITH_MODELS, \
                       (Class, name, version, LLMH_PROVIDER_DESCRIPTION_AND_CAPS_(__VA_ARGS__, 0, 0), nullptr))
// The description and the capabilities (0 when LLMH_PROVIDER has no fifth argument); applied
// after expansion, so that the pair counts as two arguments.
#define LLMH_PROVIDER_DESCRIPTION_AND_CAPS_(description, capabilities, ...) description, capabilities
#define LLMH_PROVIDER_APPLY_(macro, arguments) macro arguments

// As LLMH_PROVIDER, plus `models`: a static NULL-terminated `const char *const[]` (or nullptr).
#define LLMH_PROVIDER_WITH_MODELS(Class, name, version, description, capabilities, models)      \
  namespace {                                                                                   \
  constexpr llmh_provider llmh_provider_descriptor_ =                                           \
      ::llmh::detail::make_descriptor<Class>(name, version, description, capabilities, models); \
  }                                                                                             \
  extern "C" LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &llmh_provider_descriptor_; }

#endif /* LLMHOST_PROVIDER_HPP */
