#include "json/writer.hpp"

#include <charconv>
#include <cmath>

namespace llmhost::json {

Writer &Writer::value(int64_t v) {
  sep();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out_.append(buf, end);
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

}  // namespace llmhost::json
