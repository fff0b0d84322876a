// The anthropic plugin's translations, as anthropic.cpp drives them: an OpenAI body into a
// Messages body (which must be a JSON object whenever it is made), a Message body, an error
// body, and a typed event stream. The only exception allowed out is llmh::Error; every view
// handed to the builders is read in full.
// Input: [mode byte][bytes].
#include <simdjson.h>

#include <string>

#include "common/sse.hpp"
#include "fuzz_input.hpp"
#include "fuzz_sinks.hpp"
#include "message_events.hpp"
#include "messages_answer.hpp"
#include "messages_body.hpp"

namespace {

using llmhost_fuzz::touch;
constexpr std::string_view kUrl = "https://api.anthropic.invalid/v1/messages";

// anthropic.cpp's streaming loop, minus the HTTP.
void stream(simdjson::dom::parser &parser, std::string_view body, int budget) {
  llmh_stream_sink sink = llmhost_fuzz::stream_sink(&budget);
  llmh::Stream out(&sink);
  anthropic_plugin::MessageEvents events(out, std::string(kUrl));
  llmh_plugins::SseParser sse([&](const llmh_plugins::SseEvent &e) { return events.event(parser, e.data); });
  sse.feed(body);
  sse.finish();
  if (!sse.stopped()) events.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view body = in.all();
  simdjson::dom::parser parser;
  try {
    switch (mode % 4) {
      case 0: {
        const std::string out = anthropic_plugin::messages_body(parser, body, "claude", mode & 4);
        simdjson::dom::parser check;
        simdjson::dom::object obj;
        if (check.parse(out).get(obj)) llmhost_fuzz::fail("anthropic: the Messages body is not a JSON object");
        break;
      }
      case 1: {
        llmh_response_builder b = llmhost_fuzz::response_builder();
        anthropic_plugin::parse_message(parser, body, llmh::Response(&b), kUrl);
        break;
      }
      case 2: {
        const llmh::Error e = anthropic_plugin::upstream_error(parser, 400 + mode, body, kUrl);
        touch(std::string_view(e.what()));
        break;
      }
      default: stream(parser, body, mode / 4 % 16 + 1);
    }
  } catch (const llmh::Error &e) {
    touch(std::string_view(e.what()));
  }
  return 0;
}
