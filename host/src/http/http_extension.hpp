// Offers the HTTP service to plugins as the C table of sdk/include/llmhost/http.h.
#pragma once

#include <functional>
#include <string_view>

#include "llmhost/provider.h"

namespace llmhost::detail::http {

using ExtensionLookup = std::function<const void *(std::string_view id)>;

// Makes the host's extension lookup: LLMH_HTTP_EXTENSION_ID gives an llmh_http_api table backed
// by one HTTP service (its own connection pool) that logs through `log`; any other id gives
// nullptr. Lines below `min_level` are neither formatted nor passed to `log`: a caller whose
// `log` drops some levels saves every call that work by saying so. The table lives as long as
// the returned function (and its copies). Any thread.
ExtensionLookup make_extension_lookup(
    std::function<void(int level, std::string_view provider, std::string_view message)> log,
    int min_level = LLMH_LOG_DEBUG);

}  // namespace llmhost::detail::http
