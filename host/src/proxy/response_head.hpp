// The status line and header block of a response the Session writes, laid out into a string it
// reuses: Beast's response object and serializer cost a response five allocations and a
// buffer-sequence walk per write, for a head that is always the same few fields. The fields
// and their order are the ones Beast wrote: Server, Content-Type, the reply's own, then
// Connection as keep-alive needs it, then Content-Length or Transfer-Encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmhost::proxy {

// Starts `out` (cleared first) with the status line, Server and Content-Type.
void begin_response_head(std::string &out, int status, unsigned version, std::string_view content_type);
void add_response_field(std::string &out, std::string_view name, std::string_view value);
// Connection (HTTP/1.1 says close; HTTP/1.0 says keep-alive), then Content-Length, or
// Transfer-Encoding: chunked when there is no length, and the blank line.
void end_response_head(std::string &out, unsigned version, bool keep_alive, std::optional<uint64_t> content_length);

}  // namespace llmhost::proxy
