/*
 * llmhost HTTP service, host extension "llmhost.http.v1" (C99).
 *
 * The host's pooled HTTP client, offered to every plugin so that plugins need not bring their
 * own HTTP stack. A plugin asks for the table once (usually in `create`) and keeps it:
 *
 *   const llmh_http_api *http =
 *       (const llmh_http_api *)host->get_extension(host, LLMH_HTTP_EXTENSION_ID);
 *
 * It is NULL when the host has no HTTP service. The table is owned by the host and lives as
 * long as the llmh_host_api it came from (until `destroy` of the instance returns).
 *
 * What the service does for every request:
 * - Reuses connections (keep-alive): sequential calls to one upstream share one TCP connection;
 *   concurrent calls each get their own pooled connection.
 * - Applies a connect timeout and a total deadline (default 600 s) that covers all attempts.
 * - Verifies TLS against the system CA store; honours http_proxy / https_proxy / no_proxy.
 * - Retries connect failures and statuses 429, 500, 502, 503, 504 up to `num_retries` times with
 *   exponential backoff and jitter, waiting `Retry-After` (or `retry-after-ms`) when the
 *   upstream sends it. A request is never retried once a byte of a streamed (2xx) body reached
 *   the plugin's line callback.
 * - Logs method, host, path, status and time. Never logs header values, bodies or query strings,
 *   so an API key in an Authorization header or in the URL query stays out of the log.
 *
 * Ownership follows provider.h: views are borrowed for the duration of the call that hands them
 * over; the response object is allocated by the host and released by the plugin through this
 * table (never with free/delete). Neither side frees the other side's memory.
 */
#ifndef LLMHOST_HTTP_H
#define LLMHOST_HTTP_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_host_api.get_extension for this table. */
#define LLMH_HTTP_EXTENSION_ID "llmhost.http.v1"

/* One request or response header. A fixed pair of views (like llmh_str, it never grows), so it
 * has no struct_size. `name` is matched case-insensitively; `value` is sent as is. OWNERSHIP:
 * filled by the plugin; views, valid until `perform` or `perform_async` returns. */
typedef struct llmh_http_header {
  llmh_str name;  /* e.g. "Authorization"; no ':' and no line breaks */
  llmh_str value; /* e.g. "Bearer sk-..."; never logged by the host */
} llmh_http_header;

/* [thread: call] for `perform`, [thread: http loop] for `perform_async`. Called with each line
 * of a 2xx response body, without its "\n" or "\r\n", as soon as the line
 * is complete (the last line is delivered at the end even without a terminator). `line` is
 * valid only during the call. Return 0 to go on; non-zero stops the transfer at once, closes
 * the connection and makes `perform` fail with status 499. Runs on the thread that called
 * `perform` (for `perform_async`: the HTTP event-loop thread; it must not block). Non-2xx
 * bodies are never split into lines: they are in the response body. */
typedef int (*llmh_http_line_fn)(void *user, llmh_str line);

/* [thread: call] for `perform`, [thread: http loop] for `perform_async`. Polled by the host
 * while a request waits on the network (at least every 50 ms) and between
 * retries. Return non-zero to abandon the request: the connection is closed and `perform` fails
 * with status 499. Runs on the thread that called `perform` (for `perform_async`: the HTTP
 * event-loop thread). */
typedef int (*llmh_http_cancel_fn)(void *user);

/* One request. OWNERSHIP: filled and owned by the plugin; every view and array only needs to
 * live until `perform` (or `perform_async`) returns. Start from llmh_http_request_init() (zeroed, struct_size set),
 * then set the fields you need. */
typedef struct llmh_http_request {
  uint32_t struct_size;            /* sizeof(llmh_http_request) as the plugin compiled it */
  llmh_str method;                 /* "GET", "POST", ...; empty = POST with a body, else GET */
  llmh_str url;                    /* absolute http:// or https:// URL */
  const llmh_http_header *headers; /* request headers; may be NULL */
  size_t header_count;             /* number of entries in headers */
  llmh_str body;                   /* request body; empty for none */
  double connect_timeout_s;        /* per attempt, to open a connection; 0 = 10 s */
  double timeout_s;                /* whole request, all attempts and waits included; 0 = 600 s.
                                      Exceeded: `perform` fails with status 408 */
  uint32_t num_retries;            /* extra attempts on transient failures (see above); 0 = none */
  llmh_http_line_fn on_line;       /* NULL: the whole body is in the response. Else 2xx bodies
                                      are streamed line by line to it and not kept */
  llmh_http_cancel_fn cancelled;   /* may be NULL */
  void *user;                      /* handed to on_line and cancelled; the host never touches it */
} llmh_http_request;
LLMH_DEFINE_INIT(llmh_http_request) /* llmh_http_request_init() */

/* A response. OWNERSHIP: allocated by the host, owned by the plugin until it calls `release`;
 * opaque. Use it from one thread at a time; its views stay valid until `release`. */
typedef struct llmh_http_response llmh_http_response;

/* [thread: http loop] How an asynchronous request (`perform_async`) ends; called exactly once. On an HTTP answer of
 * any status (after retries) `response` is a new response that the plugin now owns (release it
 * with `release`) and `err` is NULL. On a transport failure `response` is NULL and `err` says
 * why, with the statuses `perform` uses; `err` is owned by the host and valid during the call.
 * Runs on the host's HTTP event loop, like on_line and cancelled of that request: it must
 * return quickly and never block (no `perform`, no waiting for another request). `user` is the
 * request's, or NULL when the request itself could not be read (NULL, struct_size too small). */
typedef void (*llmh_http_done_fn)(void *user, llmh_http_response *response, const llmh_error *err);

/* The service table. OWNERSHIP: filled and owned by the host; valid as long as the
 * llmh_host_api it came from. Every function may be called from any thread, concurrently
 * (responses excepted, see above). */
typedef struct llmh_http_api {
  uint32_t struct_size; /* sizeof(llmh_http_api) as the host compiled it */
  void *host_data;      /* host-private; do not touch */

  /* [thread: any] Sends `request`, retrying as described above. On an HTTP answer of any status (after
   * retries) stores a new response in *out and returns 0. On a transport failure stores NULL in
   * *out, fills `err` and returns non-zero: 408 deadline exceeded, 499 stopped by on_line or
   * cancelled, 503 could not connect (the message names the URL without its query string),
   * 502 connection broken or other transport error, 400 malformed request, 500 the service
   * itself failed (out of memory). Blocks the calling thread; `err` is owned by the caller. */
  int (*perform)(const struct llmh_http_api *self, const llmh_http_request *request, llmh_http_response **out,
                 llmh_error *err);

  /* [thread: one at a time] The HTTP status code of the final attempt (e.g. 200, 429). */
  int32_t (*status)(const llmh_http_response *response);

  /* [thread: one at a time] The response body (empty when it was streamed to on_line). Valid
   * until `release`. */
  llmh_str (*body)(const llmh_http_response *response);

  /* [thread: one at a time] The value of the first header named `name` (case-insensitive), or an empty view with a NULL
   * ptr when absent. Valid until `release`. */
  llmh_str (*header)(const llmh_http_response *response, llmh_str name);

  /* [thread: one at a time] Releases a response from `perform` or `perform_async`. NULL is
   * allowed. The response must not be used after. */
  void (*release)(llmh_http_response *response);

  /* ---- [since 1.1] Check LLMH_HAS_FIELD(api, llmh_http_api, perform_async) first. ---- */

  /* [thread: any] Starts `request` and returns at once: the same request, retries, deadline and errors as
   * `perform`, without holding the calling thread. The host copies what it needs, so the
   * request's views need only live until this returns; `request->user` is handed to on_line,
   * cancelled and `done`. `done` is called exactly once, on the host's HTTP event loop (one
   * thread, or a strand over the server's I/O threads: one callback at a time) and never from
   * inside perform_async (a malformed request reports 400 through it too; only a host that
   * cannot allocate at all answers 500 from inside), possibly before perform_async has returned
   * to its caller: set up everything `done` uses first. The event loop serves many requests:
   * on_line, cancelled and done must not block. Every request a plugin starts must have had its
   * `done` before the plugin's `destroy` returns. Any thread. */
  void (*perform_async)(const struct llmh_http_api *self, const llmh_http_request *request, llmh_http_done_fn done);
} llmh_http_api;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_HTTP_H */
