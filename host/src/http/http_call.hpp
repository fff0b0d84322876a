// A plugin's HTTP request, validated and laid out once for all of its attempts: the URL, the
// header list curl reads and (for a request that outlives the caller's views) the body, in one
// allocation; the method, the timeouts and the deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/transfer.hpp"
#include "http/url.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

class HttpCall {
 public:
  HttpCall() = default;
  // Not movable: the transfer spec and the curl header nodes point into this object's storage.
  HttpCall(const HttpCall &) = delete;
  HttpCall &operator=(const HttpCall &) = delete;

  // Validates `r` and takes what the attempts need; the deadline starts now. With `own_body`
  // the body is copied (a call that outlives `r`'s views), else `r.body` must outlive the call.
  // False with a 400 in `err` for a malformed request. Throws std::bad_alloc. Calling thread.
  bool prepare(const llmh_http_request &r, bool own_body, llmh_error &err);

  // Gives the next attempt what is left of the deadline; false with a 408 in `err` once the
  // deadline has passed. Thread that owns the call.
  bool next_attempt(llmh_error &err);

  // Fills `err` with the 499 of a call stopped by its caller.
  void fail_cancelled(llmh_error &err) const;
  // Fills `err` with `status` and "<what()><detail>".
  void fail(llmh_error &err, int32_t status, std::string_view detail) const;

  // "METHOD scheme://host/path": the call as logs and errors may show it (no query, no keys).
  std::string what() const;

  const TransferSpec &spec() const { return spec_; }
  // Where the URL goes, for the Asio client (views into this call); nullopt with userinfo.
  const std::optional<WireTarget> &wire_target() const { return wire_; }
  std::string_view method() const { return method_; }
  std::string_view url() const { return spec_.url; }
  uint32_t num_retries() const { return num_retries_; }
  Clock::time_point deadline() const { return deadline_; }
  Millis total() const { return total_; }

 private:
  std::unique_ptr<std::byte[]> storage_;  // header nodes, then URL, header lines and body text
  std::string method_;
  TransferSpec spec_;
  std::optional<WireTarget> wire_;
  Millis total_{0};
  Millis connect_timeout_{0};
  Clock::time_point deadline_;
  uint32_t num_retries_ = 0;
};

}  // namespace llmhost::detail::http
