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
#include "parse.hpp"
#include "stream_chunk.hpp"

namespace {

using llmhost_fuzz::touch;

constexpr std::string_view kUrl = "https://upstream.invalid/v1";

void on_usage(const llmh_usage *u) {
  if (u && u->struct_size != sizeof(llmh_usage)) llmhost_fuzz::fail("upstream: usage without struct_size");
}

// What the plugin passes through must be what the host accepts: each text a JSON object, or
// empty (the host fails the call otherwise).
void on_upstream_members(const llmh_upstream_members *m) {
  if (!m) return;
  if (m->struct_size != sizeof(llmh_upstream_members)) llmhost_fuzz::fail("upstream: members without struct_size");
  for (llmh_str s : {m->top, m->choice, m->message}) {
    if (!s.len) continue;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(s.ptr, s.len).get(obj))
      llmhost_fuzz::fail("upstream: passed-through members are not a JSON object");
  }
}

llmh_response_builder response_builder() {
  llmh_response_builder b{};
  b.struct_size = sizeof b;
  b.append_content = [](const llmh_response_builder *, llmh_str s) { touch(s); };
  b.append_reasoning = [](const llmh_response_builder *, llmh_str s) { touch(s); };
  b.add_tool_call = [](const llmh_response_builder *, const llmh_tool_call *c) {
    touch(c->id), touch(c->type), touch(c->name), touch(c->arguments);
  };
  b.set_finish_reason = [](const llmh_response_builder *, llmh_str s) { touch(s); };
  b.set_usage = [](const llmh_response_builder *, const llmh_usage *u) { on_usage(u); };
  b.set_model = [](const llmh_response_builder *, llmh_str s) { touch(s); };
  b.set_raw_json = [](const llmh_response_builder *, llmh_str s) { touch(s); };
  b.cancelled = [](const llmh_response_builder *) { return 0; };
  b.set_upstream_members = [](const llmh_response_builder *, const llmh_upstream_members *m) {
    on_upstream_members(m);
  };
  return b;
}

llmh_embedding_builder embedding_builder(size_t *inputs) {
  llmh_embedding_builder b{};
  b.struct_size = sizeof b;
  b.host_data = inputs;
  b.set_embedding = [](const llmh_embedding_builder *self, size_t index, const float *v, size_t n) {
    if (index >= *static_cast<size_t *>(self->host_data)) llmhost_fuzz::fail("upstream: embedding index out of range");
    touch(v, n * sizeof(float));
  };
  b.set_usage = [](const llmh_embedding_builder *, const llmh_usage *u) { on_usage(u); };
  b.set_model = [](const llmh_embedding_builder *, llmh_str s) { touch(s); };
  b.cancelled = [](const llmh_embedding_builder *) { return 0; };
  return b;
}

llmh_stream_sink stream_sink(int *budget) {
  llmh_stream_sink s{};
  s.struct_size = sizeof s;
  s.host_data = budget;
  s.emit = [](const llmh_stream_sink *self, const llmh_chunk *c) {
    touch(c->content), touch(c->reasoning), touch(c->finish_reason), touch(c->raw_json);
    if (c->tool_call_count && !c->tool_calls) llmhost_fuzz::fail("upstream: tool_call_count without tool_calls");
    for (size_t i = 0; i < c->tool_call_count; ++i)
      touch(c->tool_calls[i].id), touch(c->tool_calls[i].name), touch(c->tool_calls[i].arguments);
    on_usage(c->usage);
    on_upstream_members(c->upstream_members);
    int &left = *static_cast<int *>(self->host_data);
    return --left <= 0 ? 1 : 0;  // the consumer goes away after `budget` chunks
  };
  s.cancelled = [](const llmh_stream_sink *) { return 0; };
  return s;
}

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
