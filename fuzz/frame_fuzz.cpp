// The worker channel as the host reads it (host/src/isolation): a worker is untrusted, so any
// bytes, in any pieces, must end in frames or in a refusal, never in a crash, a read out of
// bounds or an allocation sized by the worker. A payload that decodes must re-encode to the same
// bytes (the decoders accept exactly what the encoders write). Input: [piece size][bytes].
#include <string>

#include <llmhost/views.hpp>

#include "dispatch/abi_call.hpp"
#include "fuzz_input.hpp"
#include "isolation/frame.hpp"
#include "isolation/messages.hpp"

namespace {

using namespace llmhost::isolation;
using llmhost_fuzz::fail;

void same(const std::string &again, std::string_view payload, const char *what) {
  if (again != payload) fail(what);
}

void check_payload(const Frame &f) {
  std::string again;
  switch (f.type) {
    case FrameType::kCall: {
      CallMessage call;
      if (!decode_call(f.payload, call)) return;
      const llmhost::Request &r = call.request;
      const llmhost::detail::CRequest c(r, call.model, {r.body_json, r.body_json_checked}, false);
      const llmh_rerank_request rerank{sizeof(llmh_rerank_request), c.get(), llmh::str(call.query), call.top_n};
      const llmhost::detail::CImageRequest image(call.image, c.get());
      encode_call(again, call.kind, *c.get(), r.body_json_checked, {.rerank = &rerank, .image = image.get()});
      return same(again, f.payload, "frame: a call does not re-encode to its bytes");
    }
    case FrameType::kChunk: {
      ChunkView chunk;
      if (!decode_chunk(f.payload, chunk)) return;
      encode_chunk(again, chunk.chunk);
      return same(again, f.payload, "frame: a chunk does not re-encode to its bytes");
    }
    case FrameType::kDone: {
      DoneMessage done;
      if (!decode_done(f.payload, done)) return;
      switch (done.kind) {
        case DoneKind::kError: encode_done_error(again, done.status, done.message); break;
        case DoneKind::kResponse: encode_done_response(again, done.response); break;
        case DoneKind::kEmbeddings: encode_done_embeddings(again, done.embeddings); break;
        case DoneKind::kStream: encode_done_stream(again); break;
        case DoneKind::kRanking: encode_done_ranking(again, done.ranking); break;
        case DoneKind::kImages: encode_done_images(again, done.images); break;
      }
      return same(again, f.payload, "frame: a done does not re-encode to its bytes");
    }
    case FrameType::kHello: {
      HelloMessage hello;
      if (!decode_hello(f.payload, hello)) return;
      if (hello.needs_config)
        encode_config_request(again, hello.info.name);
      else if (hello.ok)
        encode_hello(again, hello.info, hello.reads_body_members);
      else
        encode_hello_error(again, hello.error_kind, hello.error_message);
      return same(again, f.payload, "frame: a hello does not re-encode to its bytes");
    }
    case FrameType::kLog: {
      int level;
      std::string_view message;
      if (!decode_log(f.payload, level, message)) return;
      encode_log(again, level, message);
      return same(again, f.payload, "frame: a log line does not re-encode to its bytes");
    }
    case FrameType::kCredit: {
      uint32_t chunks;
      if (!decode_credit(f.payload, chunks)) return;
      encode_credit(again, chunks);
      return same(again, f.payload, "frame: a credit does not re-encode to its bytes");
    }
    default: return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const size_t piece = in.byte() % 64 + 1;
  const std::string_view bytes = in.all();
  FrameReader reader(1 << 16);
  for (size_t at = 0; at < bytes.size(); at += piece) {
    reader.feed(bytes.substr(at, piece));
    Frame f;
    FrameReader::Status s;
    while ((s = reader.next(f)) == FrameReader::Status::kFrame) check_payload(f);
    if (s == FrameReader::Status::kBad) {
      if (reader.error().empty()) fail("frame: refused without saying why");
      return 0;
    }
  }
  return 0;
}
