/*
 * A configurable fixed-reply test provider; the compile definitions make each variant:
 *   TP_NAME          provider name expression: a string literal or NULL (required)
 *   TP_VERSION       version string (default "1.0.0")
 *   TP_REPLY         the reply text (default "fixed")
 *   TP_ABI_MAJOR     abi_major in the descriptor (default LLMH_ABI_VERSION_MAJOR)
 *   TP_CREATE_FAILS  when defined, create fails with 503 "<name>: backend not configured"
 *   TP_REPLY_CONFIG  when defined, complete replies with the config JSON create was given
 *
 * complete replies TP_REPLY; stream sends it as two chunks (first byte, rest), then a final
 * chunk with finish_reason "stop". Stateless, so thread-safe.
 */
#include <llmhost/provider.h>
#include <stdlib.h>

#ifndef TP_NAME
#error "TP_NAME must be defined"
#endif
#ifndef TP_VERSION
#define TP_VERSION "1.0.0"
#endif
#ifndef TP_REPLY
#define TP_REPLY "fixed"
#endif
#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR LLMH_ABI_VERSION_MAJOR
#endif

static int tp_create(const llmh_host_api *host, const llmh_config *config, void **instance,
                     llmh_error *err) {
  (void)host;
  (void)config;
  *instance = NULL;
#ifdef TP_REPLY_CONFIG
  {
    char *copy = (char *)malloc(config->json.len + 1);
    if (!copy) return llmh_error_set(err, 500, "out of memory");
    memcpy(copy, config->json.ptr, config->json.len);
    copy[config->json.len] = '\0';
    *instance = copy;
  }
#endif
#ifdef TP_CREATE_FAILS
  return llmh_error_set(err, 503, "create_fails: backend not configured");
#else
  (void)err;
  return 0;
#endif
}

static void tp_destroy(void *instance) { free(instance); }

static int tp_complete(void *instance, const llmh_request *request,
                       const llmh_response_builder *out, llmh_error *err) {
  (void)request;
  (void)err;
#ifdef TP_REPLY_CONFIG
  out->append_content(out, llmh_str_c((const char *)instance));
#else
  (void)instance;
  out->append_content(out, llmh_str_c(TP_REPLY));
#endif
  out->set_finish_reason(out, llmh_str_c("stop"));
  return 0;
}

static int tp_stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                     llmh_error *err) {
  llmh_str reply = llmh_str_c(TP_REPLY);
  llmh_chunk chunk;
  (void)instance;
  (void)request;
  (void)err;
  memset(&chunk, 0, sizeof chunk);
  chunk.struct_size = sizeof chunk;
  if (reply.len > 0) {
    chunk.content.ptr = reply.ptr;
    chunk.content.len = 1;
    if (sink->emit(sink, &chunk) != 0) return 0;
  }
  if (reply.len > 1) {
    chunk.content.ptr = reply.ptr + 1;
    chunk.content.len = reply.len - 1;
    if (sink->emit(sink, &chunk) != 0) return 0;
  }
  chunk.content.ptr = NULL;
  chunk.content.len = 0;
  chunk.finish_reason = llmh_str_c("stop");
  sink->emit(sink, &chunk);
  return 0;
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    TP_ABI_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    TP_NAME,
    TP_VERSION,
    "fixed-reply test provider",
    LLMH_CAP_COMPLETE | LLMH_CAP_STREAM,
    NULL,
    tp_create,
    tp_destroy,
    tp_complete,
    tp_stream,
    NULL,
    NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
