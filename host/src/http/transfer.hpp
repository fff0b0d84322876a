// One HTTP attempt on a curl easy handle: sends the request, collects status and headers, and
// either keeps the body or splits a 2xx body into lines for the plugin's callback. Knows
// nothing about retries (see http_call.hpp) nor about who drives the handle: run_transfer waits
// on a pooled slot's own multi handle, async_client.cpp on the event loop's shared one.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/curl_pool.hpp"
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
  Headers headers;             // of the final response
  std::string body;            // empty when streamed to on_line
  bool delivered = false;      // at least one line reached on_line
  bool consumer_stop = false;  // on_line returned non-zero
  bool cancelled = false;      // the cancel hook said stop
  bool too_large = false;      // the body exceeded the size limit
};

// What one attempt collects through curl's header and body callbacks. Lives at a fixed address
// from begin() to finish() (curl holds a pointer to it); one attempt at a time, reusable. Used
// on the thread that drives the easy handle only.
class Attempt {
 public:
  Attempt() = default;
  Attempt(const Attempt &) = delete;
  Attempt &operator=(const Attempt &) = delete;

  // Points `easy` at `spec` (which must outlive the attempt) and at this object, and forgets
  // what a previous attempt collected. Sets every option a transfer uses, so nothing of the
  // previous call on a reused handle leaks into this one.
  void begin(CURL *easy, const TransferSpec &spec);

  // Records that the cancel hook stopped the transfer.
  void mark_cancelled() { out_.cancelled = true; }

  // Ends the attempt with curl's `code` once the handle is out of its multi handle (removing an
  // unfinished transfer is what closes its connection): reads the status and hands on_line a
  // last line that had no terminator. The result may be moved from.
  TransferResult &finish(CURLcode code);

 private:
  static size_t on_body(char *data, size_t size, size_t count, void *self);
  static size_t on_header(char *data, size_t size, size_t count, void *self);
  bool deliver(std::string_view line);

  const TransferSpec *spec_ = nullptr;
  CURL *easy_ = nullptr;
  TransferResult out_;
  bool decided_ = false;  // whether this body goes to on_line is decided at its first byte
  bool lines_ = false;
  std::string pending_;  // an incomplete line
};

// Runs one attempt to completion, failure or cancellation on the slot's own multi handle,
// polling the cancel hook. The slot's connection is kept for reuse only after a complete
// exchange; an abandoned one is closed. Calling thread only.
TransferResult run_transfer(const CurlSlot &slot, const TransferSpec &spec);

// Case-insensitive lookup of a header; nullptr when absent. Any thread.
const std::string *find_header(const Headers &headers, std::string_view name);

}  // namespace llmhost::detail::http
