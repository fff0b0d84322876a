// The members of a JSON object as they are written: each key and value as raw JSON text, so a
// member can be passed on by copying its bytes instead of re-serializing a parsed value.
#pragma once

#include <cstddef>
#include <string_view>

namespace openai_plugin {

// Walks the members of `object_json`, which must be a JSON object that simdjson has already
// parsed without error: the walk relies on that validation and checks no grammar itself (it
// only never reads past the text). Members come in document order, duplicates included, as
// simdjson's dom::object iterates them.
class RawMembers {
 public:
  explicit RawMembers(std::string_view object_json) noexcept;

  // The next member's key (a JSON string, quotes included) and value (its JSON text, without
  // the whitespace around it); false after the last member.
  bool next(std::string_view &key, std::string_view &value) noexcept;

 private:
  std::size_t skip_space(std::size_t i) const noexcept;
  std::size_t end_of_string(std::size_t i) const noexcept;  // i at the opening quote
  std::size_t end_of_value(std::size_t i) const noexcept;   // i at the value's first byte

  std::string_view s_;
  std::size_t i_;
};

}  // namespace openai_plugin
