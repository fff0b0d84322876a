// The OpenAI request codec: a chat-completions, text-completions, embeddings or rerank request
// body (JSON text) ->
// llmhost::Request. Pure functions (no I/O, no globals), so they can be fuzzed directly.
//
// Only the fields the host types carry are extracted and type-checked; the whole body is kept
// as Request::body_json, so everything else (tools, response_format, vendor extras) reaches the
// plugin untouched. Request::model is the name the client sent; routing happens elsewhere.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "llmhost/types.hpp"

namespace llmhost::openai {

// Why a body was refused; always an HTTP 400. `param` names the offending field ("messages[1].role")
// or is empty when the body as a whole is wrong (malformed JSON: `message` gives line and column).
struct RequestError {
  std::string message;
  std::string param;
};

struct ChatRequest {
  Request request;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

struct EmbeddingsRequest {
  Request request;      // request.input holds the texts
  bool base64 = false;  // encoding_format "base64"
};

// A legacy completions request (/v1/completions).
struct TextCompletionRequest {
  Request request;  // request.input holds the prompts
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// A rerank request (Cohere's and Jina's /v1/rerank): "documents" strings or {"text"} objects.
struct RerankRequestParse {
  RerankRequest rerank;           // rerank.request.input holds the documents' texts
  bool return_documents = false;  // the answer repeats each result's document
};

using ChatParse = std::variant<ChatRequest, RequestError>;
using ImageParse = std::variant<ImageRequest, RequestError>;
using EmbeddingsParse = std::variant<EmbeddingsRequest, RequestError>;
using TextCompletionParse = std::variant<TextCompletionRequest, RequestError>;

// Never throw for any input (std::bad_alloc aside).
ChatParse parse_chat_request(std::string_view body);
EmbeddingsParse parse_embeddings_request(std::string_view body);
TextCompletionParse parse_text_completion_request(std::string_view body);
std::variant<RerankRequestParse, RequestError> parse_rerank_request(std::string_view body);
// /v1/images/generations: a JSON body.
ImageParse parse_image_request(std::string_view body);
// /v1/images/edits: a multipart/form-data body (`content_type` its header) of text fields and the
// files "image" (or "image[]", one or more) and "mask". The text fields become the request's
// body_json, a JSON object (n a number, the others strings).
ImageParse parse_image_edit_request(std::string_view content_type, std::string_view body);
// An image edit as one JSON body (the C API's form): a generation's members plus "image", the
// base64 of a file or a list of them, and "mask", the base64 of one.
ImageParse parse_image_edit_json(std::string_view body);

}  // namespace llmhost::openai
