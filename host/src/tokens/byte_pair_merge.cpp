#include "tokens/byte_pair_merge.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace llmhost::detail::tokens {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Up to this many bytes a piece is merged by rescanning (tiktoken's own way, quadratic but
// with no heap); longer ones with a heap, O(n log n). Both pick the same merge every time: the
// lowest rank, the leftmost on a tie. 16 measured best (bench/tokens/run.sh): English words
// merge faster by rescan, CJK runs of 20 to 60 bytes 30% faster by heap than by rescan.
constexpr size_t kScanLimit = 16;

uint32_t rank_of(const BpeRanks &ranks, std::string_view bytes) {
  const auto r = ranks.find(bytes);
  if (!r) throw std::logic_error("a tiktoken encoding without a rank for a single byte");
  return *r;
}

// Reused per thread: a piece that needs merging allocates nothing once a thread has seen one
// as long.
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

struct Scratch {
  std::vector<uint32_t> next, prev, version, pair_rank;
  std::vector<Candidate> heap;
};
thread_local Scratch scratch;

void merge_by_scan(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out) {
  const auto n = static_cast<uint32_t>(piece.size());
  // Parts in order, as two flat arrays (a scan over them is what this spends its time on):
  // start[i] is part i's first byte, with a last entry n past the end; rank[i] the rank of
  // part i joined with part i + 1, kNone when that is no token.
  std::vector<uint32_t> &start = scratch.next, &rank = scratch.pair_rank;
  start.resize(n + 1);
  rank.resize(n + 1);
  for (uint32_t i = 0; i <= n; ++i) start[i] = i;
  size_t parts = n + 1;
  // The rank of parts i and i + 1 joined once part i + 1 has absorbed part i + 2 (tiktoken's
  // get_rank before the removal).
  const auto joined = [&](size_t i, size_t skip) -> uint32_t {
    if (i + 2 + skip >= parts) return kNone;
    const auto r = ranks.find(piece.substr(start[i], start[i + 2 + skip] - start[i]));
    return r ? *r : kNone;
  };
  for (size_t i = 0; i + 1 < parts; ++i) rank[i] = joined(i, 0);
  rank[parts - 1] = kNone;
  for (;;) {
    size_t at = 0;
    for (size_t i = 1; i + 1 < parts; ++i)
      if (rank[i] < rank[at]) at = i;
    if (parts < 2 || rank[at] == kNone) break;
    if (at > 0) rank[at - 1] = joined(at - 1, 1);
    rank[at] = joined(at, 1);
    std::copy(start.begin() + at + 2, start.begin() + parts, start.begin() + at + 1);
    std::copy(rank.begin() + at + 2, rank.begin() + parts, rank.begin() + at + 1);
    --parts;
  }
  for (size_t i = 0; i + 1 < parts; ++i) out.push_back(rank_of(ranks, piece.substr(start[i], start[i + 1] - start[i])));
}

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
  std::vector<Candidate> &heap = scratch.heap;  // a min-heap by operator>
  heap.clear();
  const auto offer = [&](uint32_t left) {
    const uint32_t right = next[left];
    if (right >= n) return;
    if (const auto r = ranks.find(piece.substr(left, next[right] - left))) {
      heap.push_back({*r, left, version[left]});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (uint32_t i = 0; i + 1 < n; ++i) offer(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const Candidate c = heap.back();
    heap.pop_back();
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
