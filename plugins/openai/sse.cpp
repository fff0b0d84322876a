#include "sse.hpp"

namespace openai_plugin {

bool SseParser::feed(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size() && !stopped_;) {
    if (after_cr_ && bytes[i] == '\n') {  // the '\n' of a "\r\n" split across feeds
      after_cr_ = false;
      ++i;
      continue;
    }
    after_cr_ = false;
    const size_t end = bytes.find_first_of("\r\n", i);
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

bool SseParser::feed_line(std::string_view line) {
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

bool SseParser::finish() {
  if (stopped_) return false;
  if (!line_.empty()) {
    const std::string line = std::move(line_);
    line_.clear();
    feed_line(line);
  }
  return dispatch();
}

bool SseParser::dispatch() {
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

}  // namespace openai_plugin
