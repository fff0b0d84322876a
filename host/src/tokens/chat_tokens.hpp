// Token counts of chat requests and answers, as OpenAI bills them, for usage a provider did not
// report and for the token counter endpoint.
#pragma once

#include <llmhost/types.hpp>

#include <span>

#include "tokens/encoding.hpp"

namespace llmhost::detail::tokens {

// OpenAI's framing of a chat prompt (its cookbook's num_tokens_from_messages, which LiteLLM
// follows for these models): each message costs 3 tokens beyond its text, a name 1 more, and
// the reply is primed with 3.
inline constexpr size_t kTokensPerMessage = 3;
inline constexpr size_t kTokensPerName = 1;
inline constexpr size_t kReplyPriming = 3;

// The prompt tokens of `messages`: kReplyPriming plus, per message, count_message and its
// tool calls' count_call. Throws std::invalid_argument for text that is not UTF-8. Any thread.
size_t count_chat_prompt(const Encoding &encoding, std::span<const Message> messages);

// One message's share of a prompt: its framing, role, content, tool_call_id, and name (with
// the name's extra token when it has one). Tool calls are counted apart (count_call).
size_t count_message(const Encoding &encoding, std::string_view role, std::string_view content, std::string_view name,
                     std::string_view tool_call_id);
// One tool call's name and arguments.
inline size_t count_call(const Encoding &encoding, std::string_view name, std::string_view arguments) {
  return encoding.count(name) + encoding.count(arguments);
}

// The completion tokens of an answer: its text, reasoning, and tool calls' names and
// arguments. Any thread.
size_t count_completion(const Encoding &encoding, std::string_view content, std::string_view reasoning,
                        std::span<const ToolCall> tool_calls);

}  // namespace llmhost::detail::tokens
