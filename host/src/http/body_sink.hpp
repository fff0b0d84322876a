// Where a response body goes, for both clients: kept whole in TransferResult::body, or, for a
// 2xx answer to a call with on_line, split into lines handed to the plugin as they arrive (the
// SSE case), with no copy unless a line spans two reads. Also enforces the body size limit.
#pragma once

#include <string>
#include <string_view>

#include "http/transfer_result.hpp"
#include "llmhost/http.h"

namespace llmhost::detail::http {

class BodySink {
 public:
  // Starts a response body for a call whose plugin callback is `on_line(user, line)` (may be
  // null); results go to `out`, which must outlive the body. Forgets the previous body.
  void begin(llmh_http_line_fn on_line, void *user, TransferResult &out);

  // The next bytes of a body whose response status is `status` (read at the first bytes only:
  // whether it goes to on_line is decided then). False: stop the transfer now; `out` says why
  // (consumer_stop, or too_large). Thread of the transfer.
  bool write(std::string_view data, long status);

  // The body ended complete: a last line with no terminator is still a line.
  void end();

  // Whether write() has read the status yet: until then, a caller that must look it up (curl)
  // does; afterwards it may pass anything.
  bool decided() const { return decided_; }

 private:
  bool deliver(std::string_view line);

  llmh_http_line_fn on_line_ = nullptr;
  void *user_ = nullptr;
  TransferResult *out_ = nullptr;
  bool decided_ = false;
  bool lines_ = false;
  std::string pending_;  // an incomplete line
};

}  // namespace llmhost::detail::http
