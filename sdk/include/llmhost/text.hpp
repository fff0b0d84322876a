/*
 * llmhost provider SDK, text helpers (C++17 or later) that the host and providers both need:
 * quoting a JSON string and showing a URL without its secrets. They live here, once, so that
 * a plugin and the host quote and redact by the same rule.
 *
 * Header-only and stateless: every function reads only its arguments, writes only to the
 * caller-owned std::string it returns or appends to, and may be called from any thread.
 */
#ifndef LLMHOST_TEXT_HPP
#define LLMHOST_TEXT_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace llmh {

namespace detail {
// True when one of the 8 bytes of `w` may need escaping (< 0x20, '"' or '\\'). The classic
// "has zero byte" / "has byte less than" tests: exact as a yes/no, so a block answering no is
// skipped whole and a block answering yes is walked byte by byte.
inline bool may_need_json_escape(uint64_t w) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}
}  // namespace detail

// Appends `s` to `out` as a JSON string literal (quotes included), escaping as RFC 8259
// requires. Invalid UTF-8 passes through byte for byte (the bytes are the caller's to vouch
// for); control characters without a short escape become \u00XX.
inline void append_json_string(std::string &out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (detail::may_need_json_escape(w)) break;
      i += 8;
    }
    if (i == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// The parts of a URL that may be shown. Views into the URL given to split_url.
struct UrlParts {
  std::string_view scheme;     // "https"; empty when the URL has no "://"
  std::string_view authority;  // host[:port], userinfo removed; empty when there is no scheme
  std::string_view path;       // "/v1/embeddings", no query or fragment; without a scheme, all
                               // that is left of the URL once userinfo, query and fragment go
};

// Splits `url` for showing. The authority is what stands before the first '/', '?' or '#'
// (after "scheme://", or from the start when there is no scheme), and the userinfo in it ends
// at its LAST '@': a password may itself hold '@' ("user:p@ss@host"), and cutting at the first
// one would show the rest of the password as if it were the host. An '@' after the authority
// (in the path) is not userinfo and stays.
inline UrlParts split_url(std::string_view url) noexcept {
  UrlParts p;
  std::string_view rest = url;
  if (const std::size_t scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
    p.scheme = url.substr(0, scheme_end);
    rest = url.substr(scheme_end + 3);
  }
  const std::size_t authority_end = rest.find_first_of("/?#");
  if (const std::size_t at = rest.substr(0, authority_end).rfind('@'); at != std::string_view::npos)
    rest.remove_prefix(at + 1);
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (p.scheme.empty()) {
    p.path = rest;
    return p;
  }
  const std::size_t path_start = rest.find('/');
  p.authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) p.path = rest.substr(path_start);
  return p;
}

// scheme://host[:port]/path of `url`, for logs and error messages: the userinfo, the query and
// the fragment are dropped, because keys travel in them ("user:key@", "?key=...").
inline std::string redact_url(std::string_view url) {
  const UrlParts p = split_url(url);
  std::string out;
  if (p.scheme.empty()) return out.assign(p.path);
  out.reserve(p.scheme.size() + 3 + p.authority.size() + p.path.size());
  out.append(p.scheme).append("://").append(p.authority).append(p.path);
  return out;
}

}  // namespace llmh

#endif /* LLMHOST_TEXT_HPP */
