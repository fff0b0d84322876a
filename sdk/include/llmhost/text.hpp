/*
 * llmhost provider SDK, text helpers (C++17 or later) that the host and providers both need:
 * quoting and unquoting a JSON string, showing a URL without its secrets, and finding the first of a set
 * of bytes. They live here, once, so that a plugin and the host quote and redact by the same rule.
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

// How many bytes at the start of `s` a JSON string holds as they are: up to the first control
// byte, quote or backslash. Eight bytes at a time.
inline std::size_t json_plain_prefix(std::string_view s) noexcept {
  std::size_t i = 0;
  for (uint64_t w; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    if (may_need_json_escape(w)) break;
  }
  for (; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}
}  // namespace detail

// The position of the first byte of `s`, from `from` on, that is one of `set`, or npos: what
// std::string_view::find_first_of returns, without the memchr over `set` it calls for every byte
// of `s` (URLs, header lines and event-stream lines are scanned on every request).
inline std::size_t find_any(std::string_view s, std::string_view set, std::size_t from = 0) noexcept {
  for (std::size_t i = from; i < s.size(); ++i)
    for (const char c : set)
      if (s[i] == c) return i;
  return std::string_view::npos;
}

// Appends `s` to `out` as a JSON string literal (quotes included), escaping as RFC 8259
// requires. Invalid UTF-8 passes through byte for byte (the bytes are the caller's to vouch
// for); control characters without a short escape become \u00XX.
inline void append_json_string(std::string &out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = detail::json_plain_prefix(s);
  if (i == s.size()) {  // nothing to escape, the usual case: one call on the string, not four
    const std::size_t at = out.size();
    out.append(s.size() + 2, '"');
    if (!s.empty()) std::memcpy(&out[at + 1], s.data(), s.size());
    return;
  }
  out.reserve(out.size() + s.size() + 8);
  out += '"';
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (; i < s.size(); i += detail::json_plain_prefix(s.substr(i))) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = ++i;
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

// Decodes the JSON string literal `literal` (quotes included, as a JSON text holds it) into
// `out`, replacing what was there: the escapes of RFC 8259, \uXXXX as UTF-8 (a surrogate pair
// as one code point). False, with `out` unspecified, when it is not a well-formed literal (a
// lone surrogate included). Any thread.
inline bool decode_json_string(std::string_view literal, std::string &out) {
  out.clear();
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') return false;
  const std::string_view s = literal.substr(1, literal.size() - 2);
  auto hex4 = [&](std::size_t at, uint32_t &v) {
    if (at + 4 > s.size()) return false;
    v = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      const char c = s[k];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return true;
  };
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(i + 1, cp)) return false;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {              // needs its low half next
          uint32_t low = 0;
          if (i + 2 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u' || !hex4(i + 3, low) || low < 0xDC00 ||
              low > 0xDFFF)
            return false;
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return false;
    }
  }
  return true;
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
//
// One pass over the bytes after the scheme: it runs on every upstream call.
inline UrlParts split_url(std::string_view url) noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  UrlParts p;
  std::string_view rest = url;
  if (const std::size_t scheme_end = url.find("://"); scheme_end != npos) {
    p.scheme = url.substr(0, scheme_end);
    rest = url.substr(scheme_end + 3);
  }
  std::size_t authority_end = npos, last_at = npos, end = 0;
  for (; end < rest.size(); ++end) {
    const char c = rest[end];
    if (c == '?' || c == '#') break;  // the query and the fragment go
    if (authority_end != npos) continue;
    if (c == '/')
      authority_end = end;
    else if (c == '@')
      last_at = end;
  }
  const std::size_t start = last_at == npos ? 0 : last_at + 1;  // past the userinfo
  rest = rest.substr(start, end - start);
  if (p.scheme.empty()) {
    p.path = rest;
    return p;
  }
  if (authority_end == npos) {
    p.authority = rest;
  } else {
    p.authority = rest.substr(0, authority_end - start);
    p.path = rest.substr(authority_end - start);
  }
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
