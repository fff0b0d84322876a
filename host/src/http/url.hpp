// URL helpers for logs and error messages: what may be shown of a URL without leaking a secret.
#pragma once

#include <string>
#include <string_view>

namespace llmhost::detail::http {

// scheme://host[:port]/path of `url`: userinfo ("user:pass@"), query and fragment dropped,
// because keys travel in those (e.g. "?key=..."). Any thread.
std::string redact_url(std::string_view url);

// The host[:port] part of `url` (no userinfo); empty when there is none. Any thread.
std::string url_host(std::string_view url);

// True for an absolute http:// or https:// URL with a non-empty host. Any thread.
bool is_http_url(std::string_view url);

}  // namespace llmhost::detail::http
