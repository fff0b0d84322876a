// Where a JSON text goes wrong: a small strict validator, used after simdjson refused a
// document, so that a 400 can say "line 3, column 14: expected ':'" instead of just "invalid";
// and, being cheap to start, to check small texts without a parser.
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

// Whether `text` is exactly one JSON object, whitespace around it allowed: the scanner above,
// which costs a few instructions a byte and no setup, so it suits the many small texts a
// plugin hands over (upstream members) better than a parser.
bool is_object(std::string_view text);

}  // namespace llmhost::json
