#include "message_events.hpp"

#include "common/json_fields.hpp"
#include "messages_answer.hpp"

namespace anthropic_plugin {
namespace {

using llmh_plugins::int_of;
using llmh_plugins::string_of;
using simdjson::dom::element;
using simdjson::dom::object;

}  // namespace

bool MessageEvents::emit(llmh_chunk &chunk) { return out_.emit(chunk); }

bool MessageEvents::event(simdjson::dom::parser &parser, std::string_view data) {
  object ev;
  if (auto e = parser.parse(data.data(), data.size(), true).get(ev))
    throw llmh::Error(502, "anthropic: stream from " + url_ + " sent an event that is not a JSON object (" +
                               simdjson::error_message(e) + ")");
  const std::string_view type = string_of(ev, "type");
  llmh_chunk chunk = llmh::make_chunk();
  chunk.raw_json = llmh::str(data);
  if (type == "message_start") {
    object msg, usage;
    if (!ev["message"].get(msg) && !msg["usage"].get(usage))
      prompt_tokens_ = int_of(usage, "input_tokens") + int_of(usage, "cache_creation_input_tokens") +
                       int_of(usage, "cache_read_input_tokens");
    return true;
  }
  if (type == "content_block_start") {
    const int64_t index = int_of(ev, "index");
    object block;
    if (index < 0 || index > 4096 || ev["content_block"].get(block))
      throw llmh::Error(502, "anthropic: stream from " + url_ + " sent a content_block_start without its block");
    if (tool_of_block_.size() <= static_cast<size_t>(index)) tool_of_block_.resize(static_cast<size_t>(index) + 1, -1);
    const std::string_view block_type = string_of(block, "type");
    if (block_type == "tool_use") {
      tool_of_block_[static_cast<size_t>(index)] = tools_;
      llmh_tool_call_delta d{};
      d.struct_size = sizeof d;
      d.index = tools_++;
      d.id = llmh::str(string_of(block, "id"));
      d.name = llmh::str(string_of(block, "name"));
      chunk.tool_calls = &d;
      chunk.tool_call_count = 1;
      return emit(chunk);
    }
    if (block_type == "text" && !string_of(block, "text").empty()) {
      chunk.content = llmh::str(string_of(block, "text"));
      return emit(chunk);
    }
    return true;
  }
  if (type == "content_block_delta") {
    object delta;
    if (ev["delta"].get(delta))
      throw llmh::Error(502, "anthropic: stream from " + url_ + " sent a content_block_delta without its delta");
    const std::string_view delta_type = string_of(delta, "type");
    if (delta_type == "text_delta") {
      chunk.content = llmh::str(string_of(delta, "text"));
    } else if (delta_type == "thinking_delta") {
      chunk.reasoning = llmh::str(string_of(delta, "thinking"));
    } else if (delta_type == "input_json_delta") {
      const int64_t index = int_of(ev, "index");
      if (index < 0 || static_cast<size_t>(index) >= tool_of_block_.size() ||
          tool_of_block_[static_cast<size_t>(index)] < 0)
        throw llmh::Error(502, "anthropic: stream from " + url_ + " sent tool input for a block that is no tool_use");
      llmh_tool_call_delta d{};
      d.struct_size = sizeof d;
      d.index = static_cast<uint32_t>(tool_of_block_[static_cast<size_t>(index)]);
      d.arguments = llmh::str(string_of(delta, "partial_json"));
      chunk.tool_calls = &d;
      chunk.tool_call_count = 1;
      return emit(chunk);
    } else {
      return true;  // signature_delta and the like: nothing an OpenAI client reads
    }
    return emit(chunk);
  }
  if (type == "message_delta") {
    object delta, usage;
    if (!ev["delta"].get(delta)) chunk.finish_reason = llmh::str(finish_reason(string_of(delta, "stop_reason")));
    llmh_usage u;
    if (!ev["usage"].get(usage)) {
      const int64_t completion = int_of(usage, "output_tokens");
      u = llmh::make_usage(prompt_tokens_, completion, prompt_tokens_ + completion);
      chunk.usage = &u;
    }
    return emit(chunk);
  }
  if (type == "message_stop") {
    message_stopped_ = true;
    return true;
  }
  if (type == "error") {
    object err;
    std::string_view error_type, message = data;
    if (!ev["error"].get(err)) {
      error_type = string_of(err, "type");
      message = string_of(err, "message");
    }
    throw llmh::Error(status_of(error_type), "anthropic: upstream error in stream: " + std::string(message) +
                                                 (error_type.empty() ? "" : " (" + std::string(error_type) + ")"));
  }
  return true;  // ping, content_block_stop, and event types added later
}

void MessageEvents::finish() const {
  if (!message_stopped_) throw llmh::Error(502, "anthropic: stream from " + url_ + " ended before message_stop");
}

}  // namespace anthropic_plugin
