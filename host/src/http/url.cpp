#include "http/url.hpp"

#include <cctype>

namespace llmhost::detail::http {
namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

std::string url_host(std::string_view url) { return std::string(llmh::split_url(url).authority); }

bool is_http_url(std::string_view url) {
  if (!iequals_prefix(url, "http://") && !iequals_prefix(url, "https://")) return false;
  return !llmh::split_url(url).authority.empty();
}

std::optional<WireTarget> wire_target(std::string_view url) {
  WireTarget t;
  size_t scheme = 0;
  if (iequals_prefix(url, "http://")) {
    scheme = 7;
  } else if (iequals_prefix(url, "https://")) {
    scheme = 8;
    t.tls = true;
  } else {
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme);
  t.authority = rest.substr(0, llmh::find_any(rest, "/?#"));
  if (t.authority.empty() || t.authority.find('@') != std::string_view::npos) return std::nullopt;
  t.origin = url.substr(0, scheme + t.authority.size());
  rest.remove_prefix(t.authority.size());
  t.target = rest.substr(0, rest.find('#'));
  std::string_view host = t.authority, port = t.tls ? "443" : "80";
  if (host.front() == '[') {  // an IPv6 literal
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return std::nullopt;
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  t.host = host;
  t.port = port;
  return t;
}

}  // namespace llmhost::detail::http
