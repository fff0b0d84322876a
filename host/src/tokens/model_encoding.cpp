#include "tokens/model_encoding.hpp"

#include <array>
#include <utility>

namespace llmhost::detail::tokens {
namespace {

// Model name prefixes, longest first where one is a prefix of another ("gpt-4o" before
// "gpt-4"). A prefix matches the whole name or the name followed by '-' (a dated snapshot,
// "gpt-4o-2024-08-06") or ':' (a fine-tune, "ft:gpt-4o:org::id").
constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kPrefixes{{
    {"chatgpt-4o", "o200k_base"},
    {"gpt-4o", "o200k_base"},
    {"gpt-4.1", "o200k_base"},
    {"gpt-4.5", "o200k_base"},
    {"gpt-5", "o200k_base"},
    {"o1", "o200k_base"},
    {"o3", "o200k_base"},
    {"o4-mini", "o200k_base"},
    {"gpt-4", "cl100k_base"},
    {"gpt-3.5-turbo", "cl100k_base"},
    {"gpt-3.5", "cl100k_base"},
    {"gpt-35-turbo", "cl100k_base"},  // Azure's spelling
    {"text-embedding-ada-002", "cl100k_base"},
    {"text-embedding-3-small", "cl100k_base"},
    {"text-embedding-3-large", "cl100k_base"},
    {"davinci-002", "cl100k_base"},
    {"babbage-002", "cl100k_base"},
}};

}  // namespace

std::string_view encoding_for_model(std::string_view model, std::string_view fallback) {
  if (const size_t slash = model.rfind('/'); slash != std::string_view::npos) model.remove_prefix(slash + 1);
  if (model.starts_with("ft:")) model.remove_prefix(3);
  for (const auto &[prefix, encoding] : kPrefixes) {
    if (!model.starts_with(prefix)) continue;
    if (model.size() == prefix.size() || model[prefix.size()] == '-' || model[prefix.size()] == ':') return encoding;
  }
  return fallback;
}

}  // namespace llmhost::detail::tokens
