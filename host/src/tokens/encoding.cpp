#include "tokens/encoding.hpp"

#include "tokens/byte_pair_merge.hpp"
#include "tokens/model_encoding.hpp"

#include <stdexcept>

extern "C" {
extern const char llmhost_rank_file_cl100k_base_begin[], llmhost_rank_file_cl100k_base_end[];
extern const char llmhost_rank_file_o200k_base_begin[], llmhost_rank_file_o200k_base_end[];
}

namespace llmhost::detail::tokens {
namespace {

// tiktoken's own patterns (tiktoken_ext/openai_public.py). PCRE2's caseless contractions and
// Unicode \s are the same sets as the Rust regex tiktoken runs on.
constexpr std::string_view kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string_view embedded(const char *begin, const char *end) { return {begin, static_cast<size_t>(end - begin)}; }

// Per thread, so that counting allocates only while a thread meets its longest text yet.
struct Scratch {
  std::vector<std::string_view> pieces;
  std::vector<uint32_t> ids;
};
thread_local Scratch scratch;

}  // namespace

Encoding::Encoding(std::string_view name, std::string_view pattern, PiecePattern ascii, std::string_view rank_file)
    : name_(name), pattern_(pattern), pretokenizer_(pattern, ascii), ranks_(BpeRanks::parse(rank_file, name)) {}

const Encoding *Encoding::find(std::string_view name) {
  // Never destroyed: a thread still counting while the process exits must not see it go.
  if (name == "o200k_base") {
    static const Encoding *o200k =
        new Encoding("o200k_base", kO200kPattern, PiecePattern::kO200k,
                     embedded(llmhost_rank_file_o200k_base_begin, llmhost_rank_file_o200k_base_end));
    return o200k;
  }
  if (name == "cl100k_base") {
    static const Encoding *cl100k =
        new Encoding("cl100k_base", kCl100kPattern, PiecePattern::kCl100k,
                     embedded(llmhost_rank_file_cl100k_base_begin, llmhost_rank_file_cl100k_base_end));
    return cl100k;
  }
  return nullptr;
}

const Encoding &Encoding::for_model(std::string_view model, std::string_view fallback) {
  return *find(encoding_for_model(model, fallback));
}

const std::vector<std::string_view> &Encoding::names() {
  static const std::vector<std::string_view> names{"o200k_base", "cl100k_base"};
  return names;
}

std::vector<uint32_t> Encoding::encode(std::string_view text) const {
  std::vector<std::string_view> pieces;
  pretokenizer_.split(text, pieces);
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 3);
  for (std::string_view piece : pieces) byte_pair_encode(ranks_, piece, ids);
  return ids;
}

std::string Encoding::decode(std::span<const uint32_t> ids) const {
  std::string text;
  for (uint32_t id : ids) {
    const auto bytes = ranks_.bytes_of(id);
    if (!bytes) throw std::out_of_range(std::string(name_) + " has no token " + std::to_string(id));
    text += *bytes;
  }
  return text;
}

size_t Encoding::count(std::string_view text) const {
  scratch.pieces.clear();
  scratch.ids.clear();
  pretokenizer_.split(text, scratch.pieces);
  for (std::string_view piece : scratch.pieces) byte_pair_encode(ranks_, piece, scratch.ids);
  return scratch.ids.size();
}

}  // namespace llmhost::detail::tokens
