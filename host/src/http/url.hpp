// URL helpers for logs and error messages: what may be shown of a URL without leaking a secret.
// The redaction rule itself is the SDK's (llmhost/text.hpp), so that plugins show URLs the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <llmhost/text.hpp>

namespace llmhost::detail::http {

// scheme://host[:port]/path of `url`: userinfo, query and fragment dropped. Any thread.
using llmh::redact_url;

// The host[:port] part of `url` (no userinfo); empty when there is none. Any thread.
std::string url_host(std::string_view url);

// True for an absolute http:// or https:// URL with a non-empty host. Any thread.
bool is_http_url(std::string_view url);

// Where an http:// or https:// URL sends its request, as the Asio client needs it. Views into
// the URL.
struct WireTarget {
  bool tls = false;            // https
  std::string_view origin;     // "scheme://host[:port]" as the URL writes it: connections are
                               // kept per origin
  std::string_view host;       // "example.com", "127.0.0.1", "::1" (no brackets)
  std::string_view port;       // "80" or "443" when the URL names none
  std::string_view authority;  // host[:port] as the URL writes it: the Host header
  std::string_view target;     // "/path?query", no fragment; with no path, "" or "?query" (the
                               // request line then starts it with "/")
};

// The target of an http:// or https:// URL (any case) without userinfo; nullopt for anything
// else (userinfo, which curl turns into Basic auth, stays with curl). Any thread.
std::optional<WireTarget> wire_target(std::string_view url);

}  // namespace llmhost::detail::http
