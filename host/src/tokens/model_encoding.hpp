// Which encoding a model counts with: tiktoken's table of OpenAI's models, which LiteLLM uses.
#pragma once

#include <string_view>

namespace llmhost::detail::tokens {

// The encoding llmhost uses when a model is not in the table (LiteLLM's default too).
inline constexpr std::string_view kDefaultEncoding = "cl100k_base";

// The encoding name for `model`: o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4 and
// chatgpt-4o; cl100k_base for gpt-4, gpt-3.5 and the text-embedding models; `fallback` for any
// other. A "provider/" prefix, such as "openai/" or "azure/", is ignored, and so is a
// fine-tune's "ft:" form. Any thread.
std::string_view encoding_for_model(std::string_view model, std::string_view fallback = kDefaultEncoding);

}  // namespace llmhost::detail::tokens
