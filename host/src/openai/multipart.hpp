// multipart/form-data (RFC 7578), as OpenAI's clients send /v1/images/edits: a body of parts,
// each a form field or a file. Pure: reads the body it is given, never allocates by a length the
// body claims, and refuses (with where and why) anything it cannot read unambiguously.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace llmhost::openai {

// One part: a text field, or a file when it has a filename. Views into the parsed body.
struct FormPart {
  std::string name;  // the field name ("image", "image[]", "prompt")
  std::optional<std::string> filename;
  std::string content_type;  // the part's Content-Type; empty when it sent none
  std::string_view data;     // the part's bytes
};

// The boundary a Content-Type header gives for multipart/form-data; nothing when the header is
// not multipart/form-data or has no usable boundary.
std::optional<std::string> form_boundary(std::string_view content_type);

// The parts of `body` split at `boundary`, or the reason it is malformed (naming the part).
std::variant<std::vector<FormPart>, std::string> parse_form(std::string_view body, std::string_view boundary);

}  // namespace llmhost::openai
