#include "proxy/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace llmhost::proxy {
namespace {

void label_value(std::string &out, std::string_view v) {
  out += '"';
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void help(std::string &out, const char *name, const char *type, const char *text) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += text;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

void Metrics::finished(const Record &r) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const std::string_view route = r.route.empty() ? std::string_view("unmatched") : std::string_view(r.route);
  KeyView key{route, r.model, r.provider, r.status};
  const double seconds = std::chrono::duration<double>(r.latency).count();
  std::lock_guard lock(mu_);
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    if (requests_.size() >= kMaxSeries) std::get<1>(key) = "other";
    it = requests_.find(key);
    if (it == requests_.end()) it = requests_.emplace(Key(key), 0).first;
  }
  ++it->second;
  auto h_it = latency_.find(route);
  if (h_it == latency_.end()) h_it = latency_.emplace(std::string(route), Histogram{}).first;
  Histogram &h = h_it->second;
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  if (b < kBuckets.size()) ++h.counts[b];
  ++h.count;
  h.sum += seconds;
  if (r.usage) {
    std::tuple<std::string, std::string, bool> token_key{std::get<1>(key), r.provider, r.usage->estimated};
    if (tokens_.size() >= kMaxSeries && !tokens_.contains(token_key)) std::get<0>(token_key) = "other";
    auto &[prompt, completion] = tokens_[std::move(token_key)];
    prompt += static_cast<uint64_t>(std::max<int64_t>(0, r.usage->prompt_tokens));
    completion += static_cast<uint64_t>(std::max<int64_t>(0, r.usage->completion_tokens));
  }
}

void Metrics::deployment_failed(const std::string &model, const std::string &provider, int status) {
  std::lock_guard lock(mu_);
  std::tuple<std::string, std::string, int> key{model, provider, status};
  if (!deployment_failures_.count(key) && deployment_failures_.size() >= kMaxSeries) std::get<0>(key) = "other";
  ++deployment_failures_[key];
}

namespace {

// One histogram's series: cumulative buckets, +Inf, sum and count. `counts` are per bucket.
void histogram(std::string &out, std::string_view name, const std::string &labels,
               const std::array<uint64_t, Metrics::kBuckets.size()> &counts, uint64_t count, double sum) {
  const std::string head = std::string(name) + "_bucket{" + labels + ",le=\"";
  uint64_t cumulative = 0;
  for (size_t b = 0; b < Metrics::kBuckets.size(); ++b) {
    cumulative += counts[b];
    out += head + number(Metrics::kBuckets[b]) + "\"} " + std::to_string(cumulative) + '\n';
  }
  out += head + "+Inf\"} " + std::to_string(count) + '\n';
  out += std::string(name) + "_sum{" + labels + "} " + number(sum) + '\n';
  out += std::string(name) + "_count{" + labels + "} " + std::to_string(count) + '\n';
}

void deployments(std::string &out, const routing::ModelTable &models) {
  struct Row {
    std::string labels;
    routing::DeploymentState::Counts counts;
    uint64_t in_flight;
  };
  std::vector<Row> rows;
  models.each_deployment([&](const std::string &name, const routing::DeploymentState &s) {
    Row r{"model_name=", s.counts(), s.in_flight()};
    label_value(r.labels, name);
    r.labels += ",deployment=";
    label_value(r.labels, s.deployment().model);
    rows.push_back(std::move(r));
  });
  auto each = [&](const char *name, const char *type, const char *what, auto value) {
    help(out, name, type, what);
    for (const Row &r : rows) out += std::string(name) + "{" + r.labels + "} " + std::to_string(value(r)) + '\n';
  };
  each("llmhost_deployment_requests_total", "counter", "Calls each configured deployment took (model_list).",
       [](const Row &r) { return r.counts.requests; });
  each("llmhost_deployment_tokens_total", "counter",
       "Tokens of each deployment's answered calls (total_tokens), as its tpm counts them.",
       [](const Row &r) { return r.counts.tokens; });
  each("llmhost_deployment_cooldowns_total", "counter",
       "Times a deployment was rested for cooldown_time after more than allowed_fails failures in a minute.",
       [](const Row &r) { return r.counts.cooldowns; });
  each("llmhost_deployment_in_flight", "gauge", "Calls each deployment has in flight now.",
       [](const Row &r) { return r.in_flight; });
  help(out, "llmhost_deployment_limited_total", "counter",
       "Requests that passed a deployment over, by why: its rpm or tpm limit, or its cooldown.");
  for (const Row &r : rows)
    for (size_t k = 0; k < 3; ++k)
      out += "llmhost_deployment_limited_total{" + r.labels + ",limit=\"" + std::array{"rpm", "tpm", "cooldown"}[k] +
             "\"} " + std::to_string(r.counts.refused[k]) + '\n';
  help(out, "llmhost_deployment_latency_seconds", "histogram",
       "Time each deployment's answered calls took (a stream's to its end); latency-based-routing orders by "
       "its recent average.");
  for (const Row &r : rows)
    histogram(out, "llmhost_deployment_latency_seconds", r.labels, r.counts.latency_buckets, r.counts.latency_count,
              r.counts.latency_sum);
}

}  // namespace

std::string Metrics::render(const Host &host, const routing::ModelTable &models,
                            const routing::Limiter &limiter) const {
  std::string out;
  auto series = [&](const char *name, const Key &k) {
    out += name;
    out += "{route=";
    label_value(out, std::get<0>(k));
    out += ",model=";
    label_value(out, std::get<1>(k));
    out += ",provider=";
    label_value(out, std::get<2>(k));
    out += ",status=\"" + std::to_string(std::get<3>(k)) + "\"}";
  };
  {
    std::lock_guard lock(mu_);
    help(out, "llmhost_requests_total", "counter", "HTTP requests answered, by route, model, provider and status.");
    for (const auto &[k, n] : requests_) series("llmhost_requests_total", k), out += ' ' + std::to_string(n) + '\n';
    help(out, "llmhost_request_errors_total", "counter", "Requests answered with a status of 400 or more.");
    for (const auto &[k, n] : requests_)
      if (std::get<3>(k) >= 400) series("llmhost_request_errors_total", k), out += ' ' + std::to_string(n) + '\n';
    help(out, "llmhost_request_duration_seconds", "histogram", "Time from request read to response written.");
    for (const auto &[route, h] : latency_) {
      std::string labels = "route=";
      label_value(labels, route);
      histogram(out, "llmhost_request_duration_seconds", labels, h.counts, h.count, h.sum);
    }
    help(out, "llmhost_deployment_failures_total", "counter",
         "Deployment attempts that failed and were followed by another deployment, by model, provider and status.");
    for (const auto &[k, n] : deployment_failures_) {
      out += "llmhost_deployment_failures_total{model=";
      label_value(out, std::get<0>(k));
      out += ",provider=";
      label_value(out, std::get<1>(k));
      out += ",status=\"" + std::to_string(std::get<2>(k)) + "\"} " + std::to_string(n) + '\n';
    }
    help(out, "llmhost_tokens_total", "counter",
         "Tokens of completions and streams, by model, provider, type (prompt, completion) and usage (reported by "
         "the provider, or estimated by the host).");
    for (const auto &[k, n] : tokens_) {
      for (auto [type, count] : {std::pair{"prompt", n.first}, {"completion", n.second}}) {
        out += "llmhost_tokens_total{model=";
        label_value(out, std::get<0>(k));
        out += ",provider=";
        label_value(out, std::get<1>(k));
        out += std::string(",type=\"") + type + "\",usage=\"" + (std::get<2>(k) ? "estimated" : "reported") + "\"} " +
               std::to_string(count) + '\n';
      }
    }
  }
  deployments(out, models);
  if (const std::optional<bool> up = limiter.shared_up()) {
    help(out, "llmhost_redis_up", "gauge",
         "1 while Redis answers and limits are shared; 0 while they count in this process only.");
    out += std::string("llmhost_redis_up ") + (*up ? "1" : "0") + '\n';
  }
  help(out, "llmhost_requests_in_flight", "gauge", "Requests being handled now (the scrape itself included).");
  out += "llmhost_requests_in_flight " + std::to_string(in_flight_.load(std::memory_order_relaxed)) + '\n';

  const ReloadStats s = host.reload_stats();
  help(out, "llmhost_plugin_reloads_total", "counter",
       "Plugin load events since start, by kind (initial loads included).");
  for (auto [kind, n] : {std::pair{"loaded", s.loaded},
                         {"replaced", s.replaced},
                         {"removed", s.removed},
                         {"failed", s.failed},
                         {"gone", s.gone}})
    out += std::string("llmhost_plugin_reloads_total{kind=\"") + kind + "\"} " + std::to_string(n) + '\n';
  help(out, "llmhost_providers_loaded", "gauge", "Providers serving now.");
  out += "llmhost_providers_loaded " + std::to_string(host.providers().size()) + '\n';
  help(out, "llmhost_plugin_load_errors", "gauge", "Plugin files refused now.");
  out += "llmhost_plugin_load_errors " + std::to_string(host.load_errors().size()) + '\n';

  const std::vector<WorkerStatus> workers = host.workers();
  help(out, "llmhost_plugin_crashes_total", "counter",
       "Worker processes of the isolated plugins' builds serving now that crashed, exited or were killed, by "
       "provider and reason (signal, exit, hang, protocol, start).");
  for (const WorkerStatus &w : workers)
    for (const auto &[reason, n] : w.crashes) {
      out += "llmhost_plugin_crashes_total{provider=";
      label_value(out, w.provider);
      out += ",reason=";
      label_value(out, reason);
      out += "} " + std::to_string(n) + '\n';
    }
  help(out, "llmhost_plugin_workers", "gauge",
       "Isolated plugins' worker processes by provider and state (starting, running, restarting, unavailable): 1 "
       "for the state each is in.");
  for (const WorkerStatus &w : workers)
    for (const char *state : {"starting", "running", "restarting", "unavailable"}) {
      out += "llmhost_plugin_workers{provider=";
      label_value(out, w.provider);
      out += std::string(",state=\"") + state + "\"} " + (w.state == state ? "1" : "0") + '\n';
    }
  return out;
}

}  // namespace llmhost::proxy
