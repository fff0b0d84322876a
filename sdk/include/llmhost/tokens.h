/*
 * llmhost token counting, host extension "llmhost.tokens.v1" (C99).
 *
 * The host's tokenizer, exact to OpenAI's tiktoken for the o200k_base and cl100k_base encodings
 * (docs/tokens.md), offered to plugins so that a provider whose upstream reports no usage can
 * report an exact count instead, and one that must fit a context window can measure a prompt.
 * A plugin asks for the table once (usually in `create`) and keeps it:
 *
 *   const llmh_tokens_api *tokens =
 *       (const llmh_tokens_api *)host->get_extension(host, LLMH_TOKENS_EXTENSION_ID);
 *
 * It is NULL when the host does not count tokens (an older host). The table is owned by the
 * host and lives as long as the llmh_host_api it came from (until `destroy` of the instance
 * returns). Its functions may be called from any thread, concurrently.
 *
 * Which encoding counts: `model` is a model name ("gpt-4o", "openai/gpt-4o",
 * "gpt-4-0613": tiktoken's table; a model it does not know gets the host's default encoding,
 * cl100k_base unless configured), or an encoding's own name ("o200k_base", "cl100k_base").
 *
 * Ownership: every view passed in is borrowed for the duration of the call; nothing is kept.
 * Special tokens ("<|endoftext|>") in the text count as the plain text they are.
 */
#ifndef LLMHOST_TOKENS_H
#define LLMHOST_TOKENS_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_host_api.get_extension for this table. */
#define LLMH_TOKENS_EXTENSION_ID "llmhost.tokens.v1"

/* OWNERSHIP: filled and owned by the host; read-only to the plugin; valid as long as the
 * llmh_host_api it came from. Minor versions only append functions: check struct_size
 * (LLMH_HAS_FIELD) before calling one added after 1.0. */
typedef struct llmh_tokens_api {
  uint32_t struct_size; /* sizeof(llmh_tokens_api) as the host compiled it */
  void *host_data;      /* the host's; never touched by the plugin */

  /* [thread: any] The tokens of `text` under `model`'s encoding (see above) into *count.
   * Returns 0; non-zero with `err` filled when it cannot count: 400 when `text` is not valid
   * UTF-8 (the message names the byte). The encoding loads on its first use in the process
   * (tens of milliseconds); later calls cost only the counting. */
  int (*count_text)(const struct llmh_tokens_api *api, llmh_str model, llmh_str text, uint64_t *count, llmh_error *err);

  /* [thread: any] The prompt tokens of a chat, as OpenAI bills them: each message's role,
   * content, name and tool_call_id, its tool calls' names and arguments, plus 3 tokens per
   * message, 1 per name and 3 to prime the reply. `messages` is typically the request's own
   * (llmh_request.messages, message_count). Returns as count_text. */
  int (*count_messages)(const struct llmh_tokens_api *api, llmh_str model, const llmh_message *messages,
                        size_t message_count, uint64_t *count, llmh_error *err);
} llmh_tokens_api;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_TOKENS_H */
