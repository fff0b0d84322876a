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

// The prompt tokens of `messages`: the framing above plus the tokens of each role, content,
// name and tool_call_id, and of each tool call's name and arguments. Throws
// std::invalid_argument for text that is not UTF-8. Any thread.
size_t count_chat_prompt(const Encoding &encoding, std::span<const Message> messages);

// The completion tokens of an answer: its text, reasoning, and tool calls' names and
// arguments. Any thread.
size_t count_completion(const Encoding &encoding, std::string_view content, std::string_view reasoning,
                        std::span<const ToolCall> tool_calls);

}  // namespace llmhost::detail::tokens
