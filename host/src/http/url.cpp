#include "http/url.hpp"

#include <cctype>

namespace llmhost::detail::http {
namespace {

struct Parts {
  std::string_view scheme, authority, path;  // path excludes query and fragment
};

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

Parts split(std::string_view url) {
  Parts p;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    p.path = url.substr(0, url.find_first_of("?#"));
    return p;
  }
  p.scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t auth_end = rest.find_first_of("/?#");
  p.authority = rest.substr(0, auth_end);
  // Userinfo may hold a password; the last '@' ends it.
  if (const size_t at = p.authority.rfind('@'); at != std::string_view::npos) p.authority.remove_prefix(at + 1);
  if (auth_end != std::string_view::npos) {
    std::string_view tail = rest.substr(auth_end);
    p.path = tail.substr(0, tail.find_first_of("?#"));
  }
  return p;
}

}  // namespace

std::string redact_url(std::string_view url) {
  const Parts p = split(url);
  if (p.scheme.empty()) return std::string(p.path);
  return std::string(p.scheme) + "://" + std::string(p.authority) + std::string(p.path);
}

std::string url_host(std::string_view url) { return std::string(split(url).authority); }

bool is_http_url(std::string_view url) {
  if (!iequals_prefix(url, "http://") && !iequals_prefix(url, "https://")) return false;
  return !split(url).authority.empty();
}

}  // namespace llmhost::detail::http
