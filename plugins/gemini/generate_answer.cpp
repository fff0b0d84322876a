#include "generate_answer.hpp"

#include <string>
#include <vector>

#include "common/json_fields.hpp"

namespace gemini_plugin {
namespace {

using llmh_plugins::int_of;
using llmh_plugins::string_of;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(std::string_view url, const std::string &what) {
  throw llmh::Error(502, "gemini: unexpected response from " + std::string(url) + ": " + what);
}

object parse_object(simdjson::dom::parser &parser, std::string_view body, std::string_view url) {
  object obj;
  if (auto e = parser.parse(body.data(), body.size(), true).get(obj))
    bad(url, std::string("not a JSON object (") + simdjson::error_message(e) + ")");
  return obj;
}

// What one candidate says: its parts sorted into the OpenAI channels.
struct Candidate {
  std::string text, thoughts;
  struct Call {
    std::string id, name, arguments;
  };
  std::vector<Call> calls;
  std::string_view finish;  // Gemini's, "" while a stream goes on
};

// The first candidate of `obj` (Gemini answers n > 1 as more candidates; OpenAI's n is not
// modelled by the ABI: the first counts). No candidate: a prompt Gemini blocked.
Candidate first_candidate(object obj, std::string_view url) {
  Candidate c;
  array candidates;
  object candidate, content;
  if (obj["candidates"].get(candidates) || candidates.at(0).get(candidate)) {
    object feedback;
    if (!obj["promptFeedback"].get(feedback) && !string_of(feedback, "blockReason").empty()) c.finish = "SAFETY";
    return c;
  }
  c.finish = string_of(candidate, "finishReason");
  array parts;
  if (candidate["content"].get(content) || content["parts"].get(parts)) return c;
  for (element p : parts) {
    object part, call;
    if (p.get(part)) bad(url, "a part that is not an object");
    if (!part["functionCall"].get(call)) {
      element args;
      c.calls.push_back({std::string(string_of(call, "id")), std::string(string_of(call, "name")),
                         call["args"].get(args) ? std::string("{}") : simdjson::minify(args)});
      continue;
    }
    bool thought = false;
    if (part["thought"].get(thought)) thought = false;
    (thought ? c.thoughts : c.text) += string_of(part, "text");
  }
  return c;
}

// usageMetadata as OpenAI counts it: thinking tokens are completion tokens.
bool usage_of(object obj, llmh_usage &out) {
  object u;
  if (obj["usageMetadata"].get(u)) return false;
  const int64_t prompt = int_of(u, "promptTokenCount");
  const int64_t completion = int_of(u, "candidatesTokenCount") + int_of(u, "thoughtsTokenCount");
  out = llmh::make_usage(prompt, completion, prompt + completion);
  return true;
}

std::string error_message(object err) {
  std::string m(string_of(err, "message"));
  if (const std::string_view status = string_of(err, "status"); !status.empty()) m += " (" + std::string(status) + ")";
  return m;
}

}  // namespace

std::string finish_reason(std::string_view r, bool called_functions) {
  if (r == "STOP") return called_functions ? "tool_calls" : "stop";
  if (r == "MAX_TOKENS") return "length";
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" || r == "SPII" ||
      r == "IMAGE_SAFETY")
    return "content_filter";
  std::string lower(r);
  for (char &ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower;
}

void parse_response(simdjson::dom::parser &parser, std::string_view body, const llmh::Response &out,
                    std::string_view url) {
  const object obj = parse_object(parser, body, url);
  const Candidate c = first_candidate(obj, url);
  out.append_content(c.text);
  if (!c.thoughts.empty()) out.append_reasoning(c.thoughts);
  for (size_t i = 0; i < c.calls.size(); ++i)
    out.add_tool_call(c.calls[i].id.empty() ? "call_" + std::to_string(i) : c.calls[i].id, c.calls[i].name,
                      c.calls[i].arguments, "function");
  if (!c.finish.empty()) out.finish_reason(finish_reason(c.finish, !c.calls.empty()));
  llmh_usage usage;
  if (usage_of(obj, usage)) out.usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens);
  if (const std::string_view model = string_of(obj, "modelVersion"); !model.empty()) out.model(model);
  out.raw_json(body);
}

bool emit_event(simdjson::dom::parser &parser, std::string_view data, llmh::Stream &out, uint32_t &tools,
                std::string_view url) {
  object obj;
  if (auto e = parser.parse(data.data(), data.size(), true).get(obj))
    throw llmh::Error(502, "gemini: stream from " + std::string(url) + " sent an event that is not a JSON object (" +
                               simdjson::error_message(e) + ")");
  object err;
  if (!obj["error"].get(err)) {
    const int64_t code = int_of(err, "code");
    throw llmh::Error(code >= 400 && code <= 599 ? static_cast<int>(code) : 502,
                      "gemini: upstream error in stream: " + error_message(err));
  }
  const Candidate c = first_candidate(obj, url);
  llmh_chunk chunk = llmh::make_chunk();
  chunk.raw_json = llmh::str(data);
  chunk.content = llmh::str(c.text);
  chunk.reasoning = llmh::str(c.thoughts);
  std::vector<llmh_tool_call_delta> deltas;
  std::vector<std::string> ids;
  ids.reserve(c.calls.size());
  for (const Candidate::Call &call : c.calls) {
    ids.push_back(call.id.empty() ? "call_" + std::to_string(tools) : call.id);
    llmh_tool_call_delta d{};
    d.struct_size = sizeof d;
    d.index = tools++;
    d.id = llmh::str(ids.back());
    d.name = llmh::str(call.name);
    d.arguments = llmh::str(call.arguments);
    deltas.push_back(d);
  }
  chunk.tool_calls = deltas.empty() ? nullptr : deltas.data();
  chunk.tool_call_count = deltas.size();
  const std::string finish = c.finish.empty() ? std::string() : finish_reason(c.finish, tools > 0);
  chunk.finish_reason = llmh::str(finish);
  llmh_usage usage;
  // Each event carries the usage so far; the one with the finish reason has it all.
  if (!c.finish.empty() && usage_of(obj, usage)) chunk.usage = &usage;
  return out.emit(chunk);
}

llmh::Error upstream_error(simdjson::dom::parser &parser, int status, std::string_view body, std::string_view url) {
  object obj, err;
  std::string message;
  if (!parser.parse(body.data(), body.size(), true).get(obj) && !obj["error"].get(err)) {
    message = error_message(err);
    // Gemini answers a bad key with 400 INVALID_ARGUMENT: it is a 401 to anyone reading it.
    if (message.find("API key not valid") != std::string::npos || message.find("API_KEY_INVALID") != std::string::npos)
      status = 401;
  } else {
    message = std::string(body.substr(0, 200));
  }
  return llmh::Error(status,
                     "gemini: upstream " + std::string(url) + " returned " + std::to_string(status) + ": " + message);
}

void parse_embeddings(simdjson::dom::parser &parser, std::string_view body, const llmh::Embeddings &out, size_t inputs,
                      std::string_view url) {
  const object obj = parse_object(parser, body, url);
  array embeddings;
  if (obj["embeddings"].get(embeddings)) bad(url, "no \"embeddings\" array");
  if (embeddings.size() != inputs)
    bad(url, std::to_string(embeddings.size()) + " embeddings for " + std::to_string(inputs) + " inputs");
  size_t index = 0;
  std::vector<float> values;
  for (element e : embeddings) {
    object entry;
    array vector;
    if (e.get(entry) || entry["values"].get(vector)) bad(url, "an embedding without \"values\"");
    values.clear();
    for (element v : vector) {
      double d = 0;
      if (v.get(d)) bad(url, "an embedding value that is not a number");
      values.push_back(static_cast<float>(d));
    }
    out.set(index++, values);
  }
}

}  // namespace gemini_plugin
