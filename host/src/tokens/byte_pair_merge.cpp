#include "tokens/byte_pair_merge.hpp"

#include <limits>
#include <queue>
#include <stdexcept>

namespace llmhost::detail::tokens {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// A candidate merge of part `left` with the part after it. Stale once either part changed;
// `version` tells.
struct Candidate {
  uint32_t rank;
  uint32_t left;
  uint32_t version;
  // Lowest rank first; on a tie the leftmost, which is tiktoken's choice. Parts are numbered
  // by their first byte, so the part number orders by position.
  bool operator>(const Candidate &o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

uint32_t rank_of(const BpeRanks &ranks, std::string_view bytes) {
  const auto r = ranks.find(bytes);
  if (!r) throw std::logic_error("a tiktoken encoding without a rank for a single byte");
  return *r;
}

}  // namespace

void byte_pair_encode(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out) {
  if (piece.empty()) return;
  if (const auto whole = ranks.find(piece)) return out.push_back(*whole);  // most pieces
  const auto n = static_cast<uint32_t>(piece.size());
  // Part i starts at byte i; next[i] is the first byte of the part after it (n at the end).
  std::vector<uint32_t> next(n), prev(n), version(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i == 0 ? kNone : i - 1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  const auto offer = [&](uint32_t left) {
    const uint32_t right = next[left];
    if (right >= n) return;
    if (const auto r = ranks.find(piece.substr(left, next[right] - left))) heap.push({*r, left, version[left]});
  };
  for (uint32_t i = 0; i + 1 < n; ++i) offer(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // A candidate is current only if neither of its parts has changed since it was offered;
    // merging always bumps the left part, and the right part's own change bumps it too
    // (through the version of the part before it).
    if (c.version != version[c.left]) continue;
    const uint32_t right = next[c.left];
    next[c.left] = next[right];
    if (next[right] < n) prev[next[right]] = c.left;
    version[right] = kNone;  // gone
    ++version[c.left];
    offer(c.left);
    if (prev[c.left] != kNone) {
      ++version[prev[c.left]];
      offer(prev[c.left]);
    }
  }
  for (uint32_t i = 0; i < n; i = next[i]) out.push_back(rank_of(ranks, piece.substr(i, next[i] - i)));
}

}  // namespace llmhost::detail::tokens
