// The tokenizer (host/src/tokens) on any bytes, under both encodings:
// - the hand-written ASCII evaluation of the pre-tokenizer pattern finds exactly the pieces
//   PCRE2 alone finds;
// - text that is not UTF-8 is refused by encode and count alike;
// - any other text encodes to ids that decode to exactly its bytes, and count agrees.
// A loop or a quadratic blow-up trips libFuzzer's timeout.
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "tokens/encoding.hpp"
#include "tokens/pretokenizer.hpp"

namespace {

using llmhost::detail::tokens::Encoding;
using llmhost::detail::tokens::PiecePattern;
using llmhost::detail::tokens::Pretokenizer;

// Each encoding's pattern, split by PCRE2 alone and with the ASCII path (what Encoding uses).
struct Splitters {
  Pretokenizer regex_only, with_ascii;
  Splitters(std::string_view name, PiecePattern ascii)
      : regex_only(Encoding::find(name)->pattern()), with_ascii(Encoding::find(name)->pattern(), ascii) {}
};

// `split`'s pieces, or an empty list with `refused` set when it throws for bad UTF-8.
std::vector<std::string_view> pieces(const Pretokenizer &p, std::string_view text, bool &refused) {
  std::vector<std::string_view> out;
  refused = false;
  try {
    p.split(text, out);
  } catch (const std::invalid_argument &) {
    refused = true;
    out.clear();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  for (std::string_view name : Encoding::names()) {
    const Encoding &e = *Encoding::find(name);
    static const Splitters o200k("o200k_base", PiecePattern::kO200k), cl100k("cl100k_base", PiecePattern::kCl100k);
    const Splitters &split = name == "o200k_base" ? o200k : cl100k;
    const Pretokenizer &regex_only = split.regex_only;
    std::vector<uint32_t> ids;
    try {
      ids = e.encode(text);
    } catch (const std::invalid_argument &) {
      bool refused = false;
      pieces(regex_only, text, refused);
      if (!refused) llmhost_fuzz::fail("tokens: encode refused a text PCRE2 accepts");
      try {
        e.count(text);
      } catch (const std::invalid_argument &) {
        continue;  // refused by all, as it should be
      }
      llmhost_fuzz::fail("tokens: count accepted a text encode refused");
    }
    bool refused = false;
    const std::vector<std::string_view> by_regex = pieces(regex_only, text, refused);
    if (refused) llmhost_fuzz::fail("tokens: PCRE2 refused a text encode accepted");
    const std::vector<std::string_view> mixed = pieces(split.with_ascii, text, refused);
    if (mixed.size() != by_regex.size()) llmhost_fuzz::fail("tokens: the ASCII path split differently from PCRE2");
    for (size_t i = 0; i < mixed.size(); ++i)
      if (mixed[i].data() != by_regex[i].data() || mixed[i].size() != by_regex[i].size())
        llmhost_fuzz::fail("tokens: the ASCII path split differently from PCRE2");
    if (e.decode(ids) != text) llmhost_fuzz::fail("tokens: the ids do not decode to the text");
    if (e.count(text) != ids.size()) llmhost_fuzz::fail("tokens: count and encode disagree");
  }
  return 0;
}
