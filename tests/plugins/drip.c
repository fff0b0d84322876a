/*
 * drip: a stream that stays open until the test says so, for the proxy's tests (client
 * disconnect, SIGTERM drain, a plugin replaced while a stream is open).
 *
 * stream:   emits DRIP_REPLY as one chunk, then waits (polling every 5 ms) until the file named
 *           by $DRIP_RELEASE exists, then emits " done" and finishes with "stop". When the call
 *           is cancelled instead, it appends "stream cancelled\n" to the file named by
 *           $DRIP_MARKER and fails with 408.
 * complete: the same wait, then replies DRIP_REPLY ("complete cancelled\n" on cancel).
 * Gives up after 60 s with 504 so that a broken host cannot hang a test run forever.
 * Compile definitions: DRIP_NAME (default "drip"), DRIP_VERSION ("1.0.0"), DRIP_REPLY ("v1").
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/provider.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef DRIP_NAME
#define DRIP_NAME "drip"
#endif
#ifndef DRIP_VERSION
#define DRIP_VERSION "1.0.0"
#endif
#ifndef DRIP_REPLY
#define DRIP_REPLY "v1"
#endif

#define DRIP_POLL_MS 5
#define DRIP_GIVE_UP_MS (60 * 1000)

static void mark(const char *what) {
  const char *path = getenv("DRIP_MARKER");
  FILE *f;
  if (!path || !*path) return;
  f = fopen(path, "a");
  if (!f) return;
  fputs(what, f);
  fclose(f);
}

static int released(void) {
  const char *path = getenv("DRIP_RELEASE");
  return path && *path && access(path, F_OK) == 0;
}

static void sleep_poll(void) {
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = DRIP_POLL_MS * 1000L * 1000L;
  nanosleep(&ts, NULL);
}

/* 0 when released, 408 when cancelled, 504 after the safety limit. */
static int wait_release(int (*cancelled)(const void *), const void *self, const char *on_cancel) {
  long waited = 0;
  for (;;) {
    if (cancelled(self)) {
      mark(on_cancel);
      return 408;
    }
    if (released()) return 0;
    if (waited >= DRIP_GIVE_UP_MS) return 504;
    sleep_poll();
    waited += DRIP_POLL_MS;
  }
}

static int sink_cancelled(const void *self) {
  const llmh_stream_sink *sink = (const llmh_stream_sink *)self;
  return sink->cancelled(sink);
}

static int builder_cancelled(const void *self) {
  const llmh_response_builder *b = (const llmh_response_builder *)self;
  return b->cancelled(b);
}

static int drip_create(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err) {
  (void)host;
  (void)config;
  (void)err;
  *instance = NULL;
  return 0;
}

static int drip_complete(void *instance, const llmh_request *request, const llmh_response_builder *out,
                         llmh_error *err) {
  int status;
  (void)instance;
  (void)request;
  status = wait_release(builder_cancelled, out, "complete cancelled\n");
  if (status == 408) return llmh_error_set(err, 408, "drip: cancelled");
  if (status != 0) return llmh_error_set(err, status, "drip: gave up waiting for release");
  out->append_content(out, llmh_str_c(DRIP_REPLY));
  out->set_finish_reason(out, llmh_str_c("stop"));
  return 0;
}

static int drip_stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink, llmh_error *err) {
  llmh_chunk chunk;
  int status;
  (void)instance;
  (void)request;
  memset(&chunk, 0, sizeof chunk);
  chunk.struct_size = sizeof chunk;
  chunk.content = llmh_str_c(DRIP_REPLY);
  if (sink->emit(sink, &chunk) != 0) {
    mark("stream cancelled\n");
    return 0;
  }
  status = wait_release(sink_cancelled, sink, "stream cancelled\n");
  if (status == 408) return llmh_error_set(err, 408, "drip: cancelled");
  if (status != 0) return llmh_error_set(err, status, "drip: gave up waiting for release");
  chunk.content = llmh_str_c(" done");
  if (sink->emit(sink, &chunk) != 0) return 0;
  memset(&chunk, 0, sizeof chunk);
  chunk.struct_size = sizeof chunk;
  chunk.finish_reason = llmh_str_c("stop");
  sink->emit(sink, &chunk);
  return 0;
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    DRIP_NAME,
    DRIP_VERSION,
    "a stream held open until released (proxy tests)",
    LLMH_CAP_COMPLETE | LLMH_CAP_STREAM,
    NULL,
    drip_create,
    NULL,
    drip_complete,
    drip_stream,
    NULL,
    NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
