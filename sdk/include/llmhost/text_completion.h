/*
 * llmhost text completions, plugin extension "llmhost.text_completion.v1" (C99).
 *
 * OpenAI's legacy completions (/v1/completions, LiteLLM's text_completion): a prompt in, text
 * out, whole or streamed. The extension reuses the chat call's types: the prompt arrives in
 * llmh_request.inputs, the text leaves through an llmh_response_builder's append_content or a
 * stream's chunks' content. A plugin offers it by returning this table from
 * llmh_provider.get_extension:
 *
 *   const llmh_text_completion_provider *t = (const llmh_text_completion_provider *)
 *       provider->get_extension(instance, LLMH_TEXT_COMPLETION_EXTENSION_ID);
 *
 * The host asks once per instance, right after `create`. A host without this extension never
 * asks, and the plugin loads and serves its other calls as before; a plugin without it answers
 * text completions with 501.
 *
 * One prompt per call: request->inputs holds exactly one prompt (input_count 1) and messages
 * are NULL/0. A caller that sends a list of prompts gets one call per prompt, each with a body
 * whose "prompt" member is that prompt alone, and one choice per prompt in the answer.
 * llmh_request.params carries max_tokens, temperature, stop and the others as for chat; every
 * other key (suffix, echo, best_of, logit_bias) is in body_json.
 *
 * Ownership and threads follow provider.h's `complete` and `stream` exactly.
 */
#ifndef LLMHOST_TEXT_COMPLETION_H
#define LLMHOST_TEXT_COMPLETION_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_provider.get_extension for this table. */
#define LLMH_TEXT_COMPLETION_EXTENSION_ID "llmhost.text_completion.v1"

/* The plugin's text completion table. OWNERSHIP: filled and owned by the plugin, static or per
 * instance; valid until `destroy` of the instance. Minor versions only append functions. */
typedef struct llmh_text_completion_provider {
  uint32_t struct_size; /* sizeof(llmh_text_completion_provider) as the plugin compiled it */
  /* [thread: any] Completes the prompt request->inputs[0] into `out`: append_content with the
   * text, then finish reason, usage and model as for `complete` (tool calls and reasoning are
   * not reported). Returns 0, or fills `err` and returns non-zero. Called concurrently. Never
   * NULL in a table the plugin hands out. */
  int (*complete_text)(void *instance, const llmh_request *request, const llmh_response_builder *out, llmh_error *err);
  /* [thread: any] Streams the completion of request->inputs[0] as chunks whose content is the
   * next piece of text, as `stream` does (finish_reason and usage on the last ones). Returns
   * once the last chunk is sent (0), or on failure (fills `err`, non-zero). Called
   * concurrently. NULL when the plugin does not stream text: the host answers 501. */
  int (*stream_text)(void *instance, const llmh_request *request, const llmh_stream_sink *sink, llmh_error *err);
} llmh_text_completion_provider;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_TEXT_COMPLETION_H */
