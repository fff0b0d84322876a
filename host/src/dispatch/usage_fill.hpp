// Usage for the calls whose provider reported none: the host counts it with the model's
// tiktoken encoding and marks it estimated (docs/tokens.md).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llmhost/types.hpp"
#include "loader/plugin.hpp"

namespace llmhost::detail {

// Fills response.usage when it is all zero and `plugin`'s services estimate usage. Throws
// nothing: text that cannot be counted leaves the usage as it was.
void fill_usage(Response &response, const Request &request, const Plugin &plugin);

// One stream's answer, kept while it streams so that its usage can be counted at the end when
// the provider reported none. Chunks are added one at a time (a stream's rule).
class StreamTally {
 public:
  // Null when `plugin`'s services do not estimate usage: nothing to keep. The encoding is
  // found (and loaded, the first time) only when the stream ends without usage.
  static std::unique_ptr<StreamTally> for_call(const Plugin &plugin);
  explicit StreamTally(const Plugin &plugin) : plugin_(plugin) {}

  // Inline: it runs on every chunk of every stream, where a call out would cost more than the
  // copy of a few bytes of text.
  void add(const Chunk &c) {
    if (reported_) return;  // nothing more to keep
    if (c.usage) return note_usage(*c.usage, c);
    keep(c);
  }
  // The estimated usage chunk to send last, or nothing when the provider reported usage.
  std::optional<Chunk> closing_chunk(const Request &request);

 private:
  void note_usage(const Usage &u, const Chunk &c);
  void keep(const Chunk &c) {
    if (!c.content.empty()) content_.append(c.content.data(), c.content.size());
    if (!c.reasoning.empty()) reasoning_.append(c.reasoning.data(), c.reasoning.size());
    if (!c.tool_calls.empty()) keep_calls(c.tool_calls);
  }
  void keep_calls(std::span<const ToolCallDelta> deltas);

  const Plugin &plugin_;  // pinned by the call for as long as the tally lives
  bool reported_ = false;
  std::string content_, reasoning_;
  std::vector<ToolCall> calls_;  // by delta index
};

}  // namespace llmhost::detail
