// The "llmhost.tokens.v1" host extension (sdk/include/llmhost/tokens.h): token counting for
// plugins, in the host process and in isolated plugins' workers alike.
#pragma once

#include <string>

#include "loader/extension_lookup.hpp"

namespace llmhost::detail::tokens {

// The table for id LLMH_TOKENS_EXTENSION_ID, nullptr for any other id. It counts models
// tiktoken's table does not know with `default_encoding` (a name Encoding::find knows). The
// table lives as long as the returned function and its copies. Any thread.
ExtensionLookup make_tokens_extension(std::string default_encoding);

}  // namespace llmhost::detail::tokens
