// One request's way through the attempts of its route (the deployments behind a model name,
// then its fallbacks): which attempt is next, which deployments are passed over (limits,
// cooldowns), whether a failure moves on to another, and what each attempt's end counts for
// its deployment. Shared
// by the blocking endpoints (a loop on a worker) and the callback-form completion (one attempt
// per callback). Not thread-safe: one attempt at a time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <optional>
#include <string>
#include <string_view>

#include "llmhost/errors.hpp"
#include "proxy/error_reply.hpp"
#include "proxy/exchange.hpp"
#include "proxy/metrics.hpp"
#include "routing/limiter.hpp"
#include "routing/model_table.hpp"

namespace llmhost::proxy {

class Attempts {
 public:
  // Routes `req` (throws Error 404 for a name that is neither configured nor loaded).
  Attempts(const routing::ModelTable &models, const Host &host, const Request &req, std::string_view endpoint,
           bool stream)
      : route_(models.route(req, host)), asked_(req.model), endpoint_(endpoint), stream_(stream) {}

  // Finds the next attempt that may take the call, then runs `then`: at once when limits count
  // in process, after a round trip to Redis when they are shared (then on an I/O thread). A
  // deployment at its rpm or tpm limit, or cooling down, is passed over (that is no failure of
  // it). The Attempts must outlive the call. In process the admission is decided here and now,
  // with no callback to allocate: the path of every request without shared limits.
  template <class Then>
  void admit(const routing::Limiter &limiter, Then then) {
    if (std::optional<routing::Admission> now = limiter.admit_now(route_, i_)) {
      take(std::move(*now));
      return then();
    }
    limiter.admit(route_, i_, [this, then = std::move(then)](routing::Admission a) mutable {
      take(std::move(a));
      then();
    });
  }

  // Points `req` at the attempt admit() found, labels the exchange with it and arms the
  // watchdog. When admit() found none, throws Error 429 rate_limit_exceeded, and reply() adds
  // the headers saying when to come back. Returns the attempt's target; throws Error (404) when
  // its provider is not loaded, a failure of this attempt to hand to failed().
  Target start(Exchange &ex, Request &req, const Host &host) {
    if (i_ == route_.size()) {
      exhausted_ = true;
      ex.label(std::string(endpoint_), asked_, provider_, stream_);
      throw Error(429,
                  "every deployment of \"" + asked_ + "\" is at its rate limit or cooling down: " + refusals_ +
                      (failed_.empty() ? "" : " (after " + failed_ + ")"),
                  "rate_limit_exceeded");
    }
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
  // The model an answer reports: the one the client asked for, unless the plugin named one
  // more specific than `routed`, the attempt's "provider/model".
  std::string reported(const std::string &from_plugin, const std::string &routed) const {
    return from_plugin.empty() || from_plugin == routed ? asked_ : from_plugin;
  }

  // After the current attempt failed with `e`: nothing when another attempt should follow (the
  // failure is counted), else the error to report, naming the attempts that failed before. An
  // error that is the client's fault, or a client that has gone, ends the loop at once. A
  // failure another deployment might not have had counts toward this one's cooldown (a 429
  // starts it at once).
  std::optional<Error> failed(const Error &e, Exchange &ex, Metrics &metrics) {
    if (exhausted_) return e;  // start()'s 429: nothing was attempted
    const bool gone = ex.cancelled().stop_requested();
    if (another_deployment_may_help(e.status()) && !gone) {
      lease_.failed(e.status() == 429);
    } else {
      lease_ = {};
    }
    if (last() || !another_deployment_may_help(e.status()) || gone) {
      if (failed_.empty()) return e;
      return Error(e.status(), std::string(e.what()) + " (after " + failed_ + ")", e.code());
    }
    metrics.deployment_failed(asked_, provider_, e.status());
    failed_ += (failed_.empty() ? "" : ", ") + route_.model(i_) + " -> " + std::to_string(e.status());
    ++i_;
    return std::nullopt;
  }

  // The call answered: its latency and tokens (a stream's, at its end) count for its deployment.
  void succeeded(const Usage &usage) {
    lease_.succeeded(static_cast<uint64_t>(std::max<int64_t>(0, usage.total_tokens)));
  }

  // The reply for the error failed() gave: with Retry-After and OpenAI's x-ratelimit-* headers
  // when it is start()'s 429, for the deployment that has room again first.
  Reply reply(const Error &e) const {
    Reply r = error_reply(e);
    if (!exhausted_ || !soonest_) return r;
    const routing::Clock::time_point now = routing::Clock::now();
    const routing::LimitUse &use = soonest_->use;
    const double wait_s = std::chrono::duration<double>(soonest_->until - now).count();
    r.headers.emplace_back("Retry-After",
                           std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s)))));
    r.headers.emplace_back("retry-after-ms", std::to_string(std::max<int64_t>(0, static_cast<int64_t>(wait_s * 1000))));
    auto limit = [&](const char *kind, const std::optional<uint64_t> &max, uint64_t used,
                     routing::Clock::time_point reset) {
      if (!max) return;
      r.headers.emplace_back(std::string("x-ratelimit-limit-") + kind, std::to_string(*max));
      r.headers.emplace_back(std::string("x-ratelimit-remaining-") + kind,
                             std::to_string(*max > used ? *max - used : 0));
      r.headers.emplace_back(std::string("x-ratelimit-reset-") + kind, duration_text(reset - now));
    };
    limit("requests", use.rpm, use.requests, use.requests_reset);
    limit("tokens", use.tpm, use.tokens, use.tokens_reset);
    return r;
  }

 private:
  // Whether another deployment might succeed where this one failed: not when the client got
  // the request wrong (it fails the same everywhere) nor when the client has gone (499).
  static bool another_deployment_may_help(int status) {
    return status >= 400 && status != 400 && status != 413 && status != 422 && status != 499;
  }

  // Where admit() goes on: the attempt it found, its lease, and those it passed over.
  void take(routing::Admission a) {
    const routing::Clock::time_point now = routing::Clock::now();
    for (const auto &[state, refusal] : a.refused) passed_over(*state, refusal, now);
    i_ = a.index;
    lease_ = std::move(a.lease);
  }

  // A deployment admit() passed over: named in the 429, and the one free soonest kept for its
  // headers.
  void passed_over(const routing::DeploymentState &state, const routing::Refusal &r, routing::Clock::time_point now) {
    static constexpr const char *kWhy[] = {"rpm limit", "tpm limit", "cooling down"};
    const std::string &model = state.deployment().model;
    refusals_ += (refusals_.empty() ? "" : ", ") + model + " (" + kWhy[static_cast<int>(r.kind)] + ", " +
                 duration_text(r.until - now) + " left)";
    provider_ = routing::provider_of(model);
    if (!soonest_ || r.until < soonest_->until) soonest_ = r;
  }

  // A duration as OpenAI writes x-ratelimit-reset-*: "1.5s", "250ms".
  static std::string duration_text(routing::Clock::duration d) {
    const int64_t ms = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    if (ms < 1000) return std::to_string(ms) + "ms";
    std::string s = std::to_string(ms / 1000);
    if (ms % 1000) {
      std::string frac = std::to_string(1000 + ms % 1000).substr(1);
      while (frac.back() == '0') frac.pop_back();
      s += "." + frac;
    }
    return s + "s";
  }

  routing::Route route_;
  const std::string asked_;
  const std::string_view endpoint_;  // a literal
  const bool stream_;
  size_t i_ = 0;
  std::string provider_;                     // of the current attempt
  std::string failed_;                       // "provider/model -> status, ..." of the attempts before
  routing::Lease lease_;                     // the current attempt's hold on its deployment
  std::string refusals_;                     // "provider/model (rpm limit, 12s left), ..." of those passed over
  std::optional<routing::Refusal> soonest_;  // of those passed over, the one with room first
  bool exhausted_ = false;                   // start() found no deployment that may take the call
};

// Runs a call through its route's attempts on a worker (admission may wait here), until one
// answers or Attempts::failed gives up, and then replies with that error. `attempt(target)` makes
// one attempt and replies itself, or throws Error for failed() to judge.
template <class Attempt>
void attempt_in_turn(Attempts &attempts, const routing::Limiter &limiter, Metrics &metrics, Exchange &ex, Request &req,
                     const Host &host, Attempt attempt) {
  for (;;) {
    try {
      std::promise<void> admitted;
      attempts.admit(limiter, [&admitted] { admitted.set_value(); });
      admitted.get_future().wait();
      return attempt(attempts.start(ex, req, host));
    } catch (const Error &e) {
      if (std::optional<Error> final = attempts.failed(e, ex, metrics)) return ex.reply(attempts.reply(*final));
    }
  }
}

}  // namespace llmhost::proxy
