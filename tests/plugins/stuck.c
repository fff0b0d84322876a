/*
 * stuck: a plugin that ignores cancellation, for the proxy's watchdog tests. It never calls
 * cancelled(): it blocks (polling every 5 ms) until the file named by $STUCK_RELEASE exists.
 *
 * complete: blocks, then replies "late".
 * stream:   emits "first" as one chunk, blocks, then emits " late" (ignoring what emit
 *           returns) and finishes with "stop".
 * Each call appends "<call> started\n" and, when it returns, "<call> returned\n" to the file
 * named by $STUCK_MARKER. As a safety net for a broken test it gives up after 60 s with 504.
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/provider.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STUCK_POLL_MS 5
#define STUCK_GIVE_UP_MS (60 * 1000)

static void mark(const char *what) {
  const char *path = getenv("STUCK_MARKER");
  FILE *f;
  if (!path || !*path) return;
  f = fopen(path, "a");
  if (!f) return;
  fputs(what, f);
  fclose(f);
}

/* 0 once released, 504 after the safety limit. Never looks at cancellation. */
static int wait_release(void) {
  const char *path = getenv("STUCK_RELEASE");
  long waited = 0;
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = STUCK_POLL_MS * 1000L * 1000L;
  while (!(path && *path && access(path, F_OK) == 0)) {
    if (waited >= STUCK_GIVE_UP_MS) return 504;
    nanosleep(&ts, NULL);
    waited += STUCK_POLL_MS;
  }
  return 0;
}

static int stuck_create(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err) {
  (void)host;
  (void)config;
  (void)err;
  *instance = NULL;
  return 0;
}

static int stuck_complete(void *instance, const llmh_request *request, const llmh_response_builder *out,
                          llmh_error *err) {
  int status;
  (void)instance;
  (void)request;
  mark("complete started\n");
  status = wait_release();
  mark("complete returned\n");
  if (status != 0) return llmh_error_set(err, status, "stuck: gave up waiting for release");
  out->append_content(out, llmh_str_c("late"));
  out->set_finish_reason(out, llmh_str_c("stop"));
  return 0;
}

static int stuck_stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink, llmh_error *err) {
  llmh_chunk chunk;
  int status;
  (void)instance;
  (void)request;
  mark("stream started\n");
  memset(&chunk, 0, sizeof chunk);
  chunk.struct_size = sizeof chunk;
  chunk.content = llmh_str_c("first");
  sink->emit(sink, &chunk);
  status = wait_release();
  if (status == 0) {
    chunk.content = llmh_str_c(" late");
    sink->emit(sink, &chunk);
    memset(&chunk, 0, sizeof chunk);
    chunk.struct_size = sizeof chunk;
    chunk.finish_reason = llmh_str_c("stop");
    sink->emit(sink, &chunk);
  }
  mark("stream returned\n");
  if (status != 0) return llmh_error_set(err, status, "stuck: gave up waiting for release");
  return 0;
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    "stuck",
    "1.0.0",
    "blocks every call, ignoring cancellation, until released (watchdog tests)",
    LLMH_CAP_COMPLETE | LLMH_CAP_STREAM,
    NULL,
    stuck_create,
    NULL,
    stuck_complete,
    stuck_stream,
    NULL,
    NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
