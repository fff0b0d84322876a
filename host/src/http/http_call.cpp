#include "http/http_call.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <new>

#include <llmhost/views.hpp>

#include "http/url.hpp"

namespace llmhost::detail::http {
namespace {

using llmh::sv;

constexpr Millis kDefaultTimeout{600000};
constexpr Millis kDefaultConnectTimeout{10000};
constexpr std::string_view kNoExpect = "Expect:";  // no "100-continue" round trip before large bodies

Millis seconds_or(double s, Millis fallback) {
  if (!(s > 0)) return fallback;
  return Millis(static_cast<int64_t>(std::min(s, 1e7) * 1000));
}

bool clean_header_text(std::string_view s) { return llmh::find_any(s, "\r\n") == std::string_view::npos; }

}  // namespace

bool HttpCall::prepare(const llmh_http_request &r, bool own_body, llmh_error &err) {
  const std::string_view url = sv(r.url);
  // Only the redacted form of the URL is ever logged or reported.
  if (!is_http_url(url) || !clean_header_text(url)) {
    llmh_error_set(&err, 400, ("not an absolute http(s) URL: \"" + redact_url(url).substr(0, 200) + "\"").c_str());
    return false;
  }
  const size_t count = r.headers ? r.header_count : 0;
  size_t text = url.size() + 1 + kNoExpect.size() + 1;
  for (size_t i = 0; i < count; ++i) {
    const std::string_view name = sv(r.headers[i].name), value = sv(r.headers[i].value);
    if (name.empty() || name.find(':') != std::string_view::npos || !clean_header_text(name) ||
        !clean_header_text(value)) {
      llmh_error_set(
          &err, 400,
          ("HTTP header \"" + std::string(name.substr(0, 64)) + "\" has an invalid name or a line break in its value")
              .c_str());
      return false;
    }
    text += name.size() + 2 + value.size() + 1;
  }
  const std::string_view body = sv(r.body);
  if (own_body) text += body.size();

  // The curl_slist nodes CURLOPT_HTTPHEADER reads and the text they point at share one block
  // (curl_slist_append would take two allocations per header); curl only reads the list.
  const size_t nodes = count + 1;
  storage_.reset(new std::byte[nodes * sizeof(curl_slist) + text]);
  auto *node = reinterpret_cast<curl_slist *>(storage_.get());
  char *out = reinterpret_cast<char *>(storage_.get() + nodes * sizeof(curl_slist));
  auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };

  spec_.url = out;
  put(url);
  *out++ = '\0';
  wire_ = http::wire_target(spec_.url);
  auto add_line = [&](std::string_view name, std::string_view separator, std::string_view value) {
    curl_slist *n = ::new (static_cast<void *>(node)) curl_slist{out, nullptr};
    if (node != reinterpret_cast<curl_slist *>(storage_.get())) (node - 1)->next = n;
    ++node;
    put(name);
    put(separator);
    put(value);
    *out++ = '\0';
  };
  for (size_t i = 0; i < count; ++i) {
    const std::string_view name = sv(r.headers[i].name), value = sv(r.headers[i].value);
    add_line(name, value.empty() ? ";" : ": ", value);  // "Name;" is curl's way to send an empty value
  }
  add_line(kNoExpect, "", "");
  spec_.headers = reinterpret_cast<curl_slist *>(storage_.get());
  if (own_body) {
    spec_.body = std::string_view(out, body.size());
    put(body);
  } else {
    spec_.body = body;
  }

  method_.assign(sv(r.method));
  std::transform(method_.begin(), method_.end(), method_.begin(), [](unsigned char c) { return std::toupper(c); });
  if (method_.empty()) method_ = body.empty() ? "GET" : "POST";
  spec_.method = method_;
  spec_.on_line = r.on_line;
  spec_.cancelled = r.cancelled;
  spec_.user = r.user;
  num_retries_ = r.num_retries;
  total_ = seconds_or(r.timeout_s, kDefaultTimeout);
  connect_timeout_ = seconds_or(r.connect_timeout_s, kDefaultConnectTimeout);
  deadline_ = Clock::now() + total_;
  return true;
}

bool HttpCall::next_attempt(llmh_error &err) {
  const auto remaining = std::chrono::duration_cast<Millis>(deadline_ - Clock::now());
  if (remaining <= Millis(0)) {
    fail(err, 408, " timed out after " + std::to_string(total_.count()) + " ms");
    return false;
  }
  spec_.timeout = std::max(remaining, Millis(1));
  spec_.connect_timeout = std::min(connect_timeout_, spec_.timeout);
  return true;
}

void HttpCall::fail_cancelled(llmh_error &err) const { fail(err, 499, " was cancelled"); }

void HttpCall::fail(llmh_error &err, int32_t status, std::string_view detail) const {
  llmh_error_set(&err, status, (what() + std::string(detail)).c_str());
}

std::string HttpCall::what() const { return method_ + " " + redact_url(spec_.url); }

}  // namespace llmhost::detail::http
