// The simdjson DOM parser the host's request parsing uses.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>

namespace llmhost::json {

// A parser for a text of `size` bytes: the calling thread's own, reused (a parser keeps its
// buffers, so a call pays for the parse only, not for allocating them), or for a text over
// 1 MiB a fresh one in `own`, so that one huge body does not leave a thread holding a huge
// buffer. What it returns stays valid until the next parse on this thread: do not nest.
inline simdjson::dom::parser &reusable_parser(size_t size, std::optional<simdjson::dom::parser> &own) {
  thread_local simdjson::dom::parser reused;
  return size <= (size_t{1} << 20) ? reused : own.emplace();
}

}  // namespace llmhost::json
