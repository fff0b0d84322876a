// Turns a plugin's chunks into OpenAI's Server-Sent Events framing, byte for byte:
//   data: {chat.completion.chunk}\n\n   one per chunk; the first delta carries role "assistant"
//   data: {... "finish_reason":"stop"}\n\n   a last chunk with the finish reason (made up as
//                                            "stop" when the plugin sent none)
//   data: {... "choices":[],"usage":{...}}\n\n   only with stream_options.include_usage
//   data: [DONE]\n\n
// Pure: appends text to strings, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "llmhost/types.hpp"
#include "openai/response.hpp"

namespace llmhost::openai {

// Appends the event that ends a stream which failed after it started (an OpenAI error object),
// and [DONE]. `code`: the OpenAI error code, empty for one derived from the status.
void write_sse_error(std::string &out, int status, std::string_view message, std::string_view code = {});

class SseFramer {
 public:
  SseFramer(StreamMeta meta, bool include_usage) : meta_(std::move(meta)), include_usage_(include_usage) {}

  // Appends the frame for `c` (nothing for a usage-only chunk: usage goes last).
  void chunk(std::string &out, const Chunk &c);
  // Appends the closing frames.
  void finish(std::string &out);
  // Appends an error event (the stream failed after it started) and [DONE]: write_sse_error.
  void error(std::string &out, int status, std::string_view message, std::string_view code = {}) {
    write_sse_error(out, status, message, code);
  }

  bool started() const { return started_; }

 private:
  void frame(std::string &out, const Chunk &c);

  StreamMeta meta_;
  bool include_usage_;
  bool started_ = false;
  bool finished_ = false;  // a finish_reason went out
  std::optional<Usage> usage_;
};

}  // namespace llmhost::openai
