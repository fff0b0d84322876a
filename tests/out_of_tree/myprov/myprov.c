/* A minimal provider in C: replies "myprov says: <last message>". */
#include <llmhost/provider.h>
#include <stdio.h>

static int create(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err) {
  (void)host;
  (void)config;
  (void)err;
  *instance = NULL;
  return 0;
}

static int complete(void *instance, const llmh_request *req, const llmh_response_builder *out, llmh_error *err) {
  (void)instance;
  if (req->message_count == 0) return llmh_error_set(err, 400, "myprov: no messages");
  out->append_content(out, llmh_str_c("myprov says: "));
  out->append_content(out, req->messages[req->message_count - 1].content);
  return 0;
}

static const llmh_provider descriptor = {
    sizeof(llmh_provider),
    LLMH_ABI_VERSION_MAJOR,
    LLMH_ABI_VERSION_MINOR,
    "myprov",
    "0.0.1",
    "out-of-tree test provider",
    LLMH_CAP_COMPLETE,
    NULL,
    create,
    NULL,
    complete,
    NULL,
    NULL,
    NULL,
};

LLMH_EXPORT const llmh_provider *llmh_provider_entry(void) { return &descriptor; }
