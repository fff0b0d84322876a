// Which calls of perform_async the Asio client carries, per scheme; libcurl carries the others.
// HttpService decides it once (LLMHOST_HTTP_CLIENT, the proxy variables); AsyncClient follows it.
#pragma once

namespace llmhost::detail::http {

struct WireRoutes {
  bool http = true;
  bool https = true;
};

}  // namespace llmhost::detail::http
