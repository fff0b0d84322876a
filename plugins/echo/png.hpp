// A minimal PNG writer for echo's images: 8-bit RGB, uncompressed (zlib "stored" blocks), so
// that any image reader opens it and a test can check its pixels without an image library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace echo_png {

// The PNG file of a `width` x `height` RGB image whose pixels are `rgb` (3 bytes per pixel, row
// by row; its size must be width * height * 3).
std::string encode_rgb(uint32_t width, uint32_t height, std::string_view rgb);

}  // namespace echo_png
