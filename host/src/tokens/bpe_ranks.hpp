// The mergeable ranks of a tiktoken encoding: each byte sequence the encoding knows, and its
// rank, which is also its token id. Lower ranks merge first.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::detail::tokens {

class BpeRanks {
 public:
  // Parses tiktoken's rank file format: one "BASE64 RANK" line per token. Throws
  // std::runtime_error naming `source` and the line number for anything malformed.
  static BpeRanks parse(std::string_view file_text, std::string_view source);

  // The rank of `bytes`, or nullopt. The hot path of counting: one probe of an open-addressed
  // table whose slots hold a token's first 8 bytes, so a short token compares in one step.
  // Immutable after parse: any thread.
  std::optional<uint32_t> find(std::string_view bytes) const {
    if (bytes.empty() || bytes.size() > kMaxToken) return std::nullopt;
    const uint64_t head = head_of(bytes);
    for (size_t i = hash(head, bytes.size()) & mask_;; i = (i + 1) & mask_) {
      const Slot &s = slots_[i];
      if (s.size == 0) return std::nullopt;
      if (s.head == head && s.size == bytes.size() &&
          (bytes.size() <= 8 || std::memcmp(arena_.data() + s.offset + 8, bytes.data() + 8, bytes.size() - 8) == 0))
        return s.rank;
    }
  }
  size_t size() const { return count_; }
  // The bytes of token `rank`; nullopt for a rank the file does not have. Any thread.
  std::optional<std::string_view> bytes_of(uint32_t rank) const {
    if (rank >= by_rank_.size() || by_rank_[rank].size == 0) return std::nullopt;
    return std::string_view(arena_.data() + by_rank_[rank].offset, by_rank_[rank].size);
  }

 private:
  static constexpr size_t kMaxToken = 0xffff;
  struct Slot {
    uint64_t head = 0;    // the first 8 bytes, zero-padded
    uint32_t offset = 0;  // into arena_
    uint32_t rank = 0;
    uint16_t size = 0;  // 0: empty (no token is empty)
  };
  struct Span {
    uint32_t offset = 0;
    uint16_t size = 0;
  };
  static uint64_t head_of(std::string_view s) {
    uint64_t h = 0;
    std::memcpy(&h, s.data(), s.size() < 8 ? s.size() : 8);
    return h;
  }
  // MurmurHash3's 64-bit finalizer: the low bits, which pick the slot, depend on every byte of
  // the head (a plain multiply would leave tokens sharing a first byte, " " above all, in one
  // cluster).
  static size_t hash(uint64_t head, size_t size) {
    uint64_t h = head ^ (size * 0x9e3779b97f4a7c15ull);
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return static_cast<size_t>(h ^ (h >> 33));
  }

  std::string arena_;        // every token's bytes, back to back
  std::vector<Slot> slots_;  // a power of two, at most half full
  size_t mask_ = 0;
  size_t count_ = 0;
  std::vector<Span> by_rank_;  // rank -> its bytes in arena_
};

}  // namespace llmhost::detail::tokens
