#include "json/writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace llmhost::json {

namespace {
// True when one of the 8 bytes of `w` may need escaping (< 0x20, '"' or '\\'). The classic
// "has zero byte" / "has byte less than" tests: exact as a yes/no, so a block answering no is
// skipped whole and a block answering yes is walked byte by byte.
inline bool may_need_escape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}
}  // namespace

void append_quoted(std::string &out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    // Skip 8 bytes at a time while none of them needs escaping.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (may_need_escape(w)) break;
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

Writer &Writer::value(int64_t v) {
  sep();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out_.append(buf, end);
  return *this;
}

namespace {
template <class F>
void append_number(std::string &out, F v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}
}  // namespace

Writer &Writer::value(double v) {
  sep();
  append_number(out_, v);
  return *this;
}

Writer &Writer::value(float v) {
  sep();
  append_number(out_, v);
  return *this;
}

Writer &Writer::members_of(std::string_view object_json) {
  const size_t open = object_json.find('{'), close = object_json.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return *this;
  const std::string_view inside = object_json.substr(open + 1, close - open - 1);
  const size_t first = inside.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return *this;  // {}
  sep();
  out_ += inside.substr(first, inside.find_last_not_of(" \t\r\n") + 1 - first);
  return *this;
}

}  // namespace llmhost::json
