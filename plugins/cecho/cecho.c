/*
 * cecho: a small provider in plain C99 against provider.h alone.
 *
 * complete: replies "cecho: <last user message content>", finish_reason "stop", usage in
 *           whitespace-separated words (prompt: all messages, completion: the reply).
 * stream:   the same text as two chunks ("cecho: " and the content), then a final chunk with
 *           finish_reason "stop" and usage.
 * embed:    not implemented (capability clear, pointer NULL).
 *
 * Stateless (instance is NULL), so every call is thread-safe.
 */
#include <llmhost/provider.h>

static const char kPrefix[] = "cecho: ";

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int64_t count_words(llmh_str s) {
  int64_t words = 0;
  int in_word = 0;
  size_t i;
  for (i = 0; i < s.len; ++i) {
    if (is_space(s.ptr[i])) {
      in_word = 0;
    } else if (!in_word) {
      in_word = 1;
      ++words;
    }
  }
  return words;
}

static int str_eq(llmh_str s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

/* The last user message's content, or the empty view. */
static llmh_str last_user_content(const llmh_request *req) {
  llmh_str none = {NULL, 0};
  size_t i = req->message_count;
  while (i-- > 0) {
    if (str_eq(req->messages[i].role, "user")) return req->messages[i].content;
  }
  return none;
}

static llmh_usage make_usage(const llmh_request *req, llmh_str content) {
  llmh_usage u;
  llmh_str prefix = llmh_str_c(kPrefix);
  size_t i;
  u = llmh_usage_init();
  for (i = 0; i < req->message_count; ++i) u.prompt_tokens += count_words(req->messages[i].content);
  u.completion_tokens = count_words(prefix) + count_words(content);
  u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

static int cecho_create(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err) {
  (void)config;
  (void)err;
  *instance = NULL;
  if (host && host->log) host->log(host, LLMH_LOG_DEBUG, llmh_str_c("cecho: instance created"));
  return 0;
}

static void cecho_destroy(void *instance) { (void)instance; }

static int cecho_complete(void *instance, const llmh_request *request, const llmh_response_builder *out,
                          llmh_error *err) {
  llmh_str content = last_user_content(request);
  llmh_usage usage = make_usage(request, content);
  (void)instance;
  (void)err;
  out->append_content(out, llmh_str_c(kPrefix));
  out->append_content(out, content);
  out->set_finish_reason(out, llmh_str_c("stop"));
  out->set_usage(out, &usage);
  return 0;
}

static int cecho_stream(void *instance, const llmh_request *request, const llmh_stream_sink *sink, llmh_error *err) {
  llmh_str content = last_user_content(request);
  llmh_usage usage = make_usage(request, content);
  llmh_chunk chunk;
  (void)instance;
  (void)err;

  chunk = llmh_chunk_init();
  chunk.content = llmh_str_c(kPrefix);
  if (sink->emit(sink, &chunk) != 0) return 0;

  if (content.len > 0) {
    chunk.content = content;
    if (sink->emit(sink, &chunk) != 0) return 0;
  }

  chunk.content.ptr = NULL;
  chunk.content.len = 0;
  chunk.finish_reason = llmh_str_c("stop");
  chunk.usage = &usage;
  sink->emit(sink, &chunk);
  return 0;
}

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    "cecho",
    "1.0.0",
    "Plain C99 example provider: replies \"cecho: <last user message>\"",
    LLMH_CAP_COMPLETE | LLMH_CAP_STREAM,
    NULL, /* models: free-form */
    cecho_create,
    cecho_destroy,
    cecho_complete,
    cecho_stream,
    NULL, /* embed */
    NULL  /* get_extension */
};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &kDescriptor; }
