// llmh_plugins::SseParser: the same bytes fed whole, in random splits, and as pre-split lines
// must give the same events. Input: [stop-after byte][split-seed byte][the stream].
#include <string>
#include <utility>
#include <vector>

#include "common/sse.hpp"
#include "fuzz_input.hpp"

namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

struct Run {
  Events events;
  bool stopped = false;
};

llmh_plugins::SseParser make_parser(Run &run, size_t stop_after) {
  return llmh_plugins::SseParser([&run, stop_after](const llmh_plugins::SseEvent &e) {
    if (e.data.find('\r') != std::string_view::npos) llmhost_fuzz::fail("sse: data holds a CR");
    if (e.type.find_first_of("\r\n") != std::string_view::npos)
      llmhost_fuzz::fail("sse: event type holds a line break");
    run.events.emplace_back(e.type, e.data);
    return stop_after == 0 || run.events.size() < stop_after;
  });
}

Run whole(std::string_view s, size_t stop_after) {
  Run run;
  auto p = make_parser(run, stop_after);
  p.feed(s);
  p.finish();
  run.stopped = p.stopped();
  return run;
}

Run split(std::string_view s, size_t stop_after, uint32_t seed) {
  Run run;
  auto p = make_parser(run, stop_after);
  const size_t max_piece = seed % 7 == 0 ? 1 : seed % 23 + 1;
  uint32_t x = seed * 2654435761u + 1;
  while (!s.empty()) {
    x = x * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(s.size(), (x >> 16) % max_piece + ((x >> 8) & 1 ? 0 : 1));
    p.feed(s.substr(0, n));  // n may be 0: an empty feed must be harmless
    s.remove_prefix(n);
  }
  p.finish();
  run.stopped = p.stopped();
  return run;
}

// Lines as the spec defines them: ended by CRLF, CR or LF.
Run by_lines(std::string_view s, size_t stop_after) {
  Run run;
  auto p = make_parser(run, stop_after);
  while (!s.empty()) {
    const size_t end = s.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      p.feed_line(s);
      break;
    }
    p.feed_line(s.substr(0, end));
    size_t next = end + 1;
    if (s[end] == '\r' && next < s.size() && s[next] == '\n') ++next;
    s.remove_prefix(next);
  }
  p.finish();
  run.stopped = p.stopped();
  return run;
}

bool same(const Run &a, const Run &b) { return a.events == b.events && a.stopped == b.stopped; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const size_t stop_after = in.byte() % 8;
  const uint32_t seed = in.byte();
  const std::string_view stream = in.all();
  const Run a = whole(stream, stop_after);
  if (!same(a, split(stream, stop_after, seed))) llmhost_fuzz::fail("sse: split feeding changed the events");
  if (!same(a, by_lines(stream, stop_after))) llmhost_fuzz::fail("sse: feed_line changed the events");
  return 0;
}
