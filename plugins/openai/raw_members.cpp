#include "raw_members.hpp"

namespace openai_plugin {
namespace {

bool is_json_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

// The object's '{' is the first one in the text: only whitespace (or a byte order mark) can
// precede it in a valid document.
RawMembers::RawMembers(std::string_view object_json) noexcept
    : s_(object_json), i_(object_json.find('{')) {
  i_ = i_ == std::string_view::npos ? s_.size() : i_ + 1;
}

bool RawMembers::next(std::string_view &key, std::string_view &value) noexcept {
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

std::size_t RawMembers::skip_space(std::size_t i) const noexcept {
  while (i < s_.size() && is_json_space(s_[i])) ++i;
  return i;
}

std::size_t RawMembers::end_of_string(std::size_t i) const noexcept {
  for (++i; i < s_.size(); ++i) {
    i = s_.find_first_of("\"\\", i);
    if (i == std::string_view::npos) return s_.size();
    if (s_[i] == '"') return i + 1;
    ++i;  // a backslash: the escaped byte cannot end the string
  }
  return s_.size();
}

// A string ends after its closing quote, an object or array after its matching bracket, and a
// number, true, false or null at the first byte that cannot continue it.
std::size_t RawMembers::end_of_value(std::size_t i) const noexcept {
  std::size_t depth = 0;
  while (i < s_.size()) {
    const char c = s_[i];
    if (c == '"') {
      i = end_of_string(i);
      if (depth == 0) return i;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;  // a scalar that the object's '}' ends
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || is_json_space(c))) {
      return i;
    }
    ++i;
  }
  return i;
}

}  // namespace openai_plugin
