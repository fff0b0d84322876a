// Byte-pair encoding of one pre-tokenized piece, exactly as tiktoken does it: start from single
// bytes and merge the adjacent pair whose joined bytes have the lowest rank (the leftmost one
// on a tie) until no adjacent pair is a known token.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokens/bpe_ranks.hpp"

namespace llmhost::detail::tokens {

// Appends the token ids of `piece` to `out`. Every single byte must be in `ranks` (true of
// every tiktoken encoding). O(n log n) in the piece's length, so that a long run of one
// character cannot stall a caller. Any thread.
void byte_pair_encode(const BpeRanks &ranks, std::string_view piece, std::vector<uint32_t> &out);

}  // namespace llmhost::detail::tokens
