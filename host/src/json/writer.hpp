// A small, allocation-friendly JSON writer: the only JSON output path of the host (simdjson
// reads; this writes). Appends to a caller-owned std::string so hot paths can reuse buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <llmhost/text.hpp>

namespace llmhost::json {

// Builds one JSON value left to right. Commas between members/elements are inserted for you.
// Misuse (a key outside an object) is a programming error and is not checked at runtime.
class Writer {
 public:
  explicit Writer(std::string &out) : out_(out) {}

  Writer &begin_object() {
    token(",{", 2);
    first_ = true;
    return *this;
  }
  Writer &end_object() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  Writer &begin_array() {
    token(",[", 2);
    first_ = true;
    return *this;
  }
  Writer &end_array() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  Writer &key(std::string_view k) {
    sep();
    llmh::append_json_string(out_, k);
    out_ += ':';
    first_ = true;
    return *this;
  }
  // A key spelled in the code ("id", "choices"): such names never need escaping, so they are
  // copied without the scan, the cost of most small members, and with their comma, quotes and
  // colon in one append. Binds to arrays only; a runtime key (const char *, std::string) takes
  // the escaping overload above.
  template <size_t N>
  Writer &key(const char (&k)[N]) {
    char text[N + 3];  // ,"k":
    text[0] = ',';
    text[1] = '"';
    std::memcpy(text + 2, k, N - 1);
    text[N + 1] = '"';
    text[N + 2] = ':';
    token(text, N + 3);
    first_ = true;
    return *this;
  }

  Writer &value(std::string_view s) {
    sep();
    llmh::append_json_string(out_, s);
    return *this;
  }
  Writer &value(const char *s) { return value(std::string_view(s)); }
  Writer &value(int64_t v);
  Writer &value(int v) { return value(static_cast<int64_t>(v)); }
  Writer &value(uint32_t v) { return value(static_cast<int64_t>(v)); }
  Writer &value(double v);
  Writer &value(float v);  // shortest text that reads back as the same float
  Writer &value(bool v) {
    if (v)
      token(",true", 5);
    else
      token(",false", 6);
    return *this;
  }
  Writer &null() {
    token(",null", 5);
    return *this;
  }
  // Room for `n` more bytes, for a caller that knows the size to come.
  void reserve(size_t n) { out_.reserve(out_.size() + n); }
  // Appends already-serialized JSON (trusted to be one valid value).
  Writer &raw(std::string_view json) {
    sep();
    out_ += json;
    return *this;
  }
  // Appends the members of `object_json` (trusted to be one valid JSON object, or empty) to
  // the object open here.
  Writer &members_of(std::string_view object_json);

  template <class T>
  Writer &member(std::string_view k, const T &v) {
    key(k);
    return value(v);
  }
  template <size_t N, class T>
  Writer &member(const char (&k)[N], const T &v) {
    key(k);
    return value(v);
  }

 private:
  void sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  // Appends `text`, whose first byte is the ',' that goes before any value but a first one:
  // a token and its separator in one call on the string, not one call per byte.
  void token(const char *text, size_t n) {
    const size_t skip = first_ ? 1 : 0;
    out_.append(text + skip, n - skip);
    first_ = false;
  }
  std::string &out_;
  bool first_ = true;
};

}  // namespace llmhost::json
