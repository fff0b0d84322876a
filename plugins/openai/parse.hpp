// Upstream JSON answers -> the ABI builders. Every function throws llmh::Error(502) naming what
// was missing when the upstream's JSON is not what the OpenAI API promises.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <llmhost/provider.hpp>

namespace openai_plugin {

// What an answer is: a chat.completion (choices[i].message, or .delta in a stream), or a
// text_completion (choices[i].text), the legacy /completions' answer.
enum class Shape { kChat, kText };

// A chat.completion object into `out` (content, reasoning, tool calls, finish_reason, usage,
// model, the members to pass through, built in `scratch`, and the whole body as raw JSON); or
// a text_completion's text, finish_reason, usage and model. `url` names the upstream in errors
// (no key in it).
void parse_completion(simdjson::dom::parser &parser, std::string &scratch, std::string_view body,
                      const llmh::Response &out, std::string_view url, Shape shape = Shape::kChat);

// An embeddings list into `out`; `inputs` is how many vectors are expected.
void parse_embeddings(simdjson::dom::parser &parser, std::string_view body, const llmh::Embeddings &out, size_t inputs,
                      std::string_view url);

// An images answer ({"data": [{"url" or "b64_json", "revised_prompt"}], "usage"}) into `out`.
void parse_images(simdjson::dom::parser &parser, std::string_view body, const llmh::Images &out, std::string_view url);

// The llmh::Error for a non-2xx upstream answer: its status (a non-error status becomes 502)
// and the message from {"error":{"message"}} (or "error"/"message"/"detail" strings, else the
// start of the body).
llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url);

// The message of an {"error": ...} member of `obj`, or empty when it has none.
std::string error_message_of(simdjson::dom::object obj);

// The members of `obj` named `names`, found in one walk of it: a lookup by name walks the
// members once per name. Each is what obj[name] gives: the first member of that name, or
// NO_SUCH_FIELD.
template <std::size_t N>
std::array<simdjson::simdjson_result<simdjson::dom::element>, N> members_named(simdjson::dom::object obj,
                                                                               const std::string_view (&names)[N]) {
  std::array<simdjson::simdjson_result<simdjson::dom::element>, N> found;
  found.fill(simdjson::NO_SUCH_FIELD);
  std::size_t left = N;
  for (simdjson::dom::key_value_pair m : obj)
    for (std::size_t k = 0; k < N; ++k)
      if (found[k].error() && m.key == names[k]) {
        found[k] = simdjson::dom::element(m.value);
        if (--left == 0) return found;
        break;
      }
  return found;
}

// The string `member` (a view into the parser's document), or empty when it is absent, null
// or not a string.
std::string_view str_or_empty(simdjson::simdjson_result<simdjson::dom::element> member);

// The string member `key` of `obj` (a view into the parser's document), or empty when it is
// absent, null or not a string. Shared by the completion and the stream chunk readers.
std::string_view str_or_empty(simdjson::dom::object obj, const char *key);

// Reads usage {prompt_tokens, completion_tokens, total_tokens}; false when absent or null.
bool read_usage(simdjson::dom::element usage, llmh_usage &out);

}  // namespace openai_plugin
