// Prometheus metrics of the proxy: requests and errors by route, model, provider and status;
// a latency histogram by route; tokens by model, provider and kind, reported or estimated;
// requests in flight; plugin reloads; per configured deployment, its calls, tokens, limit hits,
// cooldowns and latency. Text exposition format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "llmhost/host.hpp"
#include "proxy/exchange.hpp"
#include "routing/limiter.hpp"
#include "routing/model_table.hpp"

namespace llmhost::proxy {

class Metrics {
 public:
  static constexpr auto kBuckets = routing::kLatencyBuckets;
  // Distinct (route, model, provider, status) series kept; later ones count as model "other".
  static constexpr size_t kMaxSeries = 5000;

  void started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void finished(const Record &r);
  // One deployment of `model` failed with `status` and the request moved on to the next.
  void deployment_failed(const std::string &model, const std::string &provider, int status);

  // The exposition text; the host's reload counts and provider state, and each configured
  // deployment's (routing/deployment_state.hpp), are read now.
  std::string render(const Host &host, const routing::ModelTable &models, const routing::Limiter &limiter) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  using Key = std::tuple<std::string, std::string, std::string, int>;  // route, model, provider, status
  using KeyView = std::tuple<std::string_view, std::string_view, std::string_view, int>;
  // Orders keys and their views alike, so that a request whose series exists is counted
  // without copying a string.
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A &a, const B &b) const {
      return view(a) < view(b);
    }
    template <class K>
    static KeyView view(const K &k) {
      return {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k)};
    }
  };

  mutable std::mutex mu_;
  std::map<Key, uint64_t, KeyLess> requests_;
  std::map<std::string, Histogram, std::less<>> latency_;                              // by route
  std::map<std::tuple<std::string, std::string, int>, uint64_t> deployment_failures_;  // model, provider, status
  // Tokens by model, provider and whether the host estimated them: {prompt, completion}.
  std::map<std::tuple<std::string, std::string, bool>, std::pair<uint64_t, uint64_t>> tokens_;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace llmhost::proxy
