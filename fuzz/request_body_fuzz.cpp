// llmhost::detail::request_body: the body a plugin sees, built from a Request's fields and/or
// its body_json, with extra_json's keys merged in. Only llmhost::Error(400) may come out; a
// merged body must be one JSON object holding every extra key.
// Input: [flags byte][model] '\0' [role] '\0' [content] '\0' [stop] '\0' [body_json] '\0' [extra_json]
#include <simdjson.h>

#include <cstring>
#include <string>

#include "dispatch/request_body.hpp"
#include "fuzz_input.hpp"
#include "llmhost/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint8_t flags = in.byte();
  llmhost::Request r;
  r.model = in.until('\0');
  llmhost::Message m;
  m.role = in.until('\0');
  m.content = in.until('\0');
  if (flags & 1) m.tool_calls.push_back({"call_1", "function", m.role, m.content});
  if (flags & 2) r.messages.push_back(m);
  if (flags & 4) r.input.push_back(m.content);
  if (flags & 8) r.params.stop.emplace_back(in.until('\0'));
  if (flags & 16) r.params.temperature = static_cast<double>(r.model.size()) / 7.0;
  if (flags & 32) r.params.max_tokens = static_cast<int64_t>(m.content.size()) - 3;
  r.body_json = in.until('\0');
  r.extra_json = in.all();

  std::string out;
  try {
    out = llmhost::detail::request_body(r);
  } catch (const llmhost::Error &e) {
    if (e.status() != 400) llmhost_fuzz::fail("request_body: an error that is not a 400");
    return 0;
  }
  std::string storage;
  if (llmhost::detail::request_body(r, storage).text != out) llmhost_fuzz::fail("request_body: the two forms differ");
  if (r.extra_json.empty() || r.extra_json == "{}") return 0;  // passed through or built: not re-parsed
  simdjson::dom::parser parser;
  simdjson::dom::object merged, extra;
  if (parser.parse(out).get(merged)) llmhost_fuzz::fail("request_body: the merged body is not a JSON object");
  simdjson::dom::parser extra_parser;
  if (extra_parser.parse(r.extra_json).get(extra)) llmhost_fuzz::fail("request_body: merged an invalid extra_json");
  for (auto [key, value] : extra) {
    simdjson::dom::element got;
    if (merged[key].get(got)) llmhost_fuzz::fail("request_body: an extra key is missing from the body");
  }
  return 0;
}
