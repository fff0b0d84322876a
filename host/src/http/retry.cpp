#include "http/retry.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string>

namespace llmhost::detail::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A non-negative decimal number (fractions allowed, as some servers send "1.5"); nullopt else.
std::optional<double> number(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 20) return std::nullopt;
  double value = 0, scale = 0;
  for (char c : s) {
    if (c == '.' && scale == 0) {
      scale = 1;
    } else if (c >= '0' && c <= '9') {
      if (scale == 0) {
        value = value * 10 + (c - '0');
      } else {
        scale /= 10;
        value += (c - '0') * scale;
      }
    } else {
      return std::nullopt;
    }
  }
  return value;
}

}  // namespace

bool retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<Millis> requested_delay(std::string_view retry_after, std::string_view retry_after_ms) {
  if (auto ms = number(retry_after_ms)) return Millis(static_cast<int64_t>(*ms));
  if (trim(retry_after).empty()) return std::nullopt;
  if (auto s = number(retry_after)) return Millis(static_cast<int64_t>(*s * 1000));
  // An HTTP date: libcurl already parses every format RFC 9110 allows.
  const std::string date(trim(retry_after));
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const time_t now = std::time(nullptr);
  return Millis(std::max<int64_t>(0, static_cast<int64_t>(when - now) * 1000));
}

Millis backoff_delay(uint32_t attempt, double random01) {
  const int64_t base = 500LL << std::min<uint32_t>(attempt, 4);  // 0.5, 1, 2, 4, 8 s
  const double jitter = 0.5 + 0.5 * std::clamp(random01, 0.0, 1.0);
  return Millis(static_cast<int64_t>(static_cast<double>(std::min<int64_t>(base, 8000)) * jitter));
}

}  // namespace llmhost::detail::http
