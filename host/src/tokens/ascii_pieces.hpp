// The pre-tokenizer patterns of o200k_base and cl100k_base, hand-evaluated for ASCII text: the
// same pieces PCRE2 finds (fuzz/tokens_fuzz.cpp checks both on every input), several times
// faster. A piece whose bounds depend on a byte past ASCII is left to PCRE2.
#pragma once

#include <cstddef>
#include <string_view>

namespace llmhost::detail::tokens {

enum class PiecePattern { kO200k, kCl100k };

// The length of the piece the pattern matches at `at` (< text.size()), or 0 when telling it
// needs a non-ASCII byte of `text`: then PCRE2 decides.
size_t ascii_piece(PiecePattern pattern, std::string_view text, size_t at);

}  // namespace llmhost::detail::tokens
