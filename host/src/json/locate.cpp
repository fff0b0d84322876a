#include "json/locate.hpp"

namespace llmhost::json {
namespace {

class Scanner {
 public:
  Scanner(std::string_view text, size_t max_depth) : s_(text), max_depth_(max_depth) {}

  // Returns false at the first error (recorded in error_).
  bool document() {
    ws();
    if (!value(0)) return false;
    ws();
    if (i_ != s_.size()) return fail("unexpected data after the JSON value");
    return true;
  }

  SyntaxError error() const {
    SyntaxError e;
    e.offset = err_at_;
    e.what = what_;
    for (size_t k = 0; k < err_at_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++e.line;
        e.column = 1;
      } else {
        ++e.column;
      }
    }
    return e;
  }

 private:
  bool fail(const char *what) {
    err_at_ = i_;
    what_ = what;
    return false;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++i_;
  }

  bool value(size_t depth) {
    if (at_end()) return fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        return fail("expected a value (object, array, string, number, true, false or null)");
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("invalid literal (expected true, false or null)");
    i_ += word.size();
    return true;
  }

  bool digits() {
    if (at_end() || peek() < '0' || peek() > '9') return fail("expected a digit");
    while (!at_end() && peek() >= '0' && peek() <= '9') ++i_;
    return true;
  }

  bool number() {
    if (peek() == '-') ++i_;
    if (!at_end() && peek() == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (!at_end() && peek() == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }

  static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

  // One UTF-8 sequence starting at a byte >= 0x80.
  bool utf8() {
    const auto b = static_cast<unsigned char>(peek());
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
      n = 1;
    else if (b == 0xE0)
      n = 2, lo = 0xA0;
    else if (b == 0xED)
      n = 2, hi = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF)
      n = 2;
    else if (b == 0xF0)
      n = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3)
      n = 3;
    else if (b == 0xF4)
      n = 3, hi = 0x8F;
    else
      return fail("invalid UTF-8 in a string");
    ++i_;
    for (size_t k = 0; k < n; ++k, ++i_) {
      if (at_end()) return fail("invalid UTF-8 in a string");
      const auto c = static_cast<unsigned char>(peek());
      if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) return fail("invalid UTF-8 in a string");
    }
    return true;
  }

  bool string() {
    ++i_;  // opening quote
    for (;;) {
      if (at_end()) return fail("unterminated string");
      const char c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string (must be escaped)");
      if (c == '\\') {
        ++i_;
        if (at_end()) return fail("unterminated string");
        const char e = peek();
        if (e == 'u') {
          ++i_;
          for (int k = 0; k < 4; ++k, ++i_)
            if (at_end() || !is_hex(peek())) return fail("invalid \\u escape (expected 4 hex digits)");
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) return fail("invalid escape in a string");
        ++i_;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        if (!utf8()) return false;
        continue;
      }
      ++i_;
    }
  }

  bool object(size_t depth) {
    if (depth > max_depth_) return fail("nesting too deep");
    ++i_;  // {
    ws();
    if (!at_end() && peek() == '}') return ++i_, true;
    for (;;) {
      ws();
      if (at_end() || peek() != '"') return fail("expected a string key in an object");
      if (!string()) return false;
      ws();
      if (at_end() || peek() != ':') return fail("expected ':' after an object key");
      ++i_;
      ws();
      if (!value(depth)) return false;
      ws();
      if (at_end()) return fail("unexpected end of input inside an object");
      if (peek() == '}') return ++i_, true;
      if (peek() != ',') return fail("expected ',' or '}' after an object member");
      ++i_;
    }
  }

  bool array(size_t depth) {
    if (depth > max_depth_) return fail("nesting too deep");
    ++i_;  // [
    ws();
    if (!at_end() && peek() == ']') return ++i_, true;
    for (;;) {
      ws();
      if (!value(depth)) return false;
      ws();
      if (at_end()) return fail("unexpected end of input inside an array");
      if (peek() == ']') return ++i_, true;
      if (peek() != ',') return fail("expected ',' or ']' after an array element");
      ++i_;
    }
  }

  std::string_view s_;
  size_t max_depth_;
  size_t i_ = 0;
  size_t err_at_ = 0;
  const char *what_ = "";
};

}  // namespace

std::optional<SyntaxError> find_syntax_error(std::string_view text, size_t max_depth) {
  Scanner s(text, max_depth);
  if (s.document()) return std::nullopt;
  return s.error();
}

bool is_object(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' && !find_syntax_error(text);
}

}  // namespace llmhost::json
