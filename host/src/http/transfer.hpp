// One HTTP attempt on a pooled curl slot: sends the request, collects status and headers, and
// either keeps the body or splits a 2xx body into lines for the plugin's callback. Knows
// nothing about retries (see http_service.cpp).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "curl_pool.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TransferSpec {
  std::string_view method;  // upper case; "GET" sends no body
  const char *url = "";     // NUL-terminated for curl
  curl_slist *headers = nullptr;
  std::string_view body;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{600000};  // this attempt's share of the deadline
  llmh_http_line_fn on_line = nullptr;
  llmh_http_cancel_fn cancelled = nullptr;
  void *user = nullptr;
};

struct TransferResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  Headers headers;       // of the final response
  std::string body;      // empty when streamed to on_line
  bool delivered = false;     // at least one line reached on_line
  bool consumer_stop = false; // on_line returned non-zero
  bool cancelled = false;     // the cancel hook said stop
  bool too_large = false;     // the body exceeded the size limit
};

// Runs one attempt to completion, failure or cancellation. The slot's connection is kept for
// reuse only after a complete exchange; an abandoned one is closed. Calling thread only.
TransferResult run_transfer(const CurlSlot &slot, const TransferSpec &spec);

// Case-insensitive lookup of a header; nullptr when absent.
const std::string *find_header(const Headers &headers, std::string_view name);

}  // namespace llmhost::detail::http
