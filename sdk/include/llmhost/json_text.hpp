// JSON text without a parse: the members of an object, and the first element of an array, as
// the bytes they are written with. For text a JSON parser has already accepted, so that a member
// can be passed on by copying its bytes rather than parsed and written again: a plugin rewriting
// a request body (with llmh_request.body_members, ABI 1.3, not even that parse), or picking the
// members of an upstream answer to pass through (llmh_upstream_members).
//
// Header-only C++17; no allocation except into a string you pass (and, in
// openai_upstream_members, a list of views once one level keeps more than eight members). Every
// function reads views and keeps none; any thread. On text that is not valid JSON the results are
// unspecified, but no function ever reads outside the view it is given.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmh {

struct UpstreamTexts;
inline UpstreamTexts openai_upstream_members(std::string &buffer, std::string_view answer_json, bool chunk);
namespace detail {
class KeptMembers;
}

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
    std::size_t at;
    if (!next_key(key, at)) return false;
    value = value_at(at);
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
      if (!listed(key, known)) append_member(out, any, key, value);
    }
    if (any) out += '}';
    return any;
  }

  // Whether a key as written ("\"id\"") is `name`.
  static bool named(std::string_view key, std::string_view name) noexcept {
    return key.size() == name.size() + 2 && key.substr(1, name.size()) == name;
  }

 private:
  friend UpstreamTexts openai_upstream_members(std::string &, std::string_view, bool);
  friend class detail::KeptMembers;

  static bool listed(std::string_view key, std::initializer_list<std::string_view> names) noexcept {
    for (std::string_view name : names)
      if (named(key, name)) return true;
    return false;
  }

  // Appends one member to the object `out` is writing, opening it before the first (`any`).
  static void append_member(std::string &out, bool &any, std::string_view key, std::string_view value) {
    out += any ? ',' : '{';
    out += key;
    out += ':';
    out += value;
    any = true;
  }

  // The next member's key; the walk then stands at its value, whose index is `at`: read it with
  // value_at, or walk into it and go on with resume. False after the last member, with the walk
  // standing at the closing '}' (stop()).
  bool next_key(std::string_view &key, std::size_t &at) noexcept {
    std::size_t i = skip_space(i_);
    if (i < s_.size() && s_[i] == ',') i = skip_space(i + 1);
    if (i >= s_.size() || s_[i] != '"') {  // the closing '}'
      i_ = i;
      return false;
    }
    const std::size_t key_end = end_of_string(i);
    key = s_.substr(i, key_end - i);
    at = i_ = skip_space(std::min(skip_space(key_end) + 1, s_.size()));  // past the ':' (text cut short: at the end)
    return true;
  }
  std::string_view value_at(std::size_t at) noexcept {
    i_ = end_of_value(at);
    return s_.substr(at, i_ - at);
  }
  void resume(std::size_t i) noexcept { i_ = std::min(i, s_.size()); }
  std::size_t stop() const noexcept { return i_; }
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
  // a number, true, false or null at the first byte that cannot continue it. With `depth` 1, i
  // is inside an array or object, whose end is then found.
  std::size_t end_of_value(std::size_t i, std::size_t depth = 0) const noexcept {
    const char *p = s_.data();
    const std::size_t n = s_.size();
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
namespace detail {
// The members one level passes through, as views into the answer, in order: a few in place,
// more on the heap.
class KeptMembers {
 public:
  void add(std::string_view key, std::string_view value) {
    if (n_ < kInPlace)
      in_place_[n_] = {key, value};
    else
      more_.emplace_back(key, value);
    ++n_;
  }
  // Appends them as one object; nothing when there are none.
  void append_to(std::string &out) const {
    bool any = false;
    for (std::size_t k = 0; k < n_; ++k) {
      const auto &m = k < kInPlace ? in_place_[k] : more_[k - kInPlace];
      JsonMembers::append_member(out, any, m.first, m.second);
    }
    if (any) out += '}';
  }

 private:
  static constexpr std::size_t kInPlace = 8;
  std::pair<std::string_view, std::string_view> in_place_[kInPlace];
  std::vector<std::pair<std::string_view, std::string_view>> more_;
  std::size_t n_ = 0;
};
}  // namespace detail

// One walk of the answer: the first choice and its message are walked where they stand, not
// stepped over and walked again, so that each byte is read about once (an answer or an event
// of a stream passes here whole).
inline UpstreamTexts openai_upstream_members(std::string &buffer, std::string_view answer_json, bool chunk) {
  const std::string_view inner = chunk ? "delta" : "message";
  buffer.clear();
  detail::KeptMembers choice_kept, message_kept;
  JsonMembers top(answer_json);
  std::string_view key;
  std::size_t at;
  bool any_top = false, seen_choices = false;
  while (top.next_key(key, at)) {
    if (!seen_choices && JsonMembers::named(key, "choices")) {
      seen_choices = true;
      if (at < answer_json.size() && answer_json[at] == '[') {
        // The first element, when it is an object, walked in place; the array's end after it.
        JsonMembers array(answer_json.substr(at));  // for its scanning helpers; it is not walked
        std::size_t i = array.skip_space(1);
        if (i < array.s_.size() && array.s_[i] == '{') {
          JsonMembers choice(array.s_.substr(i));
          std::string_view ckey;
          std::size_t cat;
          bool seen_inner = false;
          while (choice.next_key(ckey, cat)) {
            if (!seen_inner && JsonMembers::named(ckey, inner)) {
              seen_inner = true;
              if (cat < choice.s_.size() && choice.s_[cat] == '{') {
                JsonMembers message(choice.s_.substr(cat));
                std::string_view mkey, mvalue;
                while (message.next(mkey, mvalue))
                  if (!JsonMembers::listed(mkey, {"role", "content", "reasoning_content", "tool_calls"}))
                    message_kept.add(mkey, mvalue);
                choice.resume(cat + message.stop() + 1);  // past its '}'
                continue;
              }
            }
            const std::string_view cvalue = choice.value_at(cat);
            if (!JsonMembers::listed(ckey, {"index", "message", "delta", "finish_reason"}))
              choice_kept.add(ckey, cvalue);
          }
          i += choice.stop() + 1;  // past the choice's '}'
        }
        top.resume(at + array.end_of_value(i, 1));
        continue;
      }
    }
    const std::string_view value = top.value_at(at);
    if (!JsonMembers::listed(key, {"id", "object", "created", "model", "choices", "usage"}))
      JsonMembers::append_member(buffer, any_top, key, value);
  }
  if (any_top) buffer += '}';
  const std::size_t end_top = buffer.size();
  choice_kept.append_to(buffer);
  const std::size_t end_choice = buffer.size();
  message_kept.append_to(buffer);
  const std::string_view all(buffer);
  UpstreamTexts out;
  out.top = all.substr(0, end_top);
  out.choice = all.substr(end_top, end_choice - end_top);
  out.message = all.substr(end_choice);
  return out;
}

}  // namespace llmh
