#include "http/call_policy.hpp"

#include <string>

#include "http/retry.hpp"
#include "http/url.hpp"

namespace llmhost::detail::http {
CallPolicy::CallPolicy(LogFn log, int min_level)
    : log_(std::move(log)), min_level_(min_level), rng_(std::random_device{}()) {}

double CallPolicy::random01() {
  std::lock_guard lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void CallPolicy::log_attempt(int level, const HttpCall &call, uint32_t attempt,
                             std::initializer_list<std::string_view> outcome) {
  if (level < min_level_) return;  // most calls: nothing to format
  const std::string shown = redact_url(call.url());
  const std::string number = std::to_string(attempt + 1);
  const std::string_view method = call.method();
  std::string line;
  size_t size = method.size() + 1 + shown.size() + 10 + number.size() + 1;
  for (std::string_view part : outcome) size += part.size();
  line.reserve(size);
  line.append(method).append(" ").append(shown).append(" (attempt ").append(number).append(")");
  for (std::string_view part : outcome) line.append(part);
  log_(level, "http", line);
}

Verdict CallPolicy::judge(const HttpCall &call, uint32_t attempt, const TransferResult &t, Clock::time_point started,
                          llmh_error &err) {
  using std::chrono::duration_cast;
  const Verdict fail{Verdict::kFail, Millis(0)};
  const std::string ms = std::to_string(duration_cast<Millis>(Clock::now() - started).count());
  const bool can_retry = attempt < call.num_retries() && !t.delivered;

  if (t.cancelled || t.consumer_stop) {
    log_attempt(LLMH_LOG_INFO, call, attempt, {" stopped by the caller after ", ms, " ms"});
    call.fail_cancelled(err);
    return fail;
  }
  if (t.failure != Failure::kNone) {
    const bool deadline_hit = Clock::now() + Millis(20) >= call.deadline();
    const bool timed_out = t.failure == Failure::kTimeout;
    const std::string_view cause = t.cause;
    log_attempt(LLMH_LOG_WARN, call, attempt, {" failed after ", ms, " ms: ", cause});
    if (timed_out && (deadline_hit || t.status != 0)) {
      call.fail(err, 408, " timed out after " + std::to_string(call.total().count()) + " ms");
      return fail;
    }
    // A connect timeout before the deadline counts as a failure to connect.
    const bool connect = t.failure == Failure::kConnect || timed_out;
    if (connect && can_retry) return Verdict{Verdict::kRetry, backoff_delay(attempt, random01())};
    if (t.too_large) {
      call.fail(err, 502, ": the response body is too large");
    } else if (connect) {
      llmh_error_set(&err, 503, ("could not connect to " + redact_url(call.url()) + ": " + t.cause).c_str());
    } else {
      call.fail(err, 502, " failed: " + t.cause);
    }
    return fail;
  }

  log_attempt(retryable_status(t.status) ? LLMH_LOG_WARN : LLMH_LOG_INFO, call, attempt,
              {" -> ", std::to_string(t.status), " in ", ms, " ms"});
  if (retryable_status(t.status) && can_retry) {
    const std::string *ra = find_header(t.headers, "retry-after");
    const std::string *ra_ms = find_header(t.headers, "retry-after-ms");
    const auto asked = requested_delay(ra ? *ra : std::string_view(), ra_ms ? *ra_ms : std::string_view());
    const Millis delay = asked ? *asked : backoff_delay(attempt, random01());
    // Waiting past the deadline would only turn this answer into a timeout.
    if (Clock::now() + delay < call.deadline()) return Verdict{Verdict::kRetry, delay};
  }
  return Verdict{};
}

}  // namespace llmhost::detail::http
