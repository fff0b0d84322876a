// The JSON body a plugin sees in llmh_request.body_json: the caller's body (or one built from
// the Request's fields) with Request::extra_json's keys merged in, extra keys winning.
#pragma once

#include <string>
#include <string_view>

#include "llmhost/types.hpp"

namespace llmhost::detail {

// The body a plugin is handed, and whether the host knows it to be one valid JSON object (it
// wrote or merged it, or request.body_json_checked says so): then its members may be listed
// for the plugin (llmh_request.body_members) without a parse.
struct Body {
  std::string_view text;
  bool checked = false;
};

// Throws llmhost::Error(400) when body_json or extra_json is not a JSON object.
std::string request_body(const Request &request);
// The same body without copying the caller's: a view of request.body_json when nothing is to
// be merged into it, else of `storage`, which receives the built body.
Body request_body(const Request &request, std::string &storage);

// The request of prompt number `index` of a text completion (llmhost/text_completion.h): the
// same settings, request.input[index] as its one input, and a checked body whose "prompt" is
// that prompt alone (no "messages" or "input"). Throws as request_body.
Request prompt_request(const Request &request, size_t index);

}  // namespace llmhost::detail
