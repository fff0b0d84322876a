// The SSE parser on its own (plugins/openai/sse.cpp): fed bytes split at every boundary.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/sse.hpp"

using llmh_plugins::SseEvent;
using llmh_plugins::SseParser;

namespace {

std::vector<std::string> parse_split(const std::string &input, size_t a, size_t b) {
  std::vector<std::string> out;
  SseParser p([&](const SseEvent &e) {
    out.push_back(std::string(e.type) + "|" + std::string(e.data));
    return true;
  });
  p.feed(std::string_view(input).substr(0, a));
  p.feed(std::string_view(input).substr(a, b - a));
  p.feed(std::string_view(input).substr(b));
  p.finish();
  return out;
}

}  // namespace

TEST_CASE("sse: fields, comments, multi-line data and CR/LF/CRLF endings at every split") {
  const std::string input =
      ": comment\n\ndata: one\n\nevent: upd\r\ndata:two\r\ndata:  three\r\n\r\nid: 7\nretry: 5\n\n"
      "data\n\ndata: four\rdata: five\r\rdata: tail";
  const std::vector<std::string> want = {"|one", "upd|two\n three", "|", "|four\nfive", "|tail"};
  for (size_t a = 0; a <= input.size(); ++a)
    for (size_t b = a; b <= input.size(); b += 7) {
      INFO("splits at " << a << " and " << b);
      REQUIRE(parse_split(input, a, b) == want);
    }
}

TEST_CASE("sse: a handler returning false stops the parser") {
  int n = 0;
  SseParser p([&](const SseEvent &) { return ++n < 2; });
  CHECK(p.feed("data: a\n\n"));
  CHECK_FALSE(p.feed("data: b\n\ndata: c\n\n"));
  CHECK(n == 2);
  CHECK(p.stopped());
}
