#include "openai/sse_framer.hpp"

#include "openai/error.hpp"

namespace llmhost::openai {

void SseFramer::frame(std::string &out, const Chunk &c) {
  out += "data: ";
  write_chunk(out, meta_, c, !started_);
  out += "\n\n";
  started_ = true;
  if (!c.finish_reason.empty()) finished_ = true;
}

void SseFramer::chunk(std::string &out, const Chunk &c) {
  if (c.usage) usage_ = c.usage;
  if (c.content.empty() && c.reasoning.empty() && c.tool_calls.empty() && c.finish_reason.empty()) return;
  if (!started_ && !c.finish_reason.empty() && c.content.empty() && c.reasoning.empty() && c.tool_calls.empty())
    frame(out, Chunk{});  // OpenAI sends the role in a chunk of its own before the finish
  Chunk copy = c;
  copy.usage.reset();  // usage travels in its own chunk at the end, as OpenAI sends it
  frame(out, copy);
}

void SseFramer::finish(std::string &out) {
  if (!started_) frame(out, Chunk{});  // the role-only first chunk
  if (!finished_) {
    Chunk last;
    last.finish_reason = "stop";
    frame(out, last);
  }
  if (include_usage_) {
    Chunk u;
    u.usage = usage_.value_or(Usage{});
    frame(out, u);
  }
  out += "data: [DONE]\n\n";
}

void write_sse_error(std::string &out, int status, std::string_view message, std::string_view code) {
  out += "data: ";
  out += error_json(status, message, {}, code);
  out += "\n\ndata: [DONE]\n\n";
}

}  // namespace llmhost::openai
