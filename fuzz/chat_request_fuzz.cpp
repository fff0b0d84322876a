// The proxy's request codec: a client's /v1/chat/completions (or /v1/embeddings, /v1/completions,
// /v1/rerank) body -> llmhost::Request. It must never throw; a body it accepts must then go
// through the rest of the host's request path: the body merge (with and without extra keys), a
// text completion's body per prompt, and the C layout a plugin reads. Input: [mode byte][body]:
// bits 0-1 the endpoint, bit 2 the merge.
#include <simdjson.h>

#include <string>

#include "dispatch/abi_call.hpp"
#include "dispatch/request_body.hpp"
#include "fuzz_input.hpp"
#include "openai/request.hpp"

namespace {

using llmhost_fuzz::fail;
using llmhost_fuzz::touch;

void check_error(const llmhost::openai::RequestError &e) {
  if (e.message.empty()) fail("chat: a refusal without a message");
  touch(e.param);
}

// The body's members as the host lists them for a plugin (walked, not parsed) must be the ones
// a parse finds: as many, with the same values.
void check_members(const llmh_request *q) {
  if (!q->body_members) fail("chat: a checked body without its members");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(q->body_json.ptr, q->body_json.len).get(obj)) fail("chat: the body is not a JSON object");
  size_t i = 0;
  for (auto [key, value] : obj) {
    if (i >= q->body_member_count) fail("chat: fewer members listed than parsed");
    const llmh_json_member &m = q->body_members[i++];
    simdjson::dom::parser alone;
    simdjson::dom::element listed;
    if (alone.parse(m.value.ptr, m.value.len).get(listed) || simdjson::minify(listed) != simdjson::minify(value))
      fail("chat: a listed member's value differs from the parsed one");
    touch(m.key);
  }
  if (i != q->body_member_count) fail("chat: more members listed than parsed");
}

// What a plugin would read of the request, all of it.
void read_as_plugin(const llmhost::Request &r) {
  std::string storage;
  const llmhost::detail::Body body = llmhost::detail::request_body(r, storage);
  const llmhost::detail::CRequest c(r, r.model, body, true);
  const llmh_request *q = c.get();
  touch(q->model), touch(q->body_json), touch(q->api_key), touch(q->api_base);
  if (body.checked) check_members(q);
  if (q->message_count != r.messages.size() || q->input_count != r.input.size())
    fail("chat: counts differ in the C view");
  for (size_t i = 0; i < q->message_count; ++i) {
    const llmh_message &m = q->messages[i];
    touch(m.role), touch(m.content), touch(m.name), touch(m.tool_call_id);
    for (size_t j = 0; j < m.tool_call_count; ++j)
      touch(m.tool_calls[j].id), touch(m.tool_calls[j].name), touch(m.tool_calls[j].arguments),
          touch(m.tool_calls[j].type);
  }
  for (size_t i = 0; i < q->input_count; ++i) touch(q->inputs[i]);
  if (!q->params) fail("chat: params is NULL");
  for (size_t i = 0; i < q->params->stop_count; ++i) touch(q->params->stop[i]);
}

// The body merged with config/CLI extra keys: must still be one JSON object.
void merge_extra(llmhost::Request r) {
  r.extra_json = R"({"mock_response":"x","temperature":0.5})";
  const std::string merged = llmhost::detail::request_body(r);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(merged).get(obj)) fail("chat: the merged body is not a JSON object");
}

void chat(std::string_view body, bool merge) {
  auto parsed = llmhost::openai::parse_chat_request(body);
  if (auto *e = std::get_if<llmhost::openai::RequestError>(&parsed)) return check_error(*e);
  const llmhost::Request &r = std::get<llmhost::openai::ChatRequest>(parsed).request;
  if (r.model.empty() || r.messages.empty() || r.body_json != body) fail("chat: accepted an incomplete request");
  read_as_plugin(r);
  if (merge) merge_extra(r);
}

void embeddings(std::string_view body, bool merge) {
  auto parsed = llmhost::openai::parse_embeddings_request(body);
  if (auto *e = std::get_if<llmhost::openai::RequestError>(&parsed)) return check_error(*e);
  const llmhost::Request &r = std::get<llmhost::openai::EmbeddingsRequest>(parsed).request;
  if (r.model.empty() || r.input.empty() || r.body_json != body) fail("embeddings: accepted an incomplete request");
  read_as_plugin(r);
  if (merge) merge_extra(r);
}

void text_completion(std::string_view body, bool merge) {
  auto parsed = llmhost::openai::parse_text_completion_request(body);
  if (auto *e = std::get_if<llmhost::openai::RequestError>(&parsed)) return check_error(*e);
  const llmhost::Request &r = std::get<llmhost::openai::TextCompletionRequest>(parsed).request;
  if (r.model.empty() || r.input.empty() || r.body_json != body) fail("text: accepted an incomplete request");
  read_as_plugin(r);
  for (size_t i = 0; i < r.input.size(); ++i) {
    const llmhost::Request one = llmhost::detail::prompt_request(r, i);
    simdjson::dom::parser parser;
    std::string_view prompt;
    if (parser.parse(one.body_json)["prompt"].get(prompt) || prompt != r.input[i] || one.input.size() != 1)
      fail("text: a prompt's body does not carry that prompt alone");
    read_as_plugin(one);
  }
  if (merge) merge_extra(r);
}

void rerank(std::string_view body) {
  auto parsed = llmhost::openai::parse_rerank_request(body);
  if (auto *e = std::get_if<llmhost::openai::RequestError>(&parsed)) return check_error(*e);
  const llmhost::RerankRequest &r = std::get<llmhost::openai::RerankRequestParse>(parsed).rerank;
  if (r.request.model.empty() || r.query.empty() || r.request.input.empty() || r.request.body_json != body)
    fail("rerank: accepted an incomplete request");
  if (r.top_n && (*r.top_n == 0 || *r.top_n > r.request.input.size())) fail("rerank: accepted a top_n out of range");
  read_as_plugin(r.request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view body = in.all();
  const bool merge = mode & 4;
  try {
    switch (mode & 3) {
      case 0: chat(body, merge); break;
      case 1: embeddings(body, merge); break;
      case 2: text_completion(body, merge); break;
      default: rerank(body);
    }
  } catch (const llmhost::Error &e) {
    // request_body may refuse only what simdjson refuses; the codec accepted it already.
    fail(e.what());
  }
  return 0;
}
