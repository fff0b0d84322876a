// Small readers and writers of JSON fields the relay providers' translations share: a member
// as a string or an integer with a default, and a string as JSON text.
#pragma once

#include <simdjson.h>

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

}  // namespace llmh_plugins
