#include "tokens/byte_pair_merge.hpp"

#include <limits>
#include <queue>
#include <stdexcept>

namespace llmhost::detail::tokens {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Up to this many bytes a piece is merged by rescanning (tiktoken's own way, quadratic but
// with no heap); longer ones with a heap, O(n log n). Both pick the same merge every time: the
// lowest rank, the leftmost on a tie.
constexpr size_t kScanLimit = 64;

uint32_t rank_of(const BpeRanks &ranks, std::string_view bytes) {
  const auto r = ranks.find(bytes);
  if (!r) throw std::logic_error("a tiktoken encoding without a rank for a single byte");
  return *r;
}

// Reused per thread: a piece that needs merging allocates nothing once a thread has seen one
// as long.
struct Scratch {
  std::vector<uint32_t> next, prev, version, pair_rank;
};
thread_local Scratch scratch;

void merge_by_scan(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out) {
  const auto n = static_cast<uint32_t>(piece.size());
  // Part i starts at byte i while alive; next[i] is the start of the part after it (n at the
  // end); pair_rank[i] the rank of part i joined with its next part, kNone when unknown.
  std::vector<uint32_t> &next = scratch.next, &rank = scratch.pair_rank;
  next.resize(n);
  rank.resize(n);
  const auto pair = [&](uint32_t i) -> uint32_t {
    const uint32_t j = next[i];
    if (j >= n) return kNone;
    const auto r = ranks.find(piece.substr(i, next[j] - i));
    return r ? *r : kNone;
  };
  for (uint32_t i = 0; i < n; ++i) next[i] = i + 1;
  for (uint32_t i = 0; i < n; ++i) rank[i] = pair(i);
  for (;;) {
    uint32_t best = kNone, at = kNone, before = kNone;
    for (uint32_t i = 0, p = kNone; i < n; p = i, i = next[i])
      if (rank[i] < best) best = rank[i], at = i, before = p;
    if (best == kNone) break;
    next[at] = next[next[at]];
    rank[at] = pair(at);
    if (before != kNone) rank[before] = pair(before);
  }
  for (uint32_t i = 0; i < n; i = next[i]) out.push_back(rank_of(ranks, piece.substr(i, next[i] - i)));
}

// A candidate merge of part `left` with the part after it. Stale once either part changed;
// `version` tells.
struct Candidate {
  uint32_t rank;
  uint32_t left;
  uint32_t version;
  // Lowest rank first; on a tie the leftmost. Parts are numbered by their first byte, so the
  // part number orders by position.
  bool operator>(const Candidate &o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

void merge_by_heap(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out) {
  const auto n = static_cast<uint32_t>(piece.size());
  std::vector<uint32_t> &next = scratch.next, &prev = scratch.prev, &version = scratch.version;
  next.resize(n);
  prev.resize(n);
  version.assign(n, 0);
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

}  // namespace

void byte_pair_encode(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out) {
  if (piece.empty()) return;
  if (const auto whole = ranks.find(piece)) return out.push_back(*whole);  // most pieces
  if (piece.size() <= kScanLimit) return merge_by_scan(ranks, piece, out);
  merge_by_heap(ranks, piece, out);
}

}  // namespace llmhost::detail::tokens
