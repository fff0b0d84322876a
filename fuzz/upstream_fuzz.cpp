// The openai plugin's handling of what an upstream sends: a chat.completion body, an
// embeddings body, an error body, or an SSE stream of chunks ended by [DONE], as openai.cpp
// drives them. The only exception allowed out is llmh::Error (the plugin turns it into the
// call's error); every view handed to the builders is read in full.
// Input: [mode byte][body].
#include <simdjson.h>

#include <string>

#include <llmhost/json_text.hpp>

#include "common/sse.hpp"
#include "fuzz_input.hpp"
#include "fuzz_sinks.hpp"
#include "parse.hpp"
#include "stream_chunk.hpp"

namespace {

using llmhost_fuzz::embedding_builder;
using llmhost_fuzz::response_builder;
using llmhost_fuzz::stream_sink;
using llmhost_fuzz::touch;

constexpr std::string_view kUrl = "https://upstream.invalid/v1";

// openai.cpp's streaming loop, minus the HTTP.
void stream(simdjson::dom::parser &parser, std::string &scratch, std::string_view body, int budget) {
  llmh_stream_sink sink = stream_sink(&budget);
  llmh::Stream out(&sink);
  bool done = false;
  llmh_plugins::SseParser sse([&](const llmh_plugins::SseEvent &event) {
    if (done) return true;
    if (event.data == "[DONE]") return done = true, true;
    return openai_plugin::emit_chunk(parser, scratch, event.data, out, kUrl);
  });
  sse.feed(body);
  sse.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view body = in.all();
  simdjson::dom::parser parser;
  std::string scratch;
  try {
    switch (mode % 4) {
      case 0: {
        llmh_response_builder b = response_builder();
        openai_plugin::parse_completion(parser, scratch, body, llmh::Response(&b), kUrl);
        break;
      }
      case 1: {
        size_t inputs = mode / 4 % 8 + 1;
        llmh_embedding_builder b = embedding_builder(&inputs);
        openai_plugin::parse_embeddings(parser, body, llmh::Embeddings(&b), inputs, kUrl);
        break;
      }
      case 2: {
        const llmh::Error e = openai_plugin::upstream_error(parser, 400 + mode, body, kUrl);
        touch(std::string_view(e.what()));
        if (e.status() < 400 || e.status() > 599) llmhost_fuzz::fail("upstream: error status outside 4xx/5xx");
        break;
      }
      default: stream(parser, scratch, body, mode / 4 % 16 + 1);
    }
  } catch (const llmh::Error &e) {
    touch(std::string_view(e.what()));
  }
  return 0;
}
