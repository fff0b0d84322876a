/*
 * llmhost reranking, plugin extension "llmhost.rerank.v1" (C99).
 *
 * A query and documents in; a relevance score per document out (Cohere's and Jina's /v1/rerank,
 * LiteLLM's rerank). A plugin offers it by returning this table from llmh_provider.get_extension:
 *
 *   const llmh_rerank_provider *r = (const llmh_rerank_provider *)
 *       provider->get_extension(instance, LLMH_RERANK_EXTENSION_ID);
 *
 * The host asks once per instance, right after `create`. A host without this extension never
 * asks; a plugin without it answers rerank calls with 501.
 *
 * The plugin scores; the host does the rest. It has already checked that there is a query, at
 * least one document and a top_n within them; it sorts what the plugin reports by score (best
 * first), keeps the top_n best, and adds the documents' text when the caller asked for it. A
 * plugin whose upstream returns only the best top_n may report only those.
 */
#ifndef LLMHOST_RERANK_H
#define LLMHOST_RERANK_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_provider.get_extension for this table. */
#define LLMH_RERANK_EXTENSION_ID "llmhost.rerank.v1"

/* One rerank call. OWNERSHIP: filled and owned by the host; every pointer and view in it is
 * valid until the call returns. */
typedef struct llmh_rerank_request {
  uint32_t struct_size;       /* sizeof(llmh_rerank_request) as the host compiled it */
  const llmh_request *common; /* model, api_key, api_base, timeout_s, num_retries and body_json
                                 as for any call; the documents' texts in inputs/input_count;
                                 no messages. Never NULL */
  llmh_str query;             /* what the documents are ranked against; never empty */
  uint64_t top_n;             /* how many results the caller wants: 1..input_count */
} llmh_rerank_request;

/* Where `rerank` writes its scores. OWNERSHIP: filled and owned by the host; every function
 * copies what it is given. Valid until `rerank` returns. */
typedef struct llmh_rerank_builder {
  uint32_t struct_size; /* sizeof(llmh_rerank_builder) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: call] The relevance of document number `index` (0-based, < input_count), higher
   * meaning more relevant; once per document at most, in any order. */
  void (*add_result)(const struct llmh_rerank_builder *self, size_t index, double relevance_score);
  /* [thread: call] Sets the token usage (completion_tokens is ignored). */
  void (*set_usage)(const struct llmh_rerank_builder *self, const llmh_usage *usage);
  /* [thread: call] Sets the model name reported to the caller (default: the requested model). */
  void (*set_model)(const struct llmh_rerank_builder *self, llmh_str model);
  /* [thread: call] Non-zero once the caller has given up; stop and return promptly. */
  int (*cancelled)(const struct llmh_rerank_builder *self);
} llmh_rerank_builder;

/* The plugin's rerank table. OWNERSHIP: filled and owned by the plugin, static or per instance;
 * valid until `destroy` of the instance. Minor versions only append functions. */
typedef struct llmh_rerank_provider {
  uint32_t struct_size; /* sizeof(llmh_rerank_provider) as the plugin compiled it */
  /* [thread: any] Scores the documents of `request` against its query into `out`. Returns 0, or
   * fills `err` and returns non-zero. Called concurrently. Never NULL in a table the plugin
   * hands out. */
  int (*rerank)(void *instance, const llmh_rerank_request *request, const llmh_rerank_builder *out, llmh_error *err);
} llmh_rerank_provider;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_RERANK_H */
