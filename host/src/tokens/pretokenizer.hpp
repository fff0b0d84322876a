// Splits text into the pieces a tiktoken encoding byte-pair-encodes one by one, with the
// encoding's own regular expression. The patterns use lookahead and Unicode classes, so this is
// PCRE2 (JIT-compiled), not std::regex.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tokens/ascii_pieces.hpp"

namespace llmhost::detail::tokens {

class Pretokenizer {
 public:
  // Compiles `pattern` (UTF-8, Unicode properties). Throws std::runtime_error with PCRE2's
  // message and the offset in the pattern when it does not compile. `ascii`: the hand-written
  // evaluation of that same pattern, used wherever the text is ASCII; none: PCRE2 everywhere.
  explicit Pretokenizer(std::string_view pattern, std::optional<PiecePattern> ascii = std::nullopt);
  ~Pretokenizer();
  Pretokenizer(const Pretokenizer &) = delete;
  Pretokenizer &operator=(const Pretokenizer &) = delete;

  // Appends to `pieces` every match, left to right (views into `text`). Throws
  // std::invalid_argument naming the byte offset when `text` is not valid UTF-8. Any thread:
  // the compiled pattern is shared, match state is per call.
  void split(std::string_view text, std::vector<std::string_view> &pieces) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
  std::optional<PiecePattern> ascii_;
};

}  // namespace llmhost::detail::tokens
