/*
 * llmhost asynchronous call form, plugin extension "llmhost.async.v1" (C99).
 *
 * A provider whose calls wait on the network (almost all of them) holds a host thread for the
 * whole wait when it answers through `complete`. With this extension it starts the call and
 * returns at once, and reports the end later: the host then needs no thread per call in flight,
 * and `llmhost serve` runs the call on its I/O threads with no hand-off to a worker. Pair it
 * with the HTTP service's `perform_async` (llmhost/http.h), whose completion runs on the host's
 * HTTP event loop.
 *
 * The host asks for the table once per instance, after `create`:
 *
 *   const llmh_async_provider *a =
 *       (const llmh_async_provider *)provider->get_extension(instance, LLMH_ASYNC_EXTENSION_ID);
 *
 * and uses `complete_async` instead of `complete` (and, from ABI 1.2, `stream_async` instead of
 * `stream`) when it is there. A plugin offering it must still implement the blocking functions
 * (LLMH_CAP_COMPLETE, LLMH_CAP_STREAM): hosts without this extension, and callers that want to
 * block, use them.
 *
 * Ownership follows provider.h, with one change: the request, the builder or sink and `done`
 * handed to `complete_async` or `stream_async` stay valid until the plugin calls done->finish,
 * not just until the function returns.
 */
#ifndef LLMHOST_ASYNC_H
#define LLMHOST_ASYNC_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_provider.get_extension for this table. */
#define LLMH_ASYNC_EXTENSION_ID "llmhost.async.v1"

/* How the plugin ends one asynchronous call. OWNERSHIP: filled and owned by the host; valid
 * until `finish` returns. */
typedef struct llmh_call_done {
  uint32_t struct_size; /* sizeof(llmh_call_done) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: any] Ends the call: `err` NULL for success (the builder holds the answer), else the failure
   * (status and message, as a synchronous call would fill them; copied by the host). Exactly
   * once per call, from any thread, including from inside complete_async itself. After it the
   * plugin must not touch the request, the builder or this struct again. */
  void (*finish)(const struct llmh_call_done *self, const llmh_error *err);
} llmh_call_done;

/* The plugin's asynchronous call table. OWNERSHIP: filled and owned by the plugin, static or
 * per instance; valid until `destroy` of the instance. */
typedef struct llmh_async_provider {
  uint32_t struct_size; /* sizeof(llmh_async_provider) as the plugin compiled it */
  /* [thread: any] Starts a chat completion and returns without waiting for it: the same request and the same
   * answer as `complete`, delivered through `out` and then done->finish. `request`, `out` and
   * `done` stay valid until finish; builder functions may be called from any thread until then,
   * one at a time (not concurrently). out->cancelled turns true when the caller gives up or the
   * deadline passes: finish promptly then (an error of 0 or 499 becomes the host's 499 or 408;
   * another status of yours is kept, as for `complete`). Finish only once nothing of the call
   * can still call into the plugin: every perform_async it started has had its `done`, no timer
   * or callback of it is pending (the build may be unloaded right after finish). Called
   * concurrently from the host's threads (llmhost serve: its I/O threads; an embedder: whatever
   * thread calls llmhost::Host): it must not block (no network wait, no blocking `perform`, no
   * lock held for long). Never NULL in a table the plugin hands out. */
  void (*complete_async)(void *instance, const llmh_request *request, const llmh_response_builder *out,
                         const llmh_call_done *done);

  /* ---- [since 1.2] The host reads it only when struct_size covers it. ---- */

  /* [thread: any] Starts a stream and returns without waiting for it: the same request and the same chunks
   * as `stream`, delivered through sink->emit and then done->finish (err NULL: the stream ended
   * normally; else its failure, as `stream` would return it). `request`, `sink` and `done` stay
   * valid until finish. emit and cancelled may be called from any thread until then, one call
   * at a time (not concurrently), in the chunks' order. emit does not wait for the consumer when
   * called on the host's HTTP event loop: the host queues what the consumer has not taken yet,
   * and past a limit of its own (a client that stopped reading) emit returns non-zero as for a
   * cancel. From a thread of the plugin's own, emit may wait while the consumer is far behind,
   * as in `stream`. Non-zero from emit or cancelled: stop and finish promptly (an error of 0 or
   * 499 becomes the host's 499 or 408). The rules for finishing and for not blocking are those
   * of complete_async. NULL when the plugin streams only through `stream`; a plugin offering it
   * must declare LLMH_CAP_STREAM and still implement `stream`. */
  void (*stream_async)(void *instance, const llmh_request *request, const llmh_stream_sink *sink,
                       const llmh_call_done *done);
} llmh_async_provider;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_ASYNC_H */
