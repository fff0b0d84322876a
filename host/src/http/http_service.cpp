#include "http_service.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "retry.hpp"
#include "url.hpp"

namespace llmhost::detail::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

constexpr Millis kDefaultTimeout{600000};
constexpr Millis kDefaultConnectTimeout{10000};

std::string_view sv(llmh_str s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

Millis seconds_or(double s, Millis fallback) {
  if (!(s > 0)) return fallback;
  return Millis(static_cast<int64_t>(std::min(s, 1e7) * 1000));
}

bool connect_failure(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_RESOLVE_PROXY;
}

bool clean_header_text(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

struct SlistDeleter {
  void operator()(curl_slist *l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Builds curl's header list; nullptr (and `err` set) for a header that could inject lines.
Slist build_headers(const llmh_http_request &r, llmh_error &err, bool &ok) {
  Slist list;
  ok = true;
  auto append = [&](const std::string &line) {
    curl_slist *next = curl_slist_append(list.get(), line.c_str());
    if (!next) throw std::bad_alloc();
    (void)list.release();
    list.reset(next);
  };
  for (size_t i = 0; r.headers && i < r.header_count; ++i) {
    const std::string_view name = sv(r.headers[i].name), value = sv(r.headers[i].value);
    if (name.empty() || name.find(':') != std::string_view::npos || !clean_header_text(name) ||
        !clean_header_text(value)) {
      ok = false;
      llmh_error_set(&err, 400, ("HTTP header \"" + std::string(name.substr(0, 64)) +
                                 "\" has an invalid name or a line break in its value")
                                    .c_str());
      return Slist();
    }
    // "Name;" is curl's way to send a header with an empty value.
    append(value.empty() ? std::string(name) + ";" : std::string(name) + ": " + std::string(value));
  }
  append("Expect:");  // no "100-continue" round trip before large bodies
  return list;
}

// Sleeps `delay` in short steps so that a cancel is honoured; false when cancelled.
bool wait(Millis delay, const llmh_http_request &r) {
  const auto until = Clock::now() + delay;
  while (Clock::now() < until) {
    if (r.cancelled && r.cancelled(r.user) != 0) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(Millis(50), until - Clock::now()));
  }
  return true;
}

}  // namespace

HttpService::HttpService(LogFn log) : log_(std::move(log)), rng_(std::random_device{}()) {}

double HttpService::random01() {
  std::lock_guard lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

std::unique_ptr<llmh_http_response> HttpService::perform(const llmh_http_request &request, llmh_error &err) noexcept {
  try {
    return perform_or_throw(request, err);
  } catch (const std::exception &e) {
    llmh_error_set(&err, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
  } catch (...) {
    llmh_error_set(&err, 500, "HTTP service failure");
  }
  return nullptr;
}

std::unique_ptr<llmh_http_response> HttpService::perform_or_throw(const llmh_http_request &r, llmh_error &err) {
  const std::string url(sv(r.url));
  const std::string shown = redact_url(url);  // the only form of the URL that is logged or reported
  if (!is_http_url(url) || !clean_header_text(url)) {
    llmh_error_set(&err, 400, ("not an absolute http(s) URL: \"" + shown.substr(0, 200) + "\"").c_str());
    return nullptr;
  }
  std::string method(sv(r.method));
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  if (method.empty()) method = r.body.len ? "POST" : "GET";
  bool ok = true;
  Slist headers = build_headers(r, err, ok);
  if (!ok) return nullptr;

  const Millis total = seconds_or(r.timeout_s, kDefaultTimeout);
  const auto start = Clock::now();
  const auto deadline = start + total;
  TransferSpec spec;
  spec.method = method;
  spec.url = url;
  spec.headers = headers.get();
  spec.body = sv(r.body);
  spec.on_line = r.on_line;
  spec.cancelled = r.cancelled;
  spec.user = r.user;
  const Millis connect_timeout = seconds_or(r.connect_timeout_s, kDefaultConnectTimeout);
  const std::string what = method + " " + shown;

  for (uint32_t attempt = 0;; ++attempt) {
    const auto remaining = duration_cast<Millis>(deadline - Clock::now());
    if (remaining <= Millis(0)) {
      llmh_error_set(&err, 408, (what + " timed out after " + std::to_string(total.count()) + " ms").c_str());
      return nullptr;
    }
    spec.timeout = std::max(remaining, Millis(1));
    spec.connect_timeout = std::min(connect_timeout, spec.timeout);
    const auto attempt_start = Clock::now();
    TransferResult t;
    {
      CurlPool::Lease lease = pool_.acquire();
      t = run_transfer(lease.slot(), pool_.share(), spec);
    }
    const auto ms = duration_cast<Millis>(Clock::now() - attempt_start).count();
    const bool can_retry = attempt < r.num_retries && !t.delivered;
    const std::string tag = what + " (attempt " + std::to_string(attempt + 1) + ")";

    if (t.cancelled || t.consumer_stop) {
      log_(LLMH_LOG_INFO, "http", tag + " stopped by the caller after " + std::to_string(ms) + " ms");
      llmh_error_set(&err, 499, (what + " was cancelled").c_str());
      return nullptr;
    }
    if (t.code != CURLE_OK) {
      const bool deadline_hit = Clock::now() + Millis(20) >= deadline;
      const bool timed_out = t.code == CURLE_OPERATION_TIMEDOUT;
      const std::string cause = curl_easy_strerror(t.code);
      log_(LLMH_LOG_WARN, "http", tag + " failed after " + std::to_string(ms) + " ms: " + cause);
      if (timed_out && (deadline_hit || t.status != 0)) {
        llmh_error_set(&err, 408, (what + " timed out after " + std::to_string(total.count()) + " ms").c_str());
        return nullptr;
      }
      // A connect timeout before the deadline counts as a failure to connect.
      const bool connect = connect_failure(t.code) || timed_out;
      if (connect && can_retry) {
        if (!wait(backoff_delay(attempt, random01()), r)) {
          llmh_error_set(&err, 499, (what + " was cancelled").c_str());
          return nullptr;
        }
        continue;
      }
      if (t.too_large) {
        llmh_error_set(&err, 502, (what + ": the response body is too large").c_str());
      } else if (connect) {
        llmh_error_set(&err, 503, ("could not connect to " + shown + ": " + cause).c_str());
      } else {
        llmh_error_set(&err, 502, (what + " failed: " + cause).c_str());
      }
      return nullptr;
    }

    log_(retryable_status(t.status) ? LLMH_LOG_WARN : LLMH_LOG_INFO, "http",
         tag + " -> " + std::to_string(t.status) + " in " + std::to_string(ms) + " ms");
    if (retryable_status(t.status) && can_retry) {
      const std::string *ra = find_header(t.headers, "retry-after");
      const std::string *ra_ms = find_header(t.headers, "retry-after-ms");
      const auto asked = requested_delay(ra ? *ra : std::string_view(), ra_ms ? *ra_ms : std::string_view());
      const Millis delay = asked ? *asked : backoff_delay(attempt, random01());
      // Waiting past the deadline would only turn this answer into a timeout.
      if (Clock::now() + delay < deadline) {
        if (!wait(delay, r)) {
          llmh_error_set(&err, 499, (what + " was cancelled").c_str());
          return nullptr;
        }
        continue;
      }
    }
    auto response = std::make_unique<llmh_http_response>();
    response->status = t.status;
    response->headers = std::move(t.headers);
    response->body = std::move(t.body);
    return response;
  }
}

}  // namespace llmhost::detail::http
