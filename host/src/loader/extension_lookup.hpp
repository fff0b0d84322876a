// How the host finds the extension tables it offers plugins (llmh_host_api.get_extension): one
// lookup per module that offers some (http/, tokens/), chained.
#pragma once

#include <functional>
#include <string_view>

namespace llmhost::detail {

// The table for an extension id, or nullptr when this lookup does not offer it.
using ExtensionLookup = std::function<const void *(std::string_view id)>;

// A lookup asking `first`, then `second`.
inline ExtensionLookup extension_chain(ExtensionLookup first, ExtensionLookup second) {
  return [first = std::move(first), second = std::move(second)](std::string_view id) {
    const void *table = first(id);
    return table ? table : second(id);
  };
}

}  // namespace llmhost::detail
