#include "json/writer.hpp"

#include <charconv>
#include <cmath>

namespace llmhost::json {

Writer &Writer::value(int64_t v) {
  char text[24] = {','};
  auto [end, ec] = std::to_chars(text + 1, text + sizeof text, v);
  (void)ec;
  token(text, static_cast<size_t>(end - text));
  return *this;
}

namespace {
template <class F>
void append_number(std::string &out, F v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}
}  // namespace

Writer &Writer::value(double v) {
  sep();
  append_number(out_, v);
  return *this;
}

Writer &Writer::value(float v) {
  sep();
  append_number(out_, v);
  return *this;
}

Writer &Writer::members_of(std::string_view object_json) {
  const size_t open = object_json.find('{'), close = object_json.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return *this;
  const std::string_view inside = object_json.substr(open + 1, close - open - 1);
  const size_t first = inside.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return *this;  // {}
  sep();
  out_ += inside.substr(first, inside.find_last_not_of(" \t\r\n") + 1 - first);
  return *this;
}

}  // namespace llmhost::json
