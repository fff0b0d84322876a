// The JSON body a plugin sees in llmh_request.body_json: the caller's body (or one built from
// the Request's fields) with Request::extra_json's keys merged in, extra keys winning.
#pragma once

#include <string>

#include "llmhost/types.hpp"

namespace llmhost::detail {

// Throws llmhost::Error(400) when body_json or extra_json is not a JSON object.
std::string request_body(const Request &request);

}  // namespace llmhost::detail
