// A Server-Sent Events parser (the WHATWG event-stream format the vendors' APIs stream in).
// Header-only and self-contained and allocation-light so that a fuzzer can drive it directly: feed it bytes in
// any split, or whole lines, and it calls back once per complete event.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <llmhost/text.hpp>

namespace llmh_plugins {

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

inline bool SseParser::feed(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size() && !stopped_;) {
    if (after_cr_ && bytes[i] == '\n') {  // the '\n' of a "\r\n" split across feeds
      after_cr_ = false;
      ++i;
      continue;
    }
    after_cr_ = false;
    const size_t end = llmh::find_any(bytes, "\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(i));
      break;
    }
    if (line_.empty()) {
      feed_line(bytes.substr(i, end - i));
    } else {
      line_.append(bytes.substr(i, end - i));
      const std::string line = std::move(line_);
      line_.clear();
      feed_line(line);
    }
    i = end + 1;
    if (bytes[end] == '\r') {
      if (i < bytes.size() && bytes[i] == '\n')
        ++i;
      else if (i == bytes.size())
        after_cr_ = true;
    }
  }
  return !stopped_;
}

inline bool SseParser::feed_line(std::string_view line) {
  if (stopped_) return false;
  if (line.empty()) return dispatch();
  if (line.front() == ':') return true;  // a comment (keep-alive pings)
  std::string_view field = line, value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  }
  // "id", "retry" and unknown fields do not matter to a one-shot request.
  return true;
}

inline bool SseParser::finish() {
  if (stopped_) return false;
  if (!line_.empty()) {
    const std::string line = std::move(line_);
    line_.clear();
    feed_line(line);
  }
  return dispatch();
}

inline bool SseParser::dispatch() {
  if (!has_data_) {  // an event without data is not dispatched (per the spec)
    type_.clear();
    return true;
  }
  const SseEvent event{type_, data_};
  if (!on_event_(event)) stopped_ = true;
  data_.clear();
  type_.clear();
  has_data_ = false;
  return !stopped_;
}

}  // namespace llmh_plugins
