// The mergeable ranks of a tiktoken encoding: each byte sequence the encoding knows, and its
// rank, which is also its token id. Lower ranks merge first.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmhost::detail::tokens {

class BpeRanks {
 public:
  // Parses tiktoken's rank file format: one "BASE64 RANK" line per token. Throws
  // std::runtime_error naming `source` and the line number for anything malformed.
  static BpeRanks parse(std::string_view file_text, std::string_view source);

  // Immutable after parse: any thread.
  std::optional<uint32_t> find(std::string_view bytes) const {
    const auto it = ranks_.find(bytes);
    return it == ranks_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
  size_t size() const { return ranks_.size(); }
  // The bytes of token `rank`; nullopt for a rank the file does not have. Any thread.
  std::optional<std::string_view> bytes_of(uint32_t rank) const {
    if (rank >= by_rank_.size() || !by_rank_[rank].data()) return std::nullopt;
    return by_rank_[rank];
  }

 private:
  struct Hash {
    using is_transparent = void;  // lookups by string_view, with no copy
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ranks_;
  std::vector<std::string_view> by_rank_;  // views of ranks_' keys, which never move
};

}  // namespace llmhost::detail::tokens
