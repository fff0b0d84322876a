#include "png.hpp"

#include <algorithm>

namespace echo_png {
namespace {

uint32_t crc32(std::string_view bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

uint32_t adler32(std::string_view bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char x : bytes) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

void put_u32(std::string &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void chunk(std::string &out, std::string_view type, std::string_view data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  std::string body(type);
  body += data;
  out += body;
  put_u32(out, crc32(body));
}

// The zlib stream of `raw` in stored (uncompressed) deflate blocks of at most 65535 bytes.
std::string zlib_stored(std::string_view raw) {
  std::string z = "\x78\x01";
  size_t at = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    const bool last = at + n == raw.size();
    z += static_cast<char>(last ? 1 : 0);
    z += static_cast<char>(n & 0xff);
    z += static_cast<char>(n >> 8);
    z += static_cast<char>(~n & 0xff);
    z += static_cast<char>((~n >> 8) & 0xff);
    z.append(raw.substr(at, n));
    at += n;
  } while (at < raw.size());
  put_u32(z, adler32(raw));
  return z;
}

}  // namespace

std::string encode_rgb(uint32_t width, uint32_t height, std::string_view rgb) {
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string header;
  put_u32(header, width);
  put_u32(header, height);
  header += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits per sample, RGB, deflate, no filter, no interlace
  chunk(out, "IHDR", header);
  std::string raw;
  const size_t row = size_t{width} * 3;
  for (uint32_t y = 0; y < height; ++y) {
    raw += '\0';  // filter: none
    raw.append(rgb.substr(y * row, row));
  }
  chunk(out, "IDAT", zlib_stored(raw));
  chunk(out, "IEND", {});
  return out;
}

}  // namespace echo_png
