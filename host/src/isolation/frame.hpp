// The private channel between the host and an isolated plugin's worker process: length-prefixed
// binary frames, each carrying a call id, over a socketpair. Not JSON: requests and answers are
// mostly strings, copied as length + bytes.
//
// A worker runs code we do not trust, so the host reads what it sends as hostile input: every
// length is checked against what is left and against a cap, and the first malformed frame
// stops the reader for good (FrameReader::Status::kBad), so that the supervisor kills the worker
// rather than guess. Nothing here does I/O or allocates beyond the buffers it is handed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmhost::isolation {

enum class FrameType : uint16_t {
  kHello = 1,   // call 0; host -> worker first: the plugin's config; worker -> host: the plugin
                //   it loaded (or why it could not)
  kCall = 2,    // host -> worker: start a call (complete, stream, embed) with its request
  kChunk = 3,   // worker -> host: one chunk of a stream
  kDone = 4,    // worker -> host: a call's end, its answer or its error
  kCancel = 5,  // host -> worker: the caller has gone; the plugin's cancelled() turns true
  kCredit = 6,  // host -> worker: a stream may send this many more chunks (flow control)
  kLog = 7,     // worker -> host: a log line of the plugin
};
constexpr uint16_t kMaxFrameType = 7;

// Flow control: a stream may have this many chunks sent and not yet taken by its consumer; the
// host grants more with kCredit frames as the consumer takes them. So a slow client holds up
// its plugin, and neither process buffers more than this per stream.
constexpr uint32_t kStreamWindow = 256;

// Header: payload size (u32), type (u16), flags (u16, zero today), call id (u64); little endian.
constexpr size_t kHeaderSize = 16;
// The largest payload either side accepts unless told otherwise: an answer or a request body is
// far below it, and a worker announcing more is broken or hostile.
constexpr uint32_t kDefaultMaxPayload = 64u << 20;

struct Frame {
  FrameType type;
  uint64_t call_id;
  std::string_view payload;  // valid until the reader is fed or asked for the next frame
};

// Appends one frame to `out`; `payload` is what an Encoder wrote.
void append_frame(std::string &out, FrameType type, uint64_t call_id, std::string_view payload);

// Splits the bytes of a stream into frames, whatever pieces they arrive in. Not thread-safe.
class FrameReader {
 public:
  enum class Status { kFrame, kNeedMore, kBad };
  explicit FrameReader(uint32_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}

  // Adds bytes read from the channel.
  void feed(std::string_view bytes);
  // The next whole frame, if there is one. After kBad the reader stays bad; error() says why.
  Status next(Frame &frame);
  const std::string &error() const { return error_; }
  // Bytes fed but not yet returned in a frame.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Status bad(std::string why);

  std::string buf_;
  size_t pos_ = 0;  // start of the first byte not yet returned
  uint32_t max_payload_;
  std::string error_;
};

// Writes payload fields: fixed-width little-endian integers, doubles as their bits, strings as
// a u32 length and the bytes.
class Encoder {
 public:
  explicit Encoder(std::string &out) : out_(out) {}
  Encoder &u8(uint8_t v);
  Encoder &u32(uint32_t v);
  Encoder &u64(uint64_t v);
  Encoder &i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  Encoder &f64(double v);
  Encoder &str(std::string_view s);

 private:
  std::string &out_;
};

// Reads what an Encoder wrote. A read past the end, or a length longer than what is left, fails
// the decoder for good: every later read returns zero or empty, and ok() is false. So a caller
// reads all its fields and checks ok() once, at the end.
class Decoder {
 public:
  explicit Decoder(std::string_view payload) : p_(payload) {}
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  std::string_view str();
  // A count of items about to be read, each at least `min_item_size` bytes: fails (and gives 0)
  // when what is left cannot hold that many, so no caller reserves memory for a made-up count.
  uint32_t count(size_t min_item_size);
  bool ok() const { return ok_; }
  // Whether every byte was read: a payload with bytes to spare is malformed too.
  bool done() const { return ok_ && p_.empty(); }

 private:
  bool take(size_t n, std::string_view &bytes);

  std::string_view p_;
  bool ok_ = true;
};

}  // namespace llmhost::isolation
