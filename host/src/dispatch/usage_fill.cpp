#include "dispatch/usage_fill.hpp"

#include <stdexcept>

#include "tokens/chat_tokens.hpp"

namespace llmhost::detail {
namespace {

bool reported(const Usage &u) { return u.prompt_tokens != 0 || u.completion_tokens != 0 || u.total_tokens != 0; }

const tokens::Encoding *encoding_for(const Plugin &plugin, std::string_view model) {
  const auto &find = plugin.services().usage_encoding;
  return find ? find(model) : nullptr;
}

std::optional<Usage> estimate(const tokens::Encoding &e, const Request &request, std::string_view content,
                              std::string_view reasoning, std::span<const ToolCall> calls) {
  try {
    Usage u;
    // A text completion's prompt is the one input (the host makes one call per prompt).
    const bool text = request.messages.empty() && request.input.size() == 1;
    u.prompt_tokens =
        static_cast<int64_t>(text ? e.count(request.input[0]) : tokens::count_chat_prompt(e, request.messages));
    u.completion_tokens = static_cast<int64_t>(tokens::count_completion(e, content, reasoning, calls));
    u.total_tokens = u.prompt_tokens + u.completion_tokens;
    u.estimated = true;
    return u;
  } catch (const std::invalid_argument &) {
    return std::nullopt;  // not UTF-8: a plugin's bytes the proxy would refuse to write anyway
  }
}

}  // namespace

void fill_usage(Response &response, const Request &request, const Plugin &plugin) {
  if (reported(response.usage)) return;
  if (const tokens::Encoding *e = encoding_for(plugin, request.model))
    if (auto u = estimate(*e, request, response.content, response.reasoning, response.tool_calls)) response.usage = *u;
}

std::unique_ptr<StreamTally> StreamTally::for_call(const Plugin &plugin) {
  return plugin.services().usage_encoding ? std::make_unique<StreamTally>(plugin) : nullptr;
}

void StreamTally::note_usage(const Usage &u, const Chunk &c) {
  reported_ = reported(u);
  if (!reported_) keep(c);
}

void StreamTally::keep_calls(std::span<const ToolCallDelta> deltas) {
  for (const ToolCallDelta &d : deltas) {
    if (d.index >= calls_.size()) {
      if (d.index > 1024) continue;  // no answer calls that many tools; never grow unbounded
      calls_.resize(d.index + 1);
    }
    calls_[d.index].name += d.name;
    calls_[d.index].arguments += d.arguments;
  }
}

std::optional<Chunk> StreamTally::closing_chunk(const Request &request) {
  if (reported_) return std::nullopt;
  const tokens::Encoding *e = encoding_for(plugin_, request.model);
  std::optional<Usage> u = e ? estimate(*e, request, content_, reasoning_, calls_) : std::nullopt;
  if (!u) return std::nullopt;
  Chunk c;
  c.usage = *u;
  return c;
}

}  // namespace llmhost::detail
