#include "tokens/ascii_pieces.hpp"

#include <cstdint>

namespace llmhost::detail::tokens {
namespace {

// ASCII classes as PCRE2 sees them with UCP: \p{Lu}, \p{Ll}, \p{N}, \s; "other" is the rest.
enum Class : uint8_t { kOther, kUpper, kLower, kDigit, kSpace, kBreak /* \r or \n */, kWide /* >= 0x80 */ };

constexpr auto kClasses = [] {
  struct Table {
    Class c[256];
  } t{};
  for (int i = 0; i < 256; ++i) {
    Class c = kOther;
    if (i >= 'A' && i <= 'Z') c = kUpper;
    if (i >= 'a' && i <= 'z') c = kLower;
    if (i >= '0' && i <= '9') c = kDigit;
    if (i == '\t' || i == '\v' || i == '\f' || i == ' ') c = kSpace;
    if (i == '\r' || i == '\n') c = kBreak;
    if (i >= 0x80) c = kWide;
    t.c[i] = c;
  }
  return t;
}();

// Reads a text with the end as its own class, so that no caller checks bounds.
struct Text {
  std::string_view s;
  static constexpr int kEnd = -1;
  int cls(size_t i) const { return i < s.size() ? kClasses.c[static_cast<unsigned char>(s[i])] : kEnd; }
  char at(size_t i) const { return i < s.size() ? s[i] : '\0'; }
  // The end of the run of class `c` starting at i.
  size_t run(size_t i, Class c) const {
    while (cls(i) == c) ++i;
    return i;
  }
};

constexpr size_t kUndecided = 0;

bool is_space(int c) { return c == kSpace || c == kBreak; }
bool letter(int c) { return c == kUpper || c == kLower; }

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its length, 0 when none; kWide after the quote (ſ folds
// to s under Unicode case rules) sets `undecided`.
size_t contraction(const Text &t, size_t i, bool &undecided) {
  if (t.at(i) != '\'') return 0;
  if (t.cls(i + 1) == kWide) return undecided = true, 0;
  const char a = static_cast<char>(t.at(i + 1) | 0x20), b = static_cast<char>(t.at(i + 2) | 0x20);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// The whitespace alternatives, common to both patterns, at a whitespace byte i:
//   \s*[\r\n]+   up to the run's last \r or \n;
//   \s+(?!\S)    the run less its last byte when \S follows, the whole run at the end;
//   \s+          one byte (a lone space before \S).
size_t whitespace(const Text &t, size_t i) {
  size_t end = i, last_break = 0;
  bool has_break = false;
  for (int c; is_space(c = t.cls(end)); ++end)
    if (c == kBreak) has_break = true, last_break = end;
  if (t.cls(end) == kWide) return kUndecided;  // U+00A0, U+3000, ... would extend the run
  if (has_break) return last_break + 1 - i;
  if (t.cls(end) == Text::kEnd) return end - i;
  return end - i >= 2 ? end - i - 1 : 1;
}

// ` ?[^\s\p{L}\p{N}]+` then the trailing class (o200k: [\r\n/]*, cl100k: [\r\n]*) at i;
// 0 when it does not match.
size_t punctuation(const Text &t, size_t i, bool slash_trails, bool &undecided) {
  size_t j = i + (t.at(i) == ' ' ? 1 : 0);
  const size_t start = j;
  j = t.run(j, kOther);
  if (t.cls(j) == kWide) return undecided = true, 0;
  if (j == start) return 0;
  while (t.cls(j) == kBreak || (slash_trails && t.at(j) == '/')) ++j;
  return j - i;
}

// \p{N}{1,3} at a digit.
size_t digits(const Text &t, size_t i) {
  size_t j = i;
  while (j < i + 3 && t.cls(j) == kDigit) ++j;
  if (j < i + 3 && t.cls(j) == kWide) return kUndecided;  // another script's digit may follow
  return j - i;
}

// Where a word starts if one starts at i: [^\r\n\p{L}\p{N}]? before letters takes one
// byte that is neither a line break, a letter nor a digit.
size_t word_start(const Text &t, size_t i) {
  const int c = t.cls(i);
  return (c == kOther || c == kSpace) && letter(t.cls(i + 1)) ? i + 1 : i;
}

// The alternatives after the word ones, the same in both patterns but for what may trail
// punctuation: \p{N}{1,3}, then ` ?[^\s\p{L}\p{N}]+` and its trail, then whitespace.
size_t not_a_word(const Text &t, size_t i, bool slash_trails) {
  const int c = t.cls(i);
  if (c == kWide) return kUndecided;
  if (c == kDigit) return digits(t, i);
  bool undecided = false;
  if (c == kOther || t.at(i) == ' ') {
    if (const size_t n = punctuation(t, i, slash_trails, undecided)) return n;
    if (undecided) return kUndecided;
  }
  return whitespace(t, i);  // all that is left: kOther always matched punctuation
}

// [^\r\n\p{L}\p{N}]?[\p{Lu}...]*[\p{Ll}...]+C?  then  [^\r\n\p{L}\p{N}]?[\p{Lu}...]+[\p{Ll}...]*C?
// In ASCII the upper and lower classes are A-Z and a-z; marks and other letters are wide.
// Either form is the capitals then the lower-case letters that follow them: the first when
// there are lower-case letters, the second when there are none.
size_t o200k(const Text &t, size_t i) {
  const size_t word = word_start(t, i);
  if (!letter(t.cls(word))) return not_a_word(t, i, true);
  const size_t end = t.run(t.run(word, kUpper), kLower);
  if (t.cls(end) == kWide) return kUndecided;  // a mark or letter would go on
  bool undecided = false;
  const size_t tail = contraction(t, end, undecided);
  return undecided ? kUndecided : end + tail - i;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d), then [^\r\n\p{L}\p{N}]?\p{L}+, then the rest.
size_t cl100k(const Text &t, size_t i) {
  bool undecided = false;
  if (const size_t n = contraction(t, i, undecided)) return n;
  if (undecided) return kUndecided;
  const size_t word = word_start(t, i);
  if (!letter(t.cls(word))) return not_a_word(t, i, false);
  size_t end = word;
  while (letter(t.cls(end))) ++end;
  return t.cls(end) == kWide ? kUndecided : end - i;
}

}  // namespace

size_t ascii_piece(PiecePattern pattern, std::string_view text, size_t at) {
  const Text t{text};
  return pattern == PiecePattern::kO200k ? o200k(t, at) : cl100k(t, at);
}

}  // namespace llmhost::detail::tokens
