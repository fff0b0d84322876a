// Helpers shared by the fuzz targets: a reader that carves fields out of the fuzzer's bytes,
// and a way to make the sanitizers look at every byte of a borrowed view. Plain C++ (no
// libFuzzer header), so the targets also build with g++ for the regression replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "llmhost/provider.h"

namespace llmhost_fuzz {

// Consumes the input from the front. Every read succeeds; past the end it yields zeros/empty.
class Input {
 public:
  Input(const uint8_t *data, size_t size) : p_(reinterpret_cast<const char *>(data)), n_(size) {}

  bool empty() const { return n_ == 0; }
  size_t remaining() const { return n_; }

  uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return static_cast<uint8_t>(*p_++);
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | byte();
    return v;
  }
  uint64_t u64() { return static_cast<uint64_t>(u32()) << 32 | u32(); }

  // The bytes up to the next `sep` (consumed, not returned), or all that is left.
  std::string_view until(char sep) {
    const void *hit = n_ ? std::memchr(p_, sep, n_) : nullptr;
    const size_t len = hit ? static_cast<size_t>(static_cast<const char *>(hit) - p_) : n_;
    std::string_view out(p_, len);
    p_ += len;
    n_ -= len;
    if (hit) ++p_, --n_;
    return out;
  }
  std::string_view all() {
    std::string_view out(p_, n_);
    p_ += n_;
    n_ = 0;
    return out;
  }

 private:
  const char *p_;
  size_t n_;
};

// Reads every byte of a borrowed view, so that ASan reports a view that dangles or overruns.
inline volatile unsigned char touch_sink;
inline void touch(const void *ptr, size_t len) {
  const unsigned char *p = static_cast<const unsigned char *>(ptr);
  unsigned char acc = 0;
  for (size_t i = 0; i < len; ++i) acc = static_cast<unsigned char>(acc + p[i]);
  touch_sink = acc;
}
inline void touch(llmh_str s) {
  if (s.len && !s.ptr) std::abort();  // a NULL view must be empty
  if (s.len) touch(s.ptr, s.len);
}
inline void touch(std::string_view s) { touch(s.data(), s.size()); }

// A broken invariant: a crash the fuzzer reports, with a reason on stderr.
[[noreturn]] inline void fail(const char *what) {
  std::fputs("fuzz invariant broken: ", stderr);
  std::fputs(what, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

}  // namespace llmhost_fuzz
