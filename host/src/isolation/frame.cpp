#include "isolation/frame.hpp"

#include <cstring>

namespace llmhost::isolation {
namespace {

void put_le(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

void append_frame(std::string &out, FrameType type, uint64_t call_id, std::string_view payload) {
  out.reserve(out.size() + kHeaderSize + payload.size());
  put_le(out, payload.size(), 4);
  put_le(out, static_cast<uint16_t>(type), 2);
  put_le(out, 0, 2);
  put_le(out, call_id, 8);
  out.append(payload);
}

void FrameReader::feed(std::string_view bytes) {
  if (!error_.empty()) return;
  // Compact once the consumed prefix dominates, so a long-lived channel does not grow.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

FrameReader::Status FrameReader::bad(std::string why) {
  error_ = std::move(why);
  buf_.clear();
  pos_ = 0;
  return Status::kBad;
}

FrameReader::Status FrameReader::next(Frame &frame) {
  if (!error_.empty()) return Status::kBad;
  if (buf_.size() - pos_ < kHeaderSize) return Status::kNeedMore;
  const char *h = buf_.data() + pos_;
  const uint64_t size = get_le(h, 4);
  const uint64_t type = get_le(h + 4, 2);
  const uint64_t flags = get_le(h + 6, 2);
  if (size > max_payload_)
    return bad("a frame announces " + std::to_string(size) + " bytes, over the limit of " +
               std::to_string(max_payload_));
  if (type == 0 || type > kMaxFrameType) return bad("a frame has the unknown type " + std::to_string(type));
  if (flags != 0) return bad("a frame has flags " + std::to_string(flags) + " set; none are defined");
  if (buf_.size() - pos_ - kHeaderSize < size) return Status::kNeedMore;
  frame.type = static_cast<FrameType>(type);
  frame.call_id = get_le(h + 8, 8);
  frame.payload = std::string_view(h + kHeaderSize, size);
  pos_ += kHeaderSize + size;
  return Status::kFrame;
}

Encoder &Encoder::u8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}
Encoder &Encoder::u32(uint32_t v) {
  put_le(out_, v, 4);
  return *this;
}
Encoder &Encoder::u64(uint64_t v) {
  put_le(out_, v, 8);
  return *this;
}
Encoder &Encoder::f64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return u64(bits);
}
Encoder &Encoder::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  out_.append(s);
  return *this;
}

bool Decoder::take(size_t n, std::string_view &bytes) {
  if (!ok_ || p_.size() < n) {
    ok_ = false;
    p_ = {};
    bytes = {};
    return false;
  }
  bytes = p_.substr(0, n);
  p_.remove_prefix(n);
  return true;
}

uint8_t Decoder::u8() {
  std::string_view b;
  return take(1, b) ? static_cast<uint8_t>(b[0]) : 0;
}
uint32_t Decoder::u32() {
  std::string_view b;
  return take(4, b) ? static_cast<uint32_t>(get_le(b.data(), 4)) : 0;
}
uint64_t Decoder::u64() {
  std::string_view b;
  return take(8, b) ? get_le(b.data(), 8) : 0;
}
double Decoder::f64() {
  const uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
std::string_view Decoder::str() {
  const uint32_t n = u32();
  std::string_view b;
  take(n, b);
  return b;
}
uint32_t Decoder::count(size_t min_item_size) {
  const uint32_t n = u32();
  if (ok_ && min_item_size > 0 && n > p_.size() / min_item_size) {
    ok_ = false;
    p_ = {};
    return 0;
  }
  return ok_ ? n : 0;
}

}  // namespace llmhost::isolation
