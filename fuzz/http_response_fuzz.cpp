// The Asio client's response parsing (host/src/http/response_reader.hpp): whatever an upstream
// sends, fed whole or in random pieces (as reads split it), must give the same outcome and, for
// a well-formed answer, the same status, headers, body and lines; no line holds a line break. Input: [flags
// byte][split-seed byte][the bytes the upstream sends, then its close].
#include <optional>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "http/body_sink.hpp"
#include "http/response_reader.hpp"

namespace {

using llmhost::detail::http::BodySink;
using llmhost::detail::http::ResponseReader;
using llmhost::detail::http::TransferResult;
using Parsed = ResponseReader::Parsed;

struct Run {
  Parsed outcome = Parsed::kNeedMore;
  TransferResult out;
  std::vector<std::string> lines;
  size_t stop_after = 0;  // on_line says stop at this line (0: never)
  // A malformed answer is a 502 whatever came before the flaw; where the parser notices it (and
  // so what it passed on by then) may depend on how the bytes were split.
  bool operator==(const Run &o) const {
    if (outcome == Parsed::kMalformed || o.outcome == Parsed::kMalformed) return outcome == o.outcome;
    return outcome == o.outcome && out.status == o.out.status && out.headers == o.out.headers &&
           out.body == o.out.body && lines == o.lines && out.delivered == o.out.delivered &&
           out.consumer_stop == o.out.consumer_stop;
  }
};

int on_line(void *user, llmh_str line) {
  Run &run = *static_cast<Run *>(user);
  llmhost_fuzz::touch(line);
  const std::string_view s(line.ptr, line.len);
  if (s.find('\n') != std::string_view::npos) llmhost_fuzz::fail("http_response: a line holds LF");
  run.lines.emplace_back(s);
  return run.stop_after != 0 && run.lines.size() >= run.stop_after;
}

// Feeds `bytes` in pieces of at most `max_piece` (0: whole), then the close, as the exchange does.
Run parse(std::string_view bytes, uint8_t flags, uint32_t seed, size_t max_piece) {
  Run run;
  run.stop_after = flags >> 4;
  BodySink body;
  body.begin((flags & 1) ? &on_line : nullptr, &run, run.out);
  std::optional<ResponseReader> reader;
  reader.emplace(run.out, body, (flags & 2) != 0);
  boost::beast::flat_buffer buffer;
  boost::beast::error_code ec;
  uint32_t x = seed * 2654435761u + 1;
  while (!bytes.empty()) {
    x = x * 1103515245u + 12345u;
    const size_t n = max_piece == 0 ? bytes.size() : std::min<size_t>(bytes.size(), (x >> 16) % max_piece + 1);
    const auto room = buffer.prepare(n);
    std::memcpy(room.data(), bytes.data(), n);
    buffer.commit(n);
    bytes.remove_prefix(n);
    run.outcome = ResponseReader::feed(reader, buffer, ec);
    if (run.outcome != Parsed::kNeedMore) break;
  }
  if (run.outcome == Parsed::kNeedMore && reader->got_some()) run.outcome = reader->closed(ec);
  if (run.outcome == Parsed::kDone && !run.out.consumer_stop) body.end();
  for (const auto &[name, value] : run.out.headers) {
    if (name.find_first_of("\r\n:") != std::string::npos) llmhost_fuzz::fail("http_response: a bad header name");
    if (value.find_first_of("\r\n") != std::string::npos)
      llmhost_fuzz::fail("http_response: a header value holds CRLF");
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t flags = in.byte();
  const uint32_t seed = in.byte();
  const std::string_view bytes = in.all();
  const Run whole = parse(bytes, flags, seed, 0);
  if (!(parse(bytes, flags, seed, 1) == whole))
    llmhost_fuzz::fail("http_response: byte-by-byte feeding changed the result");
  if (!(parse(bytes, flags, seed, seed % 61 + 2) == whole))
    llmhost_fuzz::fail("http_response: split feeding changed the result");
  return 0;
}
