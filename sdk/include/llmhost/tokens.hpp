// C++ face of the host's token counting (tokens.h, "llmhost.tokens.v1"): exact tiktoken counts
// for a provider whose upstream reports no usage. Header-only; needs only the SDK headers.
//
//   class MyProvider : public llmh::Provider {
//     llmh::Tokens tokens_{*this};
//     void complete(const llmh::Request &req, llmh::Response &out) override {
//       ...
//       if (tokens_) out.usage(tokens_.count_prompt(req), tokens_.count(req.model(), answer));
//     }
//   };
#pragma once

#include <cstdint>
#include <string_view>

#include "llmhost/provider.hpp"
#include "llmhost/tokens.h"

namespace llmh {

// Holds the host's table, looked up once. Copyable; any thread, concurrently.
class Tokens {
 public:
  // Looks the extension up through `provider`'s host; false (operator bool) on a host without it.
  explicit Tokens(const Provider &provider) noexcept
      : api_(static_cast<const llmh_tokens_api *>(provider.host_extension(LLMH_TOKENS_EXTENSION_ID))) {}

  explicit operator bool() const noexcept { return api_ != nullptr; }

  // The tokens of `text` under `model`'s encoding (a model name, or "o200k_base" /
  // "cl100k_base"). Throws Error: the host's (400 for text that is not UTF-8), or 501 when the
  // host offers no token counting.
  uint64_t count(std::string_view model, std::string_view text) const {
    uint64_t n = 0;
    llmh_error err = fresh();
    if (api().count_text(api_, str(model), str(text), &n, &err) != 0) throw Error(err.status, err.message);
    return n;
  }
  // The prompt tokens of `request`'s messages with OpenAI's framing, under its model's encoding.
  uint64_t count_prompt(const Request &request) const {
    uint64_t n = 0;
    llmh_error err = fresh();
    const llmh_request &r = request.raw();
    if (api().count_messages(api_, r.model, r.messages, r.message_count, &n, &err) != 0)
      throw Error(err.status, err.message);
    return n;
  }

 private:
  const llmh_tokens_api &api() const {
    if (!api_) throw Error(501, "this host offers no token counting (" LLMH_TOKENS_EXTENSION_ID ")");
    return *api_;
  }
  static llmh_error fresh() noexcept {
    llmh_error e{};
    e.struct_size = sizeof e;
    return e;
  }
  const llmh_tokens_api *api_;
};

}  // namespace llmh
