// One request's way through the attempts of its route (the deployments behind a model name,
// then its fallbacks): which attempt is next, and whether a failure moves on to another. Shared
// by the blocking endpoints (a loop on a worker) and the callback-form completion (one attempt
// per callback). Not thread-safe: one attempt at a time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "llmhost/errors.hpp"
#include "proxy/exchange.hpp"
#include "proxy/metrics.hpp"
#include "routing/model_table.hpp"

namespace llmhost::proxy {

class Attempts {
 public:
  // Routes `req` (throws Error 404 for a name that is neither configured nor loaded).
  Attempts(const routing::ModelTable &models, const Host &host, const Request &req, std::string_view endpoint,
           bool stream)
      : route_(models.route(req, host)), asked_(req.model), endpoint_(endpoint), stream_(stream) {}

  // Points `req` at the next attempt, labels the exchange with it and arms the watchdog.
  // Returns the attempt's target; throws Error (404) when its provider is not loaded, a
  // failure of this attempt to hand to failed().
  Target start(Exchange &ex, Request &req, const Host &host) {
    Target target;
    try {
      target = route_.apply(i_, req, host);
      provider_ = target.provider();
    } catch (const Error &) {
      provider_ = route_.provider(i_);
      ex.label(std::string(endpoint_), asked_, provider_, stream_);
      throw;
    }
    ex.label(std::string(endpoint_), asked_, provider_, stream_);
    ex.call_started(req.timeout_s);
    return target;
  }
  // Whether the attempt started last is the final one.
  bool last() const { return i_ + 1 == route_.size(); }
  // The model name the client sent.
  const std::string &asked() const { return asked_; }

  // After the current attempt failed with `e`: nothing when another attempt should follow (the
  // failure is counted), else the error to report, naming the attempts that failed before. An
  // error that is the client's fault, or a client that has gone, ends the loop at once.
  std::optional<Error> failed(const Error &e, Exchange &ex, Metrics &metrics) {
    if (last() || !another_deployment_may_help(e.status()) || ex.cancelled().stop_requested()) {
      if (failed_.empty()) return e;
      return Error(e.status(), std::string(e.what()) + " (after " + failed_ + ")", e.code());
    }
    metrics.deployment_failed(asked_, provider_, e.status());
    failed_ += (failed_.empty() ? "" : ", ") + route_.model(i_) + " -> " + std::to_string(e.status());
    ++i_;
    return std::nullopt;
  }

 private:
  // Whether another deployment might succeed where this one failed: not when the client got
  // the request wrong (it fails the same everywhere) nor when the client has gone (499).
  static bool another_deployment_may_help(int status) {
    return status >= 400 && status != 400 && status != 413 && status != 422 && status != 499;
  }

  const routing::Route route_;
  const std::string asked_;
  const std::string_view endpoint_;  // a literal
  const bool stream_;
  size_t i_ = 0;
  std::string provider_;  // of the current attempt
  std::string failed_;    // "provider/model -> status, ..." of the attempts before
};

}  // namespace llmhost::proxy
