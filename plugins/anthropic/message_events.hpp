// Anthropic's typed stream events (message_start, content_block_start/delta/stop,
// message_delta, message_stop, ping, error) into OpenAI-shaped chunks: text deltas as content,
// thinking deltas as reasoning, a tool_use block as a tool call (its id and name first, then its
// input_json_delta fragments as arguments, indexed by tool call), and stop_reason with the usage
// at the end. Self-contained so that a fuzzer can drive it directly.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <llmhost/provider.hpp>

namespace anthropic_plugin {

class MessageEvents {
 public:
  // `out` and `url` (for messages) must outlive the decoder. One thread at a time.
  MessageEvents(llmh::Stream &out, std::string url) : out_(out), url_(std::move(url)) {}

  // One event's data (its JSON says its type). Returns false once the consumer stopped. Throws
  // llmh::Error for an error event (with the status its type stands for: overloaded 529, ...)
  // and 502 for data that is not an event.
  bool event(simdjson::dom::parser &parser, std::string_view data);

  // The transfer ended: throws 502 unless the message was whole (message_stop).
  void finish() const;
  bool stopped() const { return message_stopped_; }

 private:
  bool emit(llmh_chunk &chunk);

  llmh::Stream &out_;
  const std::string url_;
  std::vector<int64_t> tool_of_block_;  // content block index -> tool call index (-1: not a tool)
  uint32_t tools_ = 0;
  int64_t prompt_tokens_ = 0;
  bool message_stopped_ = false;
};

}  // namespace anthropic_plugin
