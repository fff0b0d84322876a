/*
 * hang: complete and stream block, polling every 10 ms, until the call is cancelled, then fail
 * with 408 "hang: cancelled". For deadline / cancel / unload-while-busy tests. As a safety net
 * for a broken host (so a test run cannot hang forever) it gives up after 120 s with 504.
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/provider.h>

#include <time.h>

#define HANG_POLL_MS 10
#define HANG_GIVE_UP_MS (120 * 1000)

static void sleep_poll(void) {
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = HANG_POLL_MS * 1000L * 1000L;
  nanosleep(&ts, NULL);
}

static int hang_create(const llmh_host_api *host, const llmh_config *config, void **instance,
                       llmh_error *err) {
  (void)host;
  (void)config;
  (void)err;
  *instance = NULL;
  return 0;
}

static int hang_complete(void *instance, const llmh_request *request,
                         const llmh_response_builder *out, llmh_error *err) {
  long waited = 0;
  (void)instance;
  (void)request;
  while (!out->cancelled(out)) {
    if (waited >= HANG_GIVE_UP_MS) return llmh_error_set(err, 504, "hang: gave up after 120 s");
    sleep_poll();
    waited += HANG_POLL_MS;
  }
  return llmh_error_set(err, 408, "hang: cancelled");
}

static int hang_stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                       llmh_error *err) {
  long waited = 0;
  (void)instance;
  (void)request;
  while (!sink->cancelled(sink)) {
    if (waited >= HANG_GIVE_UP_MS) return llmh_error_set(err, 504, "hang: gave up after 120 s");
    sleep_poll();
    waited += HANG_POLL_MS;
  }
  return llmh_error_set(err, 408, "hang: cancelled");
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    "hang",
    "1.0.0",
    "blocks every call until it is cancelled",
    LLMH_CAP_COMPLETE | LLMH_CAP_STREAM,
    NULL,
    hang_create,
    NULL,
    hang_complete,
    hang_stream,
    NULL,
    NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
