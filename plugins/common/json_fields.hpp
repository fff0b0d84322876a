// Small readers and writers of JSON fields the relay providers' translations share: a member
// as a string or an integer with a default, a string as JSON text; and a poolable parser.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <llmhost/text.hpp>

namespace llmh_plugins {

// The string member `key`; "" when absent or of another type.
inline std::string_view string_of(simdjson::dom::object o, const char *key) {
  std::string_view s;
  return o[key].get(s) ? std::string_view() : s;
}

// The integer member `key`; 0 when absent or of another type.
inline int64_t int_of(simdjson::dom::object o, const char *key) {
  int64_t n = 0;
  return o[key].get(n) ? 0 : n;
}

// `s` as a JSON string, quoted and escaped.
inline std::string json_text(std::string_view s) {
  std::string out;
  llmh::append_json_string(out, s);
  return out;
}

// A call's parser for a Pool (common/pool.hpp), for a provider whose calls need nothing else.
struct JsonParser {
  simdjson::dom::parser dom;
  std::size_t retained_bytes() const noexcept { return dom.capacity(); }
};

}  // namespace llmh_plugins
