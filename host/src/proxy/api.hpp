// The OpenAI-compatible API: routes one Exchange to its endpoint. Cheap endpoints answer on
// the calling (I/O) thread; plugin calls go to the worker pool through `post_work`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "llmhost/host.hpp"
#include "proxy/exchange.hpp"
#include "proxy/metrics.hpp"
#include "proxy/models.hpp"

namespace llmhost::proxy {

struct ApiOptions {
  std::string master_key;  // empty = no auth
};

class Api {
 public:
  using PostWork = std::function<void(std::function<void()>)>;
  Api(Host &host, const ModelTable &models, Metrics &metrics, PostWork post_work, ApiOptions options);

  void handle(std::shared_ptr<Exchange> ex);

 private:
  bool authorized(const Incoming &in) const;
  void chat(std::shared_ptr<Exchange> ex);        // on a worker
  void embeddings(std::shared_ptr<Exchange> ex);  // on a worker
  void readiness(Exchange &ex);
  template <class Call>
  void with_fallback(Exchange &ex, std::string_view endpoint, bool stream, Request &req, Call &&call);

  Host &host_;
  const ModelTable &models_;
  Metrics &metrics_;
  PostWork post_work_;
  ApiOptions options_;
};

}  // namespace llmhost::proxy
