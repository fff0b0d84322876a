// The OpenAI-compatible API: routes one Exchange to its endpoint. Cheap endpoints answer on
// the calling (I/O) thread, and so do chat completions and streams with a plugin that has the
// asynchronous call form; other plugin calls go to the worker pool through `post_work`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "llmhost/host.hpp"
#include "openai/request.hpp"
#include "proxy/attempts.hpp"
#include "proxy/error_reply.hpp"
#include "proxy/exchange.hpp"
#include "proxy/metrics.hpp"
#include "routing/limiter.hpp"
#include "routing/model_table.hpp"

namespace llmhost::proxy {

struct ApiOptions {
  std::string master_key;  // empty = no auth
};

class Api {
 public:
  using PostWork = std::function<void(std::function<void()>)>;
  Api(Host &host, const routing::ModelTable &models, const routing::Limiter &limiter, Metrics &metrics,
      PostWork post_work, ApiOptions options);

  void handle(std::shared_ptr<Exchange> ex);

 private:
  bool authorized(const Incoming &in) const;
  struct Completion;
  struct StreamCall;
  void chat(std::shared_ptr<Exchange> ex);  // on an I/O thread
  void start_chat(const std::shared_ptr<Exchange> &ex);
  void complete(std::shared_ptr<Completion> c);  // the next attempt of a chat completion; any thread
  void complete_admitted(const std::shared_ptr<Completion> &c);
  void on_completed(const std::shared_ptr<Completion> &c, CompleteResult &result);
  void stream(std::shared_ptr<StreamCall> s);  // the next attempt of a chat stream; any thread
  void stream_admitted(const std::shared_ptr<StreamCall> &s);
  void on_streamed(const std::shared_ptr<StreamCall> &s, std::optional<Error> &error);
  void embeddings(std::shared_ptr<Exchange> ex);         // on a worker
  void text_completions(std::shared_ptr<Exchange> ex);   // on a worker
  void rerank(std::shared_ptr<Exchange> ex);             // on a worker
  void images(std::shared_ptr<Exchange> ex, bool edit);  // on a worker
  void token_counter(std::shared_ptr<Exchange> ex);      // on a worker
  void readiness(Exchange &ex);
  static void refuse(Exchange &ex, std::string_view route, std::string model, bool stream, Reply reply);
  // The request `parse` (an openai:: parser) reads from the exchange's body; nothing when it is
  // refused, the exchange then answered with a 400 naming the field.
  template <class Parsed, class Parse>
  static std::optional<Parsed> parsed(Exchange &ex, std::string_view route, Parse parse) {
    auto result = parse(ex.request().body);
    if (auto *err = std::get_if<openai::RequestError>(&result)) {
      refuse(ex, route, {}, false, error_reply(400, err->message, err->param));
      return std::nullopt;
    }
    return std::get<Parsed>(std::move(result));
  }
  // The attempts of `req` on `route`; nothing when routing refused it (404), the exchange then
  // answered.
  std::optional<Attempts> attempts_for(Exchange &ex, std::string_view route, const Request &req, bool stream) const;

  Host &host_;
  const routing::ModelTable &models_;
  const routing::Limiter &limiter_;
  Metrics &metrics_;
  PostWork post_work_;
  ApiOptions options_;
};

}  // namespace llmhost::proxy
