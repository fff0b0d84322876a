// A Server-Sent Events parser (the WHATWG event-stream format OpenAI-style APIs stream in).
// Self-contained and allocation-light so that a fuzzer can drive it directly: feed it bytes in
// any split, or whole lines, and it calls back once per complete event.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace openai_plugin {

struct SseEvent {
  std::string_view type;  // the "event:" field; empty means "message"
  std::string_view data;  // the "data:" lines joined with '\n'
};

class SseParser {
 public:
  // Returns false to stop parsing; the parser then ignores everything fed after.
  using Handler = std::function<bool(const SseEvent &)>;

  explicit SseParser(Handler on_event) : on_event_(std::move(on_event)) {}

  // Feeds raw bytes, split anywhere (even inside a "\r\n"). Returns false once stopped.
  bool feed(std::string_view bytes);
  // Feeds one complete line without its terminator. Returns false once stopped.
  bool feed_line(std::string_view line);
  // End of input: a pending partial line is taken as a line, and an event without its closing
  // blank line is still dispatched (servers that close right after the last "data:" line).
  // Returns false once stopped.
  bool finish();

  bool stopped() const { return stopped_; }

 private:
  bool dispatch();

  Handler on_event_;
  std::string line_;       // bytes of an incomplete line (feed only)
  bool after_cr_ = false;  // the last byte fed was '\r': a following '\n' belongs to it
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  bool stopped_ = false;
};

}  // namespace openai_plugin
