#include "tokens/bpe_ranks.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

namespace llmhost::detail::tokens {
namespace {

constexpr std::array<int8_t, 256> kBase64 = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}();

// Standard base64 with padding; false for anything else.
bool decode_base64(std::string_view in, std::string &out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  const size_t pad = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
  uint32_t acc = 0;
  for (size_t i = 0; i < in.size() - pad; ++i) {
    const int v = kBase64[static_cast<unsigned char>(in[i])];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
    }
  }
  if (pad == 2) out.push_back(static_cast<char>(acc >> 4));
  if (pad == 1) {
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  }
  return true;
}

}  // namespace

BpeRanks BpeRanks::parse(std::string_view text, std::string_view source) {
  BpeRanks r;
  struct Entry {
    uint32_t offset, rank;
    uint16_t size;
  };
  std::vector<Entry> entries;
  entries.reserve(text.size() / 16);
  r.arena_.reserve(text.size() / 2);
  std::string bytes;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    const auto fail = [&](const char *what) {
      throw std::runtime_error(std::string(source) + ":" + std::to_string(line_no) + ": " + what);
    };
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) fail("expected \"BASE64 RANK\"");
    if (!decode_base64(line.substr(0, space), bytes) || bytes.empty()) fail("the token is not base64");
    if (bytes.size() > kMaxToken) fail("the token is longer than 65535 bytes");
    uint32_t rank = 0;
    const std::string_view digits = line.substr(space + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), rank);
    if (ec != std::errc() || end != digits.data() + digits.size()) fail("the rank is not a number");
    entries.push_back({static_cast<uint32_t>(r.arena_.size()), rank, static_cast<uint16_t>(bytes.size())});
    r.arena_ += bytes;
  }
  size_t slots = 16;
  while (slots < entries.size() * 2) slots *= 2;
  r.slots_.assign(slots, Slot{});
  r.mask_ = slots - 1;
  for (const Entry &e : entries) {
    const std::string_view token(r.arena_.data() + e.offset, e.size);
    if (r.find(token))
      throw std::runtime_error(std::string(source) + ": the token of rank " + std::to_string(e.rank) +
                               " appears twice");
    const uint64_t head = head_of(token);
    size_t i = hash(head, token.size()) & r.mask_;
    while (r.slots_[i].size != 0) i = (i + 1) & r.mask_;
    r.slots_[i] = Slot{head, e.offset, e.rank, e.size};
    if (e.rank >= r.by_rank_.size()) r.by_rank_.resize(size_t{e.rank} + 1);
    if (r.by_rank_[e.rank].size != 0)
      throw std::runtime_error(std::string(source) + ": rank " + std::to_string(e.rank) + " is given to two tokens");
    r.by_rank_[e.rank] = Span{e.offset, e.size};
  }
  r.count_ = entries.size();
  return r;
}

}  // namespace llmhost::detail::tokens
