// What one attempt of an HTTP call ended with, whichever client carried it: libcurl
// (transfer.hpp) or the Asio one for plain-HTTP upstreams (wire_exchange.hpp). CallPolicy judges
// it; make_response hands its answer to the plugin.
#pragma once

#include <strings.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmhost::detail::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Why an attempt got no complete answer. The policy retries kConnect (and a kTimeout before the
// deadline with no status yet: a connect timeout) and turns the rest into 408 or 502.
enum class Failure {
  kNone,     // a complete HTTP answer (any status), or stopped by its caller (see the flags)
  kConnect,  // the host could not be resolved or connected to
  kTimeout,  // the attempt's time ran out
  kBroken,   // the exchange broke: reset, malformed, TLS, or the body was too large
};

struct TransferResult {
  Failure failure = Failure::kNone;
  std::string cause;  // what went wrong, for logs and errors, when failure != kNone
  long status = 0;
  Headers headers;             // of the final response
  std::string body;            // empty when streamed to on_line
  bool delivered = false;      // at least one line reached on_line
  bool consumer_stop = false;  // on_line returned non-zero
  bool cancelled = false;      // the cancel hook said stop
  bool too_large = false;      // the body exceeded the size limit
};

// Case-insensitive lookup of a header; nullptr when absent. Any thread.
inline const std::string *find_header(const Headers &headers, std::string_view name) {
  for (const auto &[key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return &value;
  return nullptr;
}

}  // namespace llmhost::detail::http
