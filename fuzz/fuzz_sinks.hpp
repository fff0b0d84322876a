// What a relay plugin's parsers hand the host, checked as the host would: builders and a stream
// sink whose every view is read in full (so the sanitizers see a bad one), whose usage and
// passed-through members must be well formed, and a consumer that goes away after `budget`
// chunks. Shared by the fuzz targets of the bundled providers' decoders.
#pragma once

#include <simdjson.h>

#include <cstddef>

#include "fuzz_input.hpp"
#include "llmhost/provider.h"

namespace llmhost_fuzz {

inline void on_usage(const llmh_usage *u) {
  if (u && u->struct_size != sizeof(llmh_usage)) fail("plugin: usage without struct_size");
}

// What the plugin passes through must be what the host accepts: each text a JSON object, or
// empty (the host fails the call otherwise).
inline void on_upstream_members(const llmh_upstream_members *m) {
  if (!m) return;
  if (m->struct_size != sizeof(llmh_upstream_members)) fail("plugin: members without struct_size");
  for (llmh_str s : {m->top, m->choice, m->message}) {
    if (!s.len) continue;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(s.ptr, s.len).get(obj)) fail("plugin: passed-through members are not a JSON object");
  }
}

inline llmh_response_builder response_builder() {
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

inline llmh_embedding_builder embedding_builder(size_t *inputs) {
  llmh_embedding_builder b{};
  b.struct_size = sizeof b;
  b.host_data = inputs;
  b.set_embedding = [](const llmh_embedding_builder *self, size_t index, const float *v, size_t n) {
    if (index >= *static_cast<size_t *>(self->host_data)) fail("plugin: embedding index out of range");
    touch(v, n * sizeof(float));
  };
  b.set_usage = [](const llmh_embedding_builder *, const llmh_usage *u) { on_usage(u); };
  b.set_model = [](const llmh_embedding_builder *, llmh_str s) { touch(s); };
  b.cancelled = [](const llmh_embedding_builder *) { return 0; };
  return b;
}

inline llmh_stream_sink stream_sink(int *budget) {
  llmh_stream_sink s{};
  s.struct_size = sizeof s;
  s.host_data = budget;
  s.emit = [](const llmh_stream_sink *self, const llmh_chunk *c) {
    touch(c->content), touch(c->reasoning), touch(c->finish_reason), touch(c->raw_json);
    if (c->tool_call_count && !c->tool_calls) fail("plugin: tool_call_count without tool_calls");
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

}  // namespace llmhost_fuzz
