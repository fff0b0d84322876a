/* A valid shared library that does not export llmh_provider_entry: it exports a misspelt
 * entry instead, so the loader must report the missing symbol. */
#include <llmhost/provider.h>

static const llmh_provider kDescriptor = {
    sizeof(llmh_provider), LLMH_ABI_VERSION_MAJOR, LLMH_ABI_VERSION_MINOR, "no_entry", "1.0.0",
    NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL};

LLMH_EXPORT const llmh_provider *llmh_provider_entry_misspelt(void) { return &kDescriptor; }
