// POST /utils/token_counter, LiteLLM's: {"model", "messages"} or {"model", "prompt"} in,
// {"total_tokens", "request_model", "model_used", "tokenizer_type", "encoding"} out. A configured
// name counts with the model of its first deployment. On a worker: a long prompt costs CPU.
#include <simdjson.h>

#include "json/writer.hpp"
#include "openai/request.hpp"
#include "proxy/api.hpp"
#include "proxy/error_reply.hpp"

namespace llmhost::proxy {

void Api::token_counter(std::shared_ptr<Exchange> ex) {
  ex->label("/utils/token_counter", {}, {}, false);
  const std::string &body = ex->request().body;
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(body).get(doc))
    return ex->reply(
        error_reply(400, "the body is not a JSON object: send {\"model\", \"messages\"} or {\"model\", \"prompt\"}"));
  std::string_view model;
  if (doc["model"].get(model) || model.empty())
    return ex->reply(error_reply(400, "\"model\" must be a non-empty string", "model"));
  const std::string_view used = models_.first_model(model);
  try {
    TokenCount count;
    if (doc["messages"].error() != simdjson::NO_SUCH_FIELD) {
      openai::ChatParse chat = openai::parse_chat_request(body);
      if (auto *bad = std::get_if<openai::RequestError>(&chat))
        return ex->reply(error_reply(400, bad->message, bad->param));
      count = host_.count_tokens(used, std::get<openai::ChatRequest>(chat).request.messages);
    } else {
      std::string_view prompt;
      if (doc["prompt"].get(prompt))
        return ex->reply(error_reply(400, "send \"messages\" (a chat) or \"prompt\" (a string) to count", "prompt"));
      count = host_.count_tokens(used, prompt);
    }
    Reply r;
    json::Writer w(r.body);
    w.begin_object()
        .member("total_tokens", count.tokens)
        .member("request_model", model)
        .member("model_used", used)
        .member("tokenizer_type", "openai_tokenizer")
        .member("encoding", count.encoding)
        .end_object();
    ex->reply(std::move(r));
  } catch (const Error &e) {
    ex->reply(error_reply(e));
  }
}

}  // namespace llmhost::proxy
