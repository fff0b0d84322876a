// perform_async's engine: runs plugin requests on an event loop with no thread per request.
// http:// and https:// upstreams are carried by the Asio client (wire_exchange.hpp: Beast's
// parser on the loop's own sockets, keep-alive connections per origin), where the service's
// WireRoutes say so; the rest (proxies, userinfo, LLMHOST_HTTP_CLIENT=curl) by libcurl, every
// transfer of which shares one curl multi handle (curl_multi_loop.hpp, one connection cache). Retries wait on Asio
// timers; one periodic timer polls the `cancelled` hooks, and only while requests that have one are in flight. Attempts
// are judged by the same CallPolicy as the blocking path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "http/asio.hpp"
#include "http/call_policy.hpp"
#include "http/curl_multi_loop.hpp"
#include "http/curl_pool.hpp"
#include "http/pending_handlers.hpp"
#include "http/transfer_result.hpp"
#include "http/wire_pool.hpp"
#include "http/wire_routes.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

class AsyncClient {
 public:
  // Runs on `executor`, which must run its handlers one at a time (a single-threaded
  // io_context, or a strand); every callback of every request runs there. `pool` and `policy`
  // must outlive the client. `routes` picks the client per scheme. Throws std::runtime_error.
  // Any thread.
  AsyncClient(boost::asio::any_io_executor executor, CurlPool &pool, CallPolicy &policy, WireRoutes routes);
  // Calls shutdown(). Same rules.
  ~AsyncClient();
  AsyncClient(const AsyncClient &) = delete;
  AsyncClient &operator=(const AsyncClient &) = delete;

  // Copies `request` and starts it; `done` gets the outcome on the loop, never from inside
  // this function (a malformed request too). Throws std::bad_alloc, and then `done` is never
  // called. Any thread.
  void start(const llmh_http_request &request, llmh_http_done_fn done);
  // Reports a request that could not even be read: done(user, NULL, {status, message}) on the
  // loop. Same throws. Any thread.
  void reject(void *user, llmh_http_done_fn done, int32_t status, const char *message);

  // Ends every request in flight with 499 "the HTTP service is shutting down" (done runs on the
  // loop), closes every connection and waits until no handler of this client is left on the
  // executor. The executor must keep running until this returns. Called on the loop itself it
  // could only deadlock, so it aborts the process with a message instead. Requests started
  // after it are a caller bug. Idempotent. Any thread but the loop's.
  void shutdown();

 private:
  struct Call;

  static void on_finished(void *self, CURL *easy, CURLcode code);
  static void on_wire_done(void *call, TransferResult &t);
  void begin(Call *c);
  void next_attempt(Call *c);
  void settle_curl(Call *c, CURLcode code);
  void settle(Call *c, TransferResult &t);
  void back_off(Call *c, Millis delay);
  void finish(Call *c, llmh_http_response *response);
  void fail(Call *c, int32_t status, const char *message);
  void arm_poll();
  void poll();
  void cancel(Call *c);
  void stop_all();
  bool on_loop() const;

  CallPolicy &policy_;
  const WireRoutes routes_;
  PendingHandlers pending_;  // every handler of this client: shutdown drains them
  CurlMultiLoop multi_;
  WirePool wire_pool_;
  boost::asio::steady_timer poll_timer_;
  bool poll_armed_ = false;
  Call *head_ = nullptr;   // requests begun and not finished, linked through Call::prev/next
  size_t polled_ = 0;      // how many of them have a cancelled hook
  bool stopping_ = false;  // loop side: shutdown has begun
  bool shut_ = false;      // caller side: shutdown() has run
};

}  // namespace llmhost::detail::http
