// JSON text without a parse: the members of an object, and the first element of an array, as
// the bytes they are written with. For text a JSON parser has already accepted, so that a member
// can be passed on by copying its bytes rather than parsed and written again: a plugin rewriting
// a request body (with llmh_request.body_members, ABI 1.3, not even that parse), or picking the
// members of an upstream answer to pass through (llmh_upstream_members).
//
// Header-only C++17; no allocation except into a string you pass. Every function reads views
// and keeps none; any thread. On text that is not valid JSON the results are unspecified, but no
// function ever reads outside the view it is given.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

namespace llmh {

// Walks the members of `object_json` in document order, duplicates included.
class JsonMembers {
 public:
  // The object's '{' is the first one in the text: only whitespace (or a byte order mark) may
  // precede it in a valid document.
  explicit JsonMembers(std::string_view object_json) noexcept : s_(object_json), i_(object_json.find('{')) {
    i_ = i_ == std::string_view::npos ? s_.size() : i_ + 1;
  }

  // The next member's key (a JSON string, quotes included) and value (its JSON text, without
  // the whitespace around it); false after the last member.
  bool next(std::string_view &key, std::string_view &value) noexcept {
    std::size_t i = skip_space(i_);
    if (i < s_.size() && s_[i] == ',') i = skip_space(i + 1);
    if (i >= s_.size() || s_[i] != '"') {  // the closing '}'
      i_ = s_.size();
      return false;
    }
    const std::size_t key_end = end_of_string(i);
    key = s_.substr(i, key_end - i);
    const std::size_t value_start = skip_space(skip_space(key_end) + 1);  // past the ':'
    const std::size_t value_end = end_of_value(value_start);
    value = s_.substr(value_start, value_end - value_start);
    i_ = value_end;
    return true;
  }

  // The first element of `array_json` (its JSON text); empty for an empty array.
  static std::string_view first_element(std::string_view array_json) noexcept {
    JsonMembers walk(array_json);
    std::size_t i =
        walk.skip_space(array_json.find('[') == std::string_view::npos ? array_json.size() : array_json.find('[') + 1);
    if (i >= array_json.size() || array_json[i] == ']') return {};
    return array_json.substr(i, walk.end_of_value(i) - i);
  }

  // The value of the first member of `object_json` named `name` (compared as written, without
  // the quotes); empty when there is none.
  static std::string_view find(std::string_view object_json, std::string_view name) noexcept {
    JsonMembers walk(object_json);
    std::string_view key, value;
    while (walk.next(key, value))
      if (named(key, name)) return value;
    return {};
  }

  // Appends to `out` one JSON object holding the members of `object_json` whose names are not
  // in `known`, and returns true; appends nothing and returns false when there are none. In the
  // same pass, sets `*wanted_value` to the value of the first member named `wanted`, if any.
  static bool append_unknown(std::string &out, std::string_view object_json,
                             std::initializer_list<std::string_view> known, std::string_view wanted = {},
                             std::string_view *wanted_value = nullptr) {
    JsonMembers walk(object_json);
    std::string_view key, value;
    bool any = false;
    while (walk.next(key, value)) {
      if (wanted_value && wanted_value->empty() && named(key, wanted)) *wanted_value = value;
      bool listed = false;
      for (std::string_view k : known) listed = listed || named(key, k);
      if (listed) continue;
      out += any ? ',' : '{';
      out += key;
      out += ':';
      out += value;
      any = true;
    }
    if (any) out += '}';
    return any;
  }

  // Whether a key as written ("\"id\"") is `name`.
  static bool named(std::string_view key, std::string_view name) noexcept {
    return key.size() == name.size() + 2 && key.substr(1, name.size()) == name;
  }

 private:
  static bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  std::size_t skip_space(std::size_t i) const noexcept {
    while (i < s_.size() && is_space(s_[i])) ++i;
    return i;
  }

  // i at the opening quote; returns the index past the closing one. memchr finds each quote
  // (strings are most of the bytes, and it reads them a vector at a time); a quote is escaped
  // when an odd run of backslashes precedes it.
  std::size_t end_of_string(std::size_t i) const noexcept {
    const char *p = s_.data();
    const std::size_t n = s_.size();
    for (std::size_t j = i + 1; j < n;) {
      const void *quote = std::memchr(p + j, '"', n - j);
      if (!quote) return n;
      const std::size_t k = static_cast<std::size_t>(static_cast<const char *>(quote) - p);
      std::size_t run = k;
      while (run > i + 1 && p[run - 1] == '\\') --run;
      if ((k - run) % 2 == 0) return k + 1;
      j = k + 1;
    }
    return n;
  }

  // A string ends after its closing quote, an object or array after its matching bracket, and
  // a number, true, false or null at the first byte that cannot continue it.
  std::size_t end_of_value(std::size_t i) const noexcept {
    const char *p = s_.data();
    const std::size_t n = s_.size();
    std::size_t depth = 0;
    while (i < n) {
      switch (p[i]) {
        case '"':
          i = end_of_string(i);
          if (depth == 0) return i;
          continue;
        case '{':
        case '[': ++depth; break;
        case '}':
        case ']':
          if (depth == 0) return i;  // a scalar that the enclosing '}' or ']' ends
          if (--depth == 0) return i + 1;
          break;
        case ',':
        case ' ':
        case '\n':
        case '\r':
        case '\t':
          if (depth == 0) return i;
          break;
        default: break;
      }
      ++i;
    }
    return i;
  }

  std::string_view s_;
  std::size_t i_;
};

// The members of an OpenAI chat.completion text (`chunk`: a chat.completion.chunk) that the
// host writes no field for, at the three levels of llmh_upstream_members: the top level,
// choices[0], and its message (chunk: delta). Each is one JSON object text, or empty for none.
// The texts live in `buffer` (cleared first), so they are valid while it is unchanged. This is
// what a plugin relaying an OpenAI-shaped upstream hands to Response::upstream_members or puts
// in llmh_chunk.upstream_members; the key lists are the keys the host writes itself.
struct UpstreamTexts {
  std::string_view top, choice, message;
};
inline UpstreamTexts openai_upstream_members(std::string &buffer, std::string_view answer_json, bool chunk) {
  auto object_or_empty = [](std::string_view v) { return !v.empty() && v.front() == '{' ? v : std::string_view(); };
  // One walk per level: each picks its unknown members and finds the object of the next.
  buffer.clear();
  std::size_t end[3];
  std::string_view choices, message;
  const std::string_view top = object_or_empty(answer_json.substr(std::min(answer_json.size(), answer_json.find('{'))));
  JsonMembers::append_unknown(buffer, top, {"id", "object", "created", "model", "choices", "usage"}, "choices",
                              &choices);
  end[0] = buffer.size();
  const std::string_view choice = object_or_empty(
      choices.empty() || choices.front() != '[' ? std::string_view() : JsonMembers::first_element(choices));
  JsonMembers::append_unknown(buffer, choice, {"index", "message", "delta", "finish_reason"},
                              chunk ? "delta" : "message", &message);
  end[1] = buffer.size();
  JsonMembers::append_unknown(buffer, object_or_empty(message), {"role", "content", "reasoning_content", "tool_calls"});
  end[2] = buffer.size();
  const std::string_view all(buffer);
  UpstreamTexts out;
  out.top = all.substr(0, end[0]);
  out.choice = all.substr(end[0], end[1] - end[0]);
  out.message = all.substr(end[1], end[2] - end[1]);
  return out;
}

}  // namespace llmh
