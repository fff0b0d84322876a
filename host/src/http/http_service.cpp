#include "http_service.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

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

// The request headers as the curl_slist that CURLOPT_HTTPHEADER reads, in two allocations
// rather than curl_slist_append's two per header: the lines live in one string, the list nodes
// in one vector. curl only reads the list (it never frees or keeps it past the transfer).
// Not movable: the nodes point into the string.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList &) = delete;
  HeaderList &operator=(const HeaderList &) = delete;

  // False (and `err` set) for a header that could inject lines.
  bool build(const llmh_http_request &r, llmh_error &err) {
    const size_t count = r.headers ? r.header_count : 0;
    size_t size = sizeof "Expect:";
    for (size_t i = 0; i < count; ++i) {
      const std::string_view name = sv(r.headers[i].name), value = sv(r.headers[i].value);
      if (name.empty() || name.find(':') != std::string_view::npos || !clean_header_text(name) ||
          !clean_header_text(value)) {
        llmh_error_set(&err, 400, ("HTTP header \"" + std::string(name.substr(0, 64)) +
                                   "\" has an invalid name or a line break in its value")
                                      .c_str());
        return false;
      }
      size += name.size() + 2 + value.size() + 1;
    }
    // Reserved up front, so neither buffer moves while nodes point into them.
    text_.reserve(size);
    nodes_.reserve(count + 1);
    auto add_line = [&](std::string_view name, std::string_view separator, std::string_view value) {
      char *line = text_.data() + text_.size();
      text_.append(name).append(separator).append(value) += '\0';
      nodes_.push_back(curl_slist{line, nullptr});
      if (nodes_.size() > 1) nodes_[nodes_.size() - 2].next = &nodes_.back();
    };
    for (size_t i = 0; i < count; ++i) {
      const std::string_view name = sv(r.headers[i].name), value = sv(r.headers[i].value);
      // "Name;" is curl's way to send a header with an empty value.
      add_line(name, value.empty() ? ";" : ": ", value);
    }
    add_line("Expect:", "", "");  // no "100-continue" round trip before large bodies
    return true;
  }

  curl_slist *get() { return nodes_.data(); }

 private:
  std::string text_;
  std::vector<curl_slist> nodes_;
};

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

HttpService::HttpService(LogFn log, int min_level)
    : log_(std::move(log)), min_level_(min_level), rng_(std::random_device{}()) {}

double HttpService::random01() {
  std::lock_guard lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void HttpService::log_attempt(int level, std::string_view method, std::string_view url, uint32_t attempt,
                              std::initializer_list<std::string_view> outcome) {
  if (level < min_level_) return;  // most calls: nothing to format
  const std::string shown = redact_url(url);
  const std::string number = std::to_string(attempt + 1);
  std::string line;
  size_t size = method.size() + 1 + shown.size() + 10 + number.size() + 1;
  for (std::string_view part : outcome) size += part.size();
  line.reserve(size);
  line.append(method).append(" ").append(shown).append(" (attempt ").append(number).append(")");
  for (std::string_view part : outcome) line.append(part);
  log_(level, "http", line);
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
  // Only the redacted form of the URL is ever logged or reported; it is made only for an error
  // or a log line, since most calls have neither.
  if (!is_http_url(url) || !clean_header_text(url)) {
    llmh_error_set(&err, 400, ("not an absolute http(s) URL: \"" + redact_url(url).substr(0, 200) + "\"").c_str());
    return nullptr;
  }
  std::string method(sv(r.method));
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  if (method.empty()) method = r.body.len ? "POST" : "GET";
  const auto what = [&] { return method + " " + redact_url(url); };
  HeaderList headers;
  if (!headers.build(r, err)) return nullptr;

  const Millis total = seconds_or(r.timeout_s, kDefaultTimeout);
  const auto start = Clock::now();
  const auto deadline = start + total;
  TransferSpec spec;
  spec.method = method;
  spec.url = url.c_str();
  spec.headers = headers.get();
  spec.body = sv(r.body);
  spec.on_line = r.on_line;
  spec.cancelled = r.cancelled;
  spec.user = r.user;
  const Millis connect_timeout = seconds_or(r.connect_timeout_s, kDefaultConnectTimeout);

  for (uint32_t attempt = 0;; ++attempt) {
    const auto remaining = duration_cast<Millis>(deadline - Clock::now());
    if (remaining <= Millis(0)) {
      llmh_error_set(&err, 408, (what() + " timed out after " + std::to_string(total.count()) + " ms").c_str());
      return nullptr;
    }
    spec.timeout = std::max(remaining, Millis(1));
    spec.connect_timeout = std::min(connect_timeout, spec.timeout);
    const auto attempt_start = Clock::now();
    TransferResult t;
    {
      CurlPool::Lease lease = pool_.acquire();
      t = run_transfer(lease.slot(), spec);
    }
    const std::string ms = std::to_string(duration_cast<Millis>(Clock::now() - attempt_start).count());
    const bool can_retry = attempt < r.num_retries && !t.delivered;

    if (t.cancelled || t.consumer_stop) {
      log_attempt(LLMH_LOG_INFO, method, url, attempt, {" stopped by the caller after ", ms, " ms"});
      llmh_error_set(&err, 499, (what() + " was cancelled").c_str());
      return nullptr;
    }
    if (t.code != CURLE_OK) {
      const bool deadline_hit = Clock::now() + Millis(20) >= deadline;
      const bool timed_out = t.code == CURLE_OPERATION_TIMEDOUT;
      const std::string_view cause = curl_easy_strerror(t.code);
      log_attempt(LLMH_LOG_WARN, method, url, attempt, {" failed after ", ms, " ms: ", cause});
      if (timed_out && (deadline_hit || t.status != 0)) {
        llmh_error_set(&err, 408, (what() + " timed out after " + std::to_string(total.count()) + " ms").c_str());
        return nullptr;
      }
      // A connect timeout before the deadline counts as a failure to connect.
      const bool connect = connect_failure(t.code) || timed_out;
      if (connect && can_retry) {
        if (!wait(backoff_delay(attempt, random01()), r)) {
          llmh_error_set(&err, 499, (what() + " was cancelled").c_str());
          return nullptr;
        }
        continue;
      }
      if (t.too_large) {
        llmh_error_set(&err, 502, (what() + ": the response body is too large").c_str());
      } else if (connect) {
        llmh_error_set(&err, 503, ("could not connect to " + redact_url(url) + ": " + std::string(cause)).c_str());
      } else {
        llmh_error_set(&err, 502, (what() + " failed: " + std::string(cause)).c_str());
      }
      return nullptr;
    }

    log_attempt(retryable_status(t.status) ? LLMH_LOG_WARN : LLMH_LOG_INFO, method, url, attempt,
                {" -> ", std::to_string(t.status), " in ", ms, " ms"});
    if (retryable_status(t.status) && can_retry) {
      const std::string *ra = find_header(t.headers, "retry-after");
      const std::string *ra_ms = find_header(t.headers, "retry-after-ms");
      const auto asked = requested_delay(ra ? *ra : std::string_view(), ra_ms ? *ra_ms : std::string_view());
      const Millis delay = asked ? *asked : backoff_delay(attempt, random01());
      // Waiting past the deadline would only turn this answer into a timeout.
      if (Clock::now() + delay < deadline) {
        if (!wait(delay, r)) {
          llmh_error_set(&err, 499, (what() + " was cancelled").c_str());
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
