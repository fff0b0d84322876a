// The worker channel's wire format (host/src/isolation): frames split at every byte, what each
// frame type carries round-tripped field by field, and every kind of malformed input refused
// (a worker is untrusted: the host must never read past a length, nor trust a count).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "isolation/frame.hpp"
#include "isolation/messages.hpp"
#include "support.hpp"

using namespace llmhost;
using namespace llmhost::isolation;

namespace {

Request full_request() {
  Request r;
  r.messages = {{"system", "be brief", "", "", {}},
                {"assistant", "", "bot", "", {{"call_1", "function", "lookup", R"({"q":"x"})"}}},
                {"tool", "42", "", "call_1", {}},
                {"user", std::string("nul\0byte", 8), "", "", {}}};
  r.params.temperature = 0.25;
  r.params.max_tokens = 7;
  r.params.seed = -3;
  r.params.stop = {"\n\n", "END"};
  r.params.user = "u-1";
  r.api_key = "sk-secret";
  r.api_base = "http://127.0.0.1:1/v1";
  r.timeout_s = 2.5;
  r.num_retries = 4;
  r.body_json = R"({"model":"x","messages":[]})";
  r.extra_json = R"({"mock_response":"y"})";
  r.body_json_checked = true;
  return r;
}

}  // namespace

TEST_CASE("frames come out whole and in order, whatever pieces the bytes arrive in") {
  std::string wire;
  append_frame(wire, FrameType::kCall, 1, "first");
  append_frame(wire, FrameType::kChunk, 0xfffffffffull, "");
  append_frame(wire, FrameType::kDone, 2, std::string(1000, 'x'));
  for (size_t step : {size_t{1}, size_t{3}, size_t{16}, size_t{17}, wire.size()}) {
    FrameReader reader;
    std::vector<std::pair<uint64_t, std::string>> got;
    for (size_t at = 0; at < wire.size(); at += step) {
      reader.feed(std::string_view(wire).substr(at, step));
      Frame f;
      while (reader.next(f) == FrameReader::Status::kFrame) got.emplace_back(f.call_id, std::string(f.payload));
    }
    REQUIRE(got.size() == 3);
    CHECK(got[0] == std::pair<uint64_t, std::string>{1, "first"});
    CHECK(got[1].first == 0xfffffffffull);
    CHECK(got[2].second == std::string(1000, 'x'));
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("an oversized, unknown or flagged frame stops the reader for good, saying why") {
  auto first_status = [](std::string wire, uint32_t cap = kDefaultMaxPayload) {
    FrameReader reader(cap);
    reader.feed(wire);
    Frame f;
    const auto status = reader.next(f);
    return std::pair(status, reader.error());
  };
  std::string big;
  append_frame(big, FrameType::kDone, 1, std::string(100, 'x'));
  auto [status, why] = first_status(big, 99);
  CHECK(status == FrameReader::Status::kBad);
  CHECK(why == "a frame announces 100 bytes, over the limit of 99");
  std::string unknown;
  append_frame(unknown, FrameType::kDone, 1, "");
  unknown[4] = 9;
  CHECK(first_status(unknown).second == "a frame has the unknown type 9");
  std::string flagged;
  append_frame(flagged, FrameType::kDone, 1, "");
  flagged[6] = 1;
  CHECK(first_status(flagged).second == "a frame has flags 1 set; none are defined");
  // Bad once, bad for ever: later bytes are not read.
  FrameReader reader(99);
  reader.feed(big);
  Frame f;
  CHECK(reader.next(f) == FrameReader::Status::kBad);
  std::string fine;
  append_frame(fine, FrameType::kCancel, 1, "");
  reader.feed(fine);
  CHECK(reader.next(f) == FrameReader::Status::kBad);
}

TEST_CASE("a call's request crosses whole: messages, tool calls, params, secrets, body") {
  const Request r = full_request();
  const std::string payload = test::call_payload(CallKind::kStream, "org/model", r);
  CallMessage call;
  REQUIRE(decode_call(payload, call));
  CHECK(call.kind == CallKind::kStream);
  CHECK(call.model == "org/model");
  const Request &d = call.request;
  REQUIRE(d.messages.size() == 4);
  CHECK(d.messages[1].name == "bot");
  REQUIRE(d.messages[1].tool_calls.size() == 1);
  CHECK(d.messages[1].tool_calls[0].arguments == R"({"q":"x"})");
  CHECK(d.messages[2].tool_call_id == "call_1");
  CHECK(d.messages[3].content == std::string("nul\0byte", 8));
  CHECK(d.params.temperature == 0.25);
  CHECK(!d.params.top_p);
  CHECK(d.params.max_tokens == 7);
  CHECK(d.params.seed == -3);
  CHECK(d.params.stop == std::vector<std::string>{"\n\n", "END"});
  CHECK(d.params.user == "u-1");
  CHECK(d.api_key == "sk-secret");
  CHECK(d.timeout_s == 2.5);
  CHECK(d.num_retries == 4);
  // The body as the plugin is handed it: extra keys merged in, and known to be valid.
  CHECK(d.body_json == R"({"model":"x","messages":[],"mock_response":"y"})");
  CHECK(d.extra_json.empty());
  CHECK(d.body_json_checked);
}

TEST_CASE("chunks, answers, errors, embeddings and the hello cross whole") {
  ToolCallDelta delta{2, "id", "fn", "{\"a\""};
  Chunk c;
  c.content = "hel";
  c.tool_calls = std::span<const ToolCallDelta>(&delta, 1);
  c.usage = Usage{1, 2, 3};
  c.upstream_members = {R"({"system_fingerprint":"f"})", "", "", true};
  std::string payload;
  encode_chunk(payload, c);
  ChunkView m;
  REQUIRE(decode_chunk(payload, m));
  const Chunk &v = m.chunk;
  CHECK(v.content == "hel");
  REQUIRE(v.tool_calls.size() == 1);
  CHECK(v.tool_calls[0].index == 2);
  CHECK(v.tool_calls[0].arguments == "{\"a\"");
  CHECK(v.usage->total_tokens == 3);
  CHECK(v.upstream_members.handed_over);
  CHECK(v.upstream_members.top == R"({"system_fingerprint":"f"})");

  Response r;
  r.model = "m";
  r.content = "hi";
  r.tool_calls = {{"c", "function", "f", "{}"}};
  r.finish_reason = "tool_calls";
  r.usage = {4, 5, 9};
  payload.clear();
  encode_done_response(payload, r);
  DoneMessage done;
  REQUIRE(decode_done(payload, done));
  CHECK(done.kind == DoneKind::kResponse);
  CHECK(done.response.content == "hi");
  CHECK(done.response.tool_calls[0].name == "f");
  CHECK(done.response.usage.total_tokens == 9);

  payload.clear();
  encode_done_error(payload, 429, "slow down");
  DoneMessage err;
  REQUIRE(decode_done(payload, err));
  CHECK(err.kind == DoneKind::kError);
  CHECK(err.status == 429);
  CHECK(err.message == "slow down");

  EmbeddingResponse e;
  e.data = {{0.5f, -1.0f}, {}};
  e.usage.prompt_tokens = 3;
  payload.clear();
  encode_done_embeddings(payload, e);
  DoneMessage emb;
  REQUIRE(decode_done(payload, emb));
  CHECK(emb.embeddings.data == e.data);

  ProviderInfo info;
  info.name = "echo";
  info.capabilities = kComplete | kStream;
  info.async_stream = true;
  info.models = {"a", "b"};
  payload.clear();
  encode_hello(payload, info, true);
  HelloMessage hello;
  REQUIRE(decode_hello(payload, hello));
  CHECK(hello.ok);
  CHECK(hello.reads_body_members);
  CHECK(hello.info.models == info.models);
  CHECK(hello.info.async_stream);
}

TEST_CASE("payloads that are short, long, or hold impossible counts, flags or statuses are refused") {
  const std::string payload = test::call_payload(CallKind::kComplete, "m", full_request());
  CallMessage call;
  for (size_t n = 0; n < payload.size(); ++n) CHECK_FALSE(decode_call(payload.substr(0, n), call));
  CHECK_FALSE(decode_call(payload + "x", call));  // bytes to spare
  std::string huge_count;
  Encoder(huge_count).u8(1).str("m").u32(0xffffffffu);  // four billion messages in a few bytes
  CHECK_FALSE(decode_call(huge_count, call));
  std::string bad_kind = payload;
  bad_kind[0] = 9;
  CHECK_FALSE(decode_call(bad_kind, call));
  std::string bad_status;
  Encoder(bad_status).u8(1).u32(200).str("not an error");
  DoneMessage done;
  CHECK_FALSE(decode_done(bad_status, done));
  std::string bad_flag;
  Encoder(bad_flag).u8(3);
  HelloMessage hello;
  CHECK_FALSE(decode_hello(bad_flag, hello));
  std::string log;
  encode_log(log, LLMH_LOG_WARN, "careful");
  int level = -1;
  std::string_view message;
  REQUIRE(decode_log(log, level, message));
  CHECK(level == LLMH_LOG_WARN);
  CHECK(message == "careful");
  std::string loud;
  encode_log(loud, 9, "no such level");
  CHECK_FALSE(decode_log(loud, level, message));
  std::string credit;
  encode_credit(credit, 0);
  uint32_t chunks;
  CHECK_FALSE(decode_credit(credit, chunks));  // a credit of nothing is no credit
}

TEST_CASE("the fuzz seeds are frames the decoders accept, so fuzzing starts from valid traffic") {
  size_t decoded = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(std::filesystem::path(LLMHOST_SOURCE_DIR) / "fuzz/corpus/frame")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    FrameReader reader(1 << 16);
    reader.feed(std::string_view(bytes).substr(1));  // the first byte is the fuzzer's piece size
    Frame f;
    while (reader.next(f) == FrameReader::Status::kFrame) {
      CallMessage call;
      ChunkView chunk;
      DoneMessage done;
      HelloMessage hello;
      const bool ok = f.type == FrameType::kCall    ? decode_call(f.payload, call)
                      : f.type == FrameType::kChunk ? decode_chunk(f.payload, chunk)
                      : f.type == FrameType::kDone  ? decode_done(f.payload, done)
                      : f.type == FrameType::kHello ? decode_hello(f.payload, hello)
                                                    : false;
      CHECK_MESSAGE(ok, entry.path().filename().string());
      decoded += ok;
    }
  }
  CHECK(decoded == 9);  // every frame of every seed but the oversized one
}
