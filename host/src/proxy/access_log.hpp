// One structured (JSON) log line per request: time, method, path, route, model, provider,
// status, latency, bytes. Never a header value, so never the Authorization header or a key.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "proxy/exchange.hpp"

namespace llmhost::proxy {

// The line for `r`, without the trailing newline.
std::string access_log_line(const Record &r);

class AccessLog {
 public:
  explicit AccessLog(std::FILE *out) : out_(out) {}
  void write(const Record &r);  // thread-safe; one write per line

 private:
  std::mutex mu_;
  std::FILE *out_;
};

}  // namespace llmhost::proxy
