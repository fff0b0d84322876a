// The tokenizer (host/src/tokens) on any bytes, under both encodings: text that is not UTF-8 is
// refused by encode and count alike; any other text encodes to ids that decode to exactly its
// bytes, and count agrees with encode. A loop or a quadratic blow-up trips libFuzzer's timeout.
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "tokens/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using llmhost::detail::tokens::Encoding;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  for (std::string_view name : Encoding::names()) {
    const Encoding &e = *Encoding::find(name);
    std::vector<uint32_t> ids;
    try {
      ids = e.encode(text);
    } catch (const std::invalid_argument &) {
      try {
        e.count(text);
      } catch (const std::invalid_argument &) {
        continue;  // refused by both, as it should be
      }
      llmhost_fuzz::fail("tokens: count accepted a text encode refused");
    }
    if (e.decode(ids) != text) llmhost_fuzz::fail("tokens: the ids do not decode to the text");
    if (e.count(text) != ids.size()) llmhost_fuzz::fail("tokens: count and encode disagree");
  }
  return 0;
}
