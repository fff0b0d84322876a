// URL helpers for logs and error messages: what may be shown of a URL without leaking a secret.
// The redaction rule itself is the SDK's (llmhost/text.hpp), so that plugins show URLs the same way.
#pragma once

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

}  // namespace llmhost::detail::http
