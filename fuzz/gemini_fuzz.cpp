// The gemini plugin's translations, as gemini.cpp drives them: an OpenAI body into a
// generateContent body (which must be a JSON object whenever it is made), an answer, an error
// body, batchEmbedContents' answer, and a stream of events. The only exception allowed out is
// llmh::Error; every view handed to the builders is read in full.
// Input: [mode byte][bytes].
#include <simdjson.h>

#include <string>

#include "common/sse.hpp"
#include "fuzz_input.hpp"
#include "fuzz_sinks.hpp"
#include "generate_answer.hpp"
#include "generate_body.hpp"

namespace {

using llmhost_fuzz::touch;
constexpr std::string_view kUrl = "https://gemini.invalid/v1beta/models/m:generateContent";

// gemini.cpp's streaming loop, minus the HTTP.
void stream(simdjson::dom::parser &parser, std::string_view body, int budget) {
  llmh_stream_sink sink = llmhost_fuzz::stream_sink(&budget);
  llmh::Stream out(&sink);
  uint32_t tools = 0;
  llmh_plugins::SseParser sse(
      [&](const llmh_plugins::SseEvent &e) { return gemini_plugin::emit_event(parser, e.data, out, tools, kUrl); });
  sse.feed(body);
  sse.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view body = in.all();
  simdjson::dom::parser parser;
  try {
    switch (mode % 5) {
      case 0: {
        const std::string out = gemini_plugin::generate_body(parser, body);
        simdjson::dom::parser check;
        simdjson::dom::object obj;
        if (check.parse(out).get(obj)) llmhost_fuzz::fail("gemini: the generateContent body is not a JSON object");
        break;
      }
      case 1: {
        llmh_response_builder b = llmhost_fuzz::response_builder();
        gemini_plugin::parse_response(parser, body, llmh::Response(&b), kUrl);
        break;
      }
      case 2: {
        const llmh::Error e = gemini_plugin::upstream_error(parser, 400 + mode, body, kUrl);
        touch(std::string_view(e.what()));
        break;
      }
      case 3: {
        size_t inputs = mode / 5 % 8 + 1;
        llmh_embedding_builder b = llmhost_fuzz::embedding_builder(&inputs);
        gemini_plugin::parse_embeddings(parser, body, llmh::Embeddings(&b), inputs, kUrl);
        break;
      }
      default: stream(parser, body, mode / 5 % 16 + 1);
    }
  } catch (const llmh::Error &e) {
    touch(std::string_view(e.what()));
  }
  return 0;
}
