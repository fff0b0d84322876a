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

}  // namespace llmhost::detail::http
