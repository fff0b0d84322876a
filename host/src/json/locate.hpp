// Where a JSON text goes wrong: a small strict validator used only after simdjson refused a
// document, so that a 400 can say "line 3, column 14: expected ':'" instead of just "invalid".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace llmhost::json {

struct SyntaxError {
  size_t offset = 0;            // byte offset of the offending byte (== size at end of input)
  size_t line = 1, column = 1;  // 1-based; column counts bytes
  std::string what;             // e.g. "expected ',' or '}' after an object member"
};

// The first syntax error in `text` taken as exactly one JSON value (RFC 8259, UTF-8), or
// nullopt when it is well formed. Nesting deeper than `max_depth` is an error. Never throws
// except std::bad_alloc.
std::optional<SyntaxError> find_syntax_error(std::string_view text, size_t max_depth = 1024);

}  // namespace llmhost::json
