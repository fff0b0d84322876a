// The host HTTP service behind the "llmhost.http.v1" extension: validates a plugin's request,
// runs attempts on pooled connections, retries transient failures within one deadline, and
// logs each attempt without secrets.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>

#include "curl_pool.hpp"
#include "llmhost/http.h"
#include "transfer.hpp"

// The response handed to plugins; opaque to them (declared in http.h).
struct llmh_http_response {
  long status = 0;
  llmhost::detail::http::Headers headers;
  std::string body;
};

namespace llmhost::detail::http {

using LogFn = std::function<void(int level, std::string_view provider, std::string_view message)>;

class HttpService {
 public:
  // Attempts are logged through `log`; lines below `min_level` are not even formatted, so pass
  // the level below which `log` drops lines.
  HttpService(LogFn log, int min_level);

  // Performs `request` (see llmh_http_api.perform). Returns the response, or nullptr with `err`
  // filled. Never throws. Any thread, concurrently.
  std::unique_ptr<llmh_http_response> perform(const llmh_http_request &request, llmh_error &err) noexcept;

 private:
  std::unique_ptr<llmh_http_response> perform_or_throw(const llmh_http_request &request, llmh_error &err);
  double random01();
  // Logs "METHOD redacted-url (attempt N)" followed by `outcome`, when `level` is logged.
  void log_attempt(int level, std::string_view method, std::string_view url, uint32_t attempt,
                   std::initializer_list<std::string_view> outcome);

  LogFn log_;
  int min_level_;
  CurlPool pool_;
  std::mutex rng_mu_;
  std::minstd_rand rng_;
};

}  // namespace llmhost::detail::http
