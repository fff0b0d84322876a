// One HTTP attempt on a curl easy handle: sends the request, collects status and headers, and
// hands the body to a BodySink. Knows nothing about retries (see http_call.hpp) nor about who
// drives the handle: run_transfer waits on a pooled slot's own multi handle, async_client.cpp on
// the event loop's shared one.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/body_sink.hpp"
#include "http/curl_pool.hpp"
#include "http/transfer_result.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

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

  // Ends the attempt with curl's `code` (as a Failure and its cause) once the handle is out of its multi handle
  // (removing an unfinished transfer is what closes its connection): reads the status and hands on_line a last line
  // that had no terminator. The result may be moved from.
  TransferResult &finish(CURLcode code);

 private:
  static size_t on_body(char *data, size_t size, size_t count, void *self);
  static size_t on_header(char *data, size_t size, size_t count, void *self);
  static curl_socket_t open_socket(void *self, curlsocktype purpose, curl_sockaddr *address);

  CURL *easy_ = nullptr;
  TransferResult out_;
  BodySink body_;
  // curl's own words for a failure ("Failed to connect to HOST port N after 3 ms: ..."), more
  // than its code's name. Names hosts, not URLs.
  char error_[CURL_ERROR_SIZE] = {};
  int socket_errno_ = 0;  // why the socket for a connection could not be opened, which curl does not say
};

// Runs one attempt to completion, failure or cancellation on the slot's own multi handle,
// polling the cancel hook. The slot's connection is kept for reuse only after a complete
// exchange; an abandoned one is closed. Calling thread only.
TransferResult run_transfer(const CurlSlot &slot, const TransferSpec &spec);

}  // namespace llmhost::detail::http
