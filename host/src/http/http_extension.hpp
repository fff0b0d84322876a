// Offers the HTTP service to plugins as the C table of sdk/include/llmhost/http.h.
#pragma once

#include <functional>
#include <string_view>

#include "http/asio.hpp"
#include "llmhost/provider.h"
#include "loader/extension_lookup.hpp"

namespace llmhost::detail::http {

using detail::ExtensionLookup;

// Makes the host's extension lookup: LLMH_HTTP_EXTENSION_ID gives an llmh_http_api table backed
// by one HTTP service (its own connection pool) that logs through `log`; any other id gives
// nullptr. Lines below `min_level` are neither formatted nor passed to `log`: a caller whose
// `log` drops some levels saves every call that work by saying so.
//
// `http_loop` is the executor perform_async runs on (sockets, timers, and the plugins' on_line,
// cancelled and done callbacks). Empty: the service's own event loop, one thread ("llmh-http")
// started at the first perform_async. Given (e.g. the proxy's io_context, so that an upstream
// exchange never leaves the server's I/O threads): it may be run by several threads (the
// service uses a strand of it unless `loop_threads` is 1), must keep running until the last
// copy of the returned function is gone, and that last copy must not be dropped on one of its
// threads.
//
// The table lives as long as the returned function (and its copies); dropping the last copy
// ends perform_async requests still in flight with 499. Any thread.
ExtensionLookup make_extension_lookup(
    std::function<void(int level, std::string_view provider, std::string_view message)> log,
    int min_level = LLMH_LOG_DEBUG, boost::asio::any_io_executor http_loop = {}, unsigned loop_threads = 0);

}  // namespace llmhost::detail::http
