/*
 * threaded: create starts a background thread that ticks every 5 ms; destroy stops and joins
 * it (as the ABI requires before unload). complete replies "threaded". For unload tests: if the
 * host unmapped the library while the thread ran, the process would crash.
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/provider.h>

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct threaded_instance {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  pthread_t thread;
  int stop;            /* guarded by mutex */
  unsigned long ticks; /* guarded by mutex */
} threaded_instance;

static void *ticker(void *arg) {
  threaded_instance *t = (threaded_instance *)arg;
  pthread_mutex_lock(&t->mutex);
  while (!t->stop) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 5 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&t->cond, &t->mutex, &deadline);
    ++t->ticks;
  }
  pthread_mutex_unlock(&t->mutex);
  return NULL;
}

static int th_create(const llmh_host_api *host, const llmh_config *config, void **instance,
                     llmh_error *err) {
  threaded_instance *t;
  (void)host;
  (void)config;
  t = (threaded_instance *)calloc(1, sizeof *t);
  if (!t) return llmh_error_set(err, 500, "threaded: out of memory");
  pthread_mutex_init(&t->mutex, NULL);
  pthread_cond_init(&t->cond, NULL);
  if (pthread_create(&t->thread, NULL, ticker, t) != 0) {
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mutex);
    free(t);
    return llmh_error_set(err, 500, "threaded: cannot start thread");
  }
  *instance = t;
  return 0;
}

static void th_destroy(void *instance) {
  threaded_instance *t = (threaded_instance *)instance;
  if (!t) return;
  pthread_mutex_lock(&t->mutex);
  t->stop = 1;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->mutex);
  pthread_join(t->thread, NULL);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->mutex);
  free(t);
}

static int th_complete(void *instance, const llmh_request *request,
                       const llmh_response_builder *out, llmh_error *err) {
  (void)instance;
  (void)request;
  (void)err;
  out->append_content(out, llmh_str_c("threaded"));
  out->set_finish_reason(out, llmh_str_c("stop"));
  return 0;
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    "threaded",
    "1.0.0",
    "runs a background thread between create and destroy",
    LLMH_CAP_COMPLETE,
    NULL,
    th_create,
    th_destroy,
    th_complete,
    NULL,
    NULL,
    NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
