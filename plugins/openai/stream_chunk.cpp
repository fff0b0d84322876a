#include "stream_chunk.hpp"

#include <array>
#include <vector>

#include <llmhost/json_text.hpp>

#include "flavour.hpp"
#include "parse.hpp"

namespace openai_plugin {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

}  // namespace

bool emit_chunk(simdjson::dom::parser &parser, std::string &scratch, std::string_view json, llmh::Stream &out,
                std::string_view url, Shape shape) {
  object obj;
  if (auto e = parser.parse(json.data(), json.size(), true).get(obj))
    throw llmh::Error(502, OPENAI_PLUGIN_NAME ": stream from " + std::string(url) +
                               " sent an event that is not a JSON object (" + simdjson::error_message(e) + ")");
  if (std::string m = error_message_of(obj); !m.empty())
    throw llmh::Error(502, OPENAI_PLUGIN_NAME ": upstream error in stream: " + m);

  llmh_chunk chunk = llmh::make_chunk();
  chunk.raw_json = llmh::str(json);
  llmh_upstream_members members{};
  if (shape == Shape::kChat) {
    // The parse above checked the event: what passes through is picked from its text.
    const llmh::UpstreamTexts picked = llmh::openai_upstream_members(scratch, json, true);
    members.struct_size = sizeof members;
    members.top = llmh::str(picked.top);
    members.choice = llmh::str(picked.choice);
    members.message = llmh::str(picked.message);
    chunk.upstream_members = &members;
  }
  std::vector<llmh_tool_call_delta> deltas;
  array choices;
  object choice;
  element u;
  const bool has_usage = !obj["usage"].get(u) && !u.is_null();
  // A chunk with no choice and no usage says nothing a client reads: Azure leads every stream
  // with one (its prompt_filter_results).
  if (!obj["choices"].get(choices) && choices.size() == 0 && !has_usage) return true;
  if (!obj["choices"].get(choices) && !choices.at(0).get(choice)) {
    object delta;
    if (shape == Shape::kText) {
      chunk.content = llmh::str(str_or_empty(choice, "text"));
    } else if (!choice["delta"].get(delta)) {
      chunk.content = llmh::str(str_or_empty(delta, "content"));
      std::string_view reasoning = str_or_empty(delta, "reasoning_content");
      if (reasoning.empty()) reasoning = str_or_empty(delta, "reasoning");
      chunk.reasoning = llmh::str(reasoning);
      array calls;
      if (!delta["tool_calls"].get(calls)) {
        uint32_t position = 0;
        for (element c : calls) {
          object call;
          if (c.get(call))
            throw llmh::Error(502, OPENAI_PLUGIN_NAME ": stream from " + std::string(url) + " sent a bad tool call");
          llmh_tool_call_delta d{};
          d.struct_size = sizeof d;
          uint64_t index = position;
          if (call["index"].get(index)) index = position;
          d.index = static_cast<uint32_t>(index);
          d.id = llmh::str(str_or_empty(call, "id"));
          object fn;
          if (!call["function"].get(fn)) {
            d.name = llmh::str(str_or_empty(fn, "name"));
            d.arguments = llmh::str(str_or_empty(fn, "arguments"));
          }
          deltas.push_back(d);
          ++position;
        }
      }
    }
    chunk.finish_reason = llmh::str(str_or_empty(choice, "finish_reason"));
  }
  chunk.tool_calls = deltas.empty() ? nullptr : deltas.data();
  chunk.tool_call_count = deltas.size();
  llmh_usage usage;
  if (has_usage && read_usage(u, usage)) chunk.usage = &usage;
  return out.emit(chunk);
}

}  // namespace openai_plugin
