// OpenAI wire objects written from host results: chat.completion, chat.completion.chunk,
// text_completion (whole and streamed), the embeddings list. Shared by the CLI's --json output and the proxy.
#pragma once

#include <string>
#include <string_view>

#include "llmhost/types.hpp"

namespace llmhost::openai {

// A fresh id such as "chatcmpl-5f1c0e...": unique per process run, cheap.
std::string new_id(std::string_view prefix);
int64_t unix_now();

// Appends a `chat.completion` object for `r` (r.id and r.created must be set).
void write_completion(std::string &out, const Response &r);

// Identity of one stream: the same id, created and model on every chunk, so the JSON they
// open every chunk with is rendered once per stream, not once per chunk.
class StreamMeta {
 public:
  StreamMeta(std::string_view id, int64_t created, std::string_view model,
             std::string_view object = "chat.completion.chunk");
  // {"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":[
  const std::string &prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

// Appends a `chat.completion.chunk` object. `first` adds role "assistant" to the delta.
void write_chunk(std::string &out, const StreamMeta &meta, const Chunk &c, bool first);

// Appends a `text_completion` object for `r` (r.id and r.created must be set): one choice per
// prompt.
void write_text_completion(std::string &out, const TextCompletion &r);

// Appends one streamed `text_completion` object (`meta` made with object "text_completion"):
// the next text of choice `index`, with its finish reason when it is the last. A chunk with only
// usage (include_usage) has no choices.
void write_text_chunk(std::string &out, const StreamMeta &meta, size_t index, const Chunk &c);

// Appends a rerank answer, as Cohere's (id, results, meta) and Jina's (model, usage) clients
// read it: each result's index and relevance_score, and with `documents` (the request's
// texts, return_documents) its {"text"}.
void write_rerank(std::string &out, const RerankResponse &r, const std::vector<std::string> *documents);

// Appends an images answer: {"created", "data": [{"url" or "b64_json", "revised_prompt"}],
// "usage" when the provider reported one}.
void write_images(std::string &out, const ImageResponse &r);

// How write_embeddings writes each vector: JSON numbers, or base64 of its float32 values as
// little-endian bytes, as OpenAI sends for encoding_format "base64" (the official clients ask
// for it by default).
enum class EmbeddingEncoding { kFloat, kBase64 };

// Appends the embeddings `list` object.
void write_embeddings(std::string &out, const EmbeddingResponse &r,
                      EmbeddingEncoding encoding = EmbeddingEncoding::kFloat);

// Appends the usage object.
void write_usage(std::string &out, const Usage &u);

}  // namespace llmhost::openai
