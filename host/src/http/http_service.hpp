// The host HTTP service behind the "llmhost.http.v1" extension: validates a plugin's request,
// runs attempts on pooled connections (perform: on the calling thread, with libcurl;
// perform_async: on an event loop, with the Asio client, or libcurl where only it will do),
// retries transient failures within one deadline, and logs each attempt without secrets.
//
// LLMHOST_HTTP_CLIENT=curl in the environment sends every call through libcurl; so does a proxy
// variable that applies to a scheme (http_proxy; https_proxy or HTTPS_PROXY; all_proxy or
// ALL_PROXY for both), since only curl reads them and no_proxy. Read once, when the service is
// made.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "http/asio.hpp"
#include "http/call_policy.hpp"
#include "http/curl_pool.hpp"
#include "http/response.hpp"
#include "http/wire_routes.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

class AsyncClient;
class EventLoop;

class HttpService {
 public:
  // Attempts are logged through `log`; lines below `min_level` are not even formatted, so pass
  // the level below which `log` drops lines.
  //
  // `loop` is where perform_async runs its exchanges and calls on_line, cancelled and done.
  // Empty (the default): the service's own event loop, one thread named "llmh-http" that it
  // starts at the first perform_async and joins when destroyed. Given: the embedder's executor
  // (e.g. the proxy's io_context), which may be run by several threads (the service keeps its
  // work on a strand of it, unless `loop_threads` says one thread runs it: a strand inside an
  // any_io_executor allocates on every executor copy a socket operation makes); it must keep
  // running until this service is destroyed, and the service must not be destroyed from one of
  // its threads.
  HttpService(LogFn log, int min_level, boost::asio::any_io_executor loop = {}, unsigned loop_threads = 0);
  // Ends every perform_async in flight with 499 "the HTTP service is shutting down" (each done
  // runs on the loop), then stops and joins the own loop's thread. Never from the loop thread.
  ~HttpService();
  HttpService(const HttpService &) = delete;
  HttpService &operator=(const HttpService &) = delete;

  // Performs `request` (see llmh_http_api.perform). Returns the response, or nullptr with `err`
  // filled. Never throws. Any thread, concurrently.
  std::unique_ptr<llmh_http_response> perform(const llmh_http_request &request, llmh_error &err) noexcept;

  // Starts `request` (see llmh_http_api.perform_async); `done` runs on the loop, exactly once,
  // never inside this call. Never throws (when memory runs out, `done` may never be called).
  // Any thread, concurrently.
  void perform_async(const llmh_http_request &request, llmh_http_done_fn done) noexcept;
  // Reports a request that could not be read to `done` the way perform_async reports a
  // malformed one: done(user, NULL, {status, message}) on the loop. Same rules.
  void reject_async(void *user, llmh_http_done_fn done, int32_t status, const char *message) noexcept;

 private:
  std::unique_ptr<llmh_http_response> perform_or_throw(const llmh_http_request &request, llmh_error &err);
  AsyncClient &async_client();

  const WireRoutes routes_;
  CallPolicy policy_;
  CurlPool pool_;
  boost::asio::any_io_executor loop_;  // the embedder's, or empty
  unsigned loop_threads_;              // how many run loop_; 0: not known
  std::once_flag async_once_;
  std::unique_ptr<EventLoop> own_loop_;  // when loop_ is empty, from the first perform_async
  std::unique_ptr<AsyncClient> async_;   // from the first perform_async
};

}  // namespace llmhost::detail::http
