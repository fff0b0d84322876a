// A tiktoken encoding: its pre-tokenizer pattern and its ranks. llmhost ships the two that
// OpenAI's chat models use, o200k_base and cl100k_base, and counts exactly as tiktoken does.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokens/bpe_ranks.hpp"
#include "tokens/pretokenizer.hpp"

namespace llmhost::detail::tokens {

class Encoding {
 public:
  // The shipped encoding named `name`, loaded on first use (tens of milliseconds), or nullptr
  // for a name llmhost does not ship. The Encoding lives until the process exits. Any thread.
  static const Encoding *find(std::string_view name);
  // The encoding that counts `model` (encoding_for_model, `fallback` for a model tiktoken's
  // table does not know; `fallback` must be a name find() knows). Any thread.
  static const Encoding &for_model(std::string_view model, std::string_view fallback);
  // The names find() knows, in a fixed order.
  static const std::vector<std::string_view> &names();

  std::string_view name() const { return name_; }
  // Token ids of `text`, special tokens (<|endoftext|>, ...) read as plain text, as tiktoken's
  // encode_ordinary does. Throws std::invalid_argument when `text` is not valid UTF-8. Any thread.
  std::vector<uint32_t> encode(std::string_view text) const;
  // encode(text).size(), without keeping the ids.
  size_t count(std::string_view text) const;
  // The text of `ids`: their bytes joined. Throws std::out_of_range for an id the encoding does
  // not have. Any thread.
  std::string decode(std::span<const uint32_t> ids) const;

  // The pre-tokenizer's regular expression (tiktoken's own).
  std::string_view pattern() const { return pattern_; }

  Encoding(std::string_view name, std::string_view pattern, PiecePattern ascii, std::string_view rank_file);

 private:
  std::string_view name_;
  std::string_view pattern_;
  Pretokenizer pretokenizer_;
  BpeRanks ranks_;
};

}  // namespace llmhost::detail::tokens
