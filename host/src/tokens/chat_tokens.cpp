#include "tokens/chat_tokens.hpp"

namespace llmhost::detail::tokens {
namespace {

size_t count_calls(const Encoding &encoding, std::span<const ToolCall> calls) {
  size_t n = 0;
  for (const ToolCall &c : calls) n += count_call(encoding, c.name, c.arguments);
  return n;
}

}  // namespace

size_t count_message(const Encoding &encoding, std::string_view role, std::string_view content, std::string_view name,
                     std::string_view tool_call_id) {
  size_t n = kTokensPerMessage + encoding.count(role) + encoding.count(content) + encoding.count(tool_call_id);
  if (!name.empty()) n += kTokensPerName + encoding.count(name);
  return n;
}

size_t count_chat_prompt(const Encoding &encoding, std::span<const Message> messages) {
  size_t n = kReplyPriming;
  for (const Message &m : messages)
    n += count_message(encoding, m.role, m.content, m.name, m.tool_call_id) + count_calls(encoding, m.tool_calls);
  return n;
}

size_t count_completion(const Encoding &encoding, std::string_view content, std::string_view reasoning,
                        std::span<const ToolCall> tool_calls) {
  return encoding.count(content) + encoding.count(reasoning) + count_calls(encoding, tool_calls);
}

}  // namespace llmhost::detail::tokens
