/*
 * llmhost embedding API in C (C99): the gateway as a library, for C and for any language with
 * a C FFI (Python's ctypes, Go's cgo, Rust, ...). A plain C face over llmhost::Host
 * (llmhost/host.hpp). Link with libllmhost (CMake: find_package(llmhost REQUIRED COMPONENTS
 * host), target llmhost::host).
 *
 *   llmhost_host_params params = llmhost_host_default_params();
 *   llmhost_host *host = NULL;
 *   llmhost_error err = {sizeof err};
 *   if (llmhost_host_create(&params, &host, &err) != 0) { puts(err.message); return 1; }
 *   char *answer = NULL;
 *   if (llmhost_complete(host, "{\"model\": \"echo/x\", \"messages\": [...]}", &answer, &err) == 0) {
 *     puts(answer);  // an OpenAI chat.completion object
 *     llmhost_free(answer);
 *   }
 *   llmhost_host_destroy(host);
 *
 * Requests and answers are OpenAI's JSON, as `llmhost serve` takes and gives them: a
 * chat-completions body in, a chat.completion (or chat.completion.chunk objects) out; an
 * embeddings body in, the embeddings list out. "model" is "provider/model".
 *
 * Errors: every function that can fail returns 0 on success, else the HTTP-style status of the
 * failure (400 bad request, 404 unknown provider or model, 501 a call the provider lacks, the
 * provider's own status, ...), and fills `err` when it is not NULL: the same status and a
 * message saying what was wrong. Nothing throws across this API.
 *
 * OWNERSHIP. The host handle is the caller's from create to destroy. A `char *` the library
 * hands out (an answer, the provider list) is the caller's, to release with llmhost_free. Every
 * string the caller passes is borrowed for the duration of the call. A chunk handed to the
 * stream callback is the library's, valid only during the callback.
 *
 * THREADS. [thread: any] for every function, concurrently on one host, except
 * llmhost_host_destroy: call it once, after every other call on that host has returned. The
 * stream callback runs on the thread that called llmhost_stream.
 */
#ifndef LLMHOST_HOST_H
#define LLMHOST_HOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LLMHOST_API __declspec(dllimport)
#else
#define LLMHOST_API __attribute__((visibility("default")))
#endif

/* Longest error message kept, including the terminating NUL. */
#define LLMHOST_ERROR_MESSAGE_MAX 1024

/* The failure of one call. OWNERSHIP: the caller's; filled by the library when a call fails.
 * Set struct_size to sizeof(llmhost_error) before the first call. */
typedef struct llmhost_error {
  uint32_t struct_size;                    /* sizeof(llmhost_error) as the caller compiled it */
  int32_t status;                          /* HTTP-style status of the failure; 0 after a success */
  char message[LLMHOST_ERROR_MESSAGE_MAX]; /* NUL-terminated; says what was wrong and where */
} llmhost_error;

/* How to make a host. OWNERSHIP: the caller's; read during llmhost_host_create only. Start from
 * llmhost_host_default_params(); later versions only append fields (struct_size tells which). */
typedef struct llmhost_host_params {
  uint32_t struct_size;           /* sizeof(llmhost_host_params) as the caller compiled it */
  const char *const *plugin_dirs; /* folders to load plugins from (every *.so in each) */
  size_t plugin_dir_count;        /* 0: $LLMHOST_PLUGIN_DIR, else the plugins installed beside
                                     this library (<libdir>/llmhost/plugins) */
  const char *isolation;          /* where plugins run: "in_process" (NULL) or "process", each
                                     in a worker process of its own (docs/isolation.md) */
  const char *worker_executable;  /* "process": the llmhost binary a worker runs; NULL: the one
                                     installed beside this library (<prefix>/bin/llmhost) */
  int watch;                      /* non-zero: hot reload, as the plugin files change */
  int allow_untrusted_plugins;    /* non-zero: load world-writable files (development only) */
} llmhost_host_params;

/* An llmhost::Host. Opaque. */
typedef struct llmhost_host llmhost_host;

/* [thread: any] The default parameters: struct_size set, the default plugin folders, plugins
 * in process, no hot reload. */
LLMHOST_API llmhost_host_params llmhost_host_default_params(void);

/* [thread: any] Makes a host and loads its plugins into *out. A plugin that fails to load does
 * not fail this: it is listed by llmhost_providers under "load_errors". Returns 0, or the
 * status (400 for bad parameters, 500 when the host cannot start) with *out NULL. */
LLMHOST_API int llmhost_host_create(const llmhost_host_params *params, llmhost_host **out, llmhost_error *err);

/* [thread: lifecycle] Destroys a host: unloads its plugins. NULL is allowed. Call once, after
 * every other call on it has returned. */
LLMHOST_API void llmhost_host_destroy(llmhost_host *host);

/* [thread: any] One chat completion. `request_json` is an OpenAI chat-completions body
 * (NUL-terminated; "stream" is ignored). On success stores a chat.completion object in
 * *response_json (NUL-terminated; release with llmhost_free) and returns 0. */
LLMHOST_API int llmhost_complete(llmhost_host *host, const char *request_json, char **response_json,
                                 llmhost_error *err);

/* [thread: call] Receives one chat.completion.chunk object (`chunk_json`, NUL-terminated,
 * `len` bytes, valid during the call). Return 0 to go on; non-zero stops the stream (the
 * provider sees a cancel; llmhost_stream then returns 0). */
typedef int (*llmhost_chunk_fn)(void *user, const char *chunk_json, size_t len);

/* [thread: any] One streamed chat completion: every chunk goes to `on_chunk` on this thread,
 * then it returns 0; or the status of the failure, which may come after some chunks. */
LLMHOST_API int llmhost_stream(llmhost_host *host, const char *request_json, llmhost_chunk_fn on_chunk, void *user,
                               llmhost_error *err);

/* [thread: any] One text completion (OpenAI's legacy /v1/completions). `request_json` is a
 * completions body (NUL-terminated; "stream" is ignored; "prompt" a string or a list of them).
 * On success stores a text_completion object, one choice per prompt, in *response_json
 * (release with llmhost_free) and returns 0; 501 when the provider has no text completions. */
LLMHOST_API int llmhost_complete_text(llmhost_host *host, const char *request_json, char **response_json,
                                      llmhost_error *err);

/* [thread: any] One streamed text completion: every chunk, a text_completion object whose one
 * choice's index is its prompt's, goes to `on_chunk` on this thread; then it returns 0, or the
 * status of the failure. */
LLMHOST_API int llmhost_stream_text(llmhost_host *host, const char *request_json, llmhost_chunk_fn on_chunk, void *user,
                                    llmhost_error *err);

/* [thread: any] Embeddings. `request_json` is an OpenAI embeddings body (NUL-terminated). On
 * success stores the embeddings list object in *response_json (release with llmhost_free). */
LLMHOST_API int llmhost_embed(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err);

/* [thread: any] Reranking. `request_json` is a rerank body as Cohere and Jina take it
 * ({"model", "query", "documents": [strings or {"text"}], "top_n", "return_documents"}). On
 * success stores {"id", "model", "results": [{"index", "relevance_score", "document"?}] best
 * first, "meta", "usage"} in *response_json (release with llmhost_free); 501 when the provider
 * does not rerank. */
LLMHOST_API int llmhost_rerank(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err);

/* [thread: any] Image generation. `request_json` is an OpenAI images body ({"model", "prompt",
 * "n", "size", "quality", "style", "response_format": "url" or "b64_json"}). On success stores
 * {"created", "data": [{"url" or "b64_json", "revised_prompt"}]} in *response_json (release
 * with llmhost_free); 501 when the provider makes no images. */
LLMHOST_API int llmhost_generate_images(llmhost_host *host, const char *request_json, char **response_json,
                                        llmhost_error *err);

/* [thread: any] An image edit. `request_json` is a generation's body plus "image", the base64 of
 * an image file or a list of them, and optionally "mask", the base64 of one. Answers as
 * llmhost_generate_images; 400 for an image that is not base64, 501 when the provider does not
 * edit images. */
LLMHOST_API int llmhost_edit_images(llmhost_host *host, const char *request_json, char **response_json,
                                    llmhost_error *err);

/* [thread: any] What is loaded: {"providers": [{"name", "version", "description",
 * "capabilities": ["complete", ...], "file"}, ...], "load_errors": [{"file", "kind",
 * "message"}, ...]} into *providers_json (release with llmhost_free). */
LLMHOST_API int llmhost_providers(llmhost_host *host, char **providers_json, llmhost_error *err);

/* [thread: any] Rescans the plugin folders now: loads new and changed files, swaps providers
 * without failing a call in flight, and removes those whose files are gone. Returns 0. */
LLMHOST_API int llmhost_reload(llmhost_host *host, llmhost_error *err);

/* [thread: any] Releases a string the library handed out. NULL is allowed. */
LLMHOST_API void llmhost_free(char *text);

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_HOST_H */
