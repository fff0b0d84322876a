#include "tokens/tokens_extension.hpp"

#include <llmhost/tokens.h>
#include <llmhost/views.hpp>

#include <cstddef>
#include <memory>
#include <stdexcept>

#include "tokens/chat_tokens.hpp"
#include "tokens/encoding.hpp"

namespace llmhost::detail::tokens {
namespace {

struct Extension {
  llmh_tokens_api table{};
  std::string default_encoding;
};

using llmh::sv;

// An encoding named outright, else the model's.
const Encoding &encoding_of(const llmh_tokens_api *api, llmh_str model) {
  const std::string_view name = sv(model);
  if (const Encoding *e = Encoding::find(name)) return *e;
  const auto &ext = *static_cast<const Extension *>(api->host_data);
  return Encoding::for_model(name, ext.default_encoding);
}

int fail(llmh_error *err, int status, const std::string &message) {
  if (err) llmh_error_set(err, status, message.c_str());
  return 1;
}

// Runs `count`, turning text that is not UTF-8 into a 400; nothing escapes into the plugin.
template <class Count>
int guarded(uint64_t *out, llmh_error *err, Count count) noexcept {
  try {
    if (!out) return fail(err, 400, "llmhost.tokens.v1: the count pointer is NULL");
    *out = count();
    return 0;
  } catch (const std::invalid_argument &e) {
    return fail(err, 400, e.what());
  } catch (const std::exception &e) {
    return fail(err, 500, std::string("llmhost.tokens.v1: ") + e.what());
  } catch (...) {
    return fail(err, 500, "llmhost.tokens.v1: unknown error");
  }
}

constexpr size_t kMessageV1 = offsetof(llmh_message, tool_call_count) + sizeof(size_t);
constexpr size_t kToolCallV1 = offsetof(llmh_tool_call, arguments) + sizeof(llmh_str);

int count_text(const llmh_tokens_api *api, llmh_str model, llmh_str text, uint64_t *count, llmh_error *err) {
  return guarded(count, err, [&] { return encoding_of(api, model).count(sv(text)); });
}

int count_messages(const llmh_tokens_api *api, llmh_str model, const llmh_message *messages, size_t message_count,
                   uint64_t *count, llmh_error *err) {
  return guarded(count, err, [&]() -> uint64_t {
    const Encoding &e = encoding_of(api, model);
    size_t n = kReplyPriming;
    // Stepped by the caller's struct_size, so an array built against another SDK version reads
    // right; fields past the 1.0 layout are not read.
    const auto *at = reinterpret_cast<const unsigned char *>(messages);
    const size_t stride = message_count ? messages->struct_size : 0;
    if (message_count && stride < kMessageV1)
      throw std::invalid_argument("llmhost.tokens.v1: messages[0].struct_size " + std::to_string(stride) +
                                  " is smaller than llmh_message 1.0");
    for (size_t i = 0; i < message_count; ++i, at += stride) {
      const auto &m = *reinterpret_cast<const llmh_message *>(at);
      n += count_message(e, sv(m.role), sv(m.content), sv(m.name), sv(m.tool_call_id));
      const auto *call = reinterpret_cast<const unsigned char *>(m.tool_calls);
      const size_t call_stride = m.tool_call_count ? m.tool_calls->struct_size : 0;
      if (m.tool_call_count && call_stride < kToolCallV1)
        throw std::invalid_argument("llmhost.tokens.v1: a tool call's struct_size is smaller than llmh_tool_call 1.0");
      for (size_t k = 0; k < m.tool_call_count; ++k, call += call_stride) {
        const auto &c = *reinterpret_cast<const llmh_tool_call *>(call);
        n += count_call(e, sv(c.name), sv(c.arguments));
      }
    }
    return n;
  });
}

}  // namespace

ExtensionLookup make_tokens_extension(std::string default_encoding) {
  auto ext = std::make_shared<Extension>();
  ext->default_encoding = std::move(default_encoding);
  ext->table.struct_size = sizeof(llmh_tokens_api);
  ext->table.host_data = ext.get();
  ext->table.count_text = &count_text;
  ext->table.count_messages = &count_messages;
  return [ext](std::string_view id) -> const void * { return id == LLMH_TOKENS_EXTENSION_ID ? &ext->table : nullptr; };
}

}  // namespace llmhost::detail::tokens
