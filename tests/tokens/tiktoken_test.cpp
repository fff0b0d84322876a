// llmhost's tokenizer against js-tiktoken: the same token ids for every text of the corpus
// (prose, code, CJK, emoji and ZWJ sequences, whitespace runs, scripts with combining marks)
// and for generated texts, under o200k_base and cl100k_base. Run through
// tiktoken_reference/run.sh, which writes the reference and names it in
// LLMHOST_TIKTOKEN_REFERENCE.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tokens/encoding.hpp"

using llmhost::detail::tokens::Encoding;

namespace {

std::string ids_text(const std::vector<uint32_t> &ids) {
  std::string s;
  for (uint32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return "[" + s + "]";
}

}  // namespace

TEST_CASE("every text gets the ids js-tiktoken gives it, under both encodings") {
  const char *path = std::getenv("LLMHOST_TIKTOKEN_REFERENCE");
  REQUIRE_MESSAGE(path, "run through tests/tokens/tiktoken_reference/run.sh, which writes the reference");
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  REQUIRE(!parser.load(path).get(entries));
  CHECK(entries.size() > 300);  // the corpus and the generated texts
  size_t compared = 0;
  for (simdjson::dom::object entry : entries) {
    const std::string text{std::string_view(entry["text"])};
    for (std::string_view name : Encoding::names()) {
      std::vector<uint32_t> expected;
      for (int64_t id : simdjson::dom::array(entry[name])) expected.push_back(static_cast<uint32_t>(id));
      const Encoding &encoding = *Encoding::find(name);
      const std::vector<uint32_t> got = encoding.encode(text);
      CAPTURE(name);
      CAPTURE(text);
      CHECK(ids_text(got) == ids_text(expected));
      CHECK(encoding.count(text) == expected.size());
      CHECK(encoding.decode(expected) == text);
      ++compared;
    }
  }
  MESSAGE(compared << " texts x encodings compared");
}
