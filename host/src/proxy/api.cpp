#include "proxy/api.hpp"

#include <algorithm>
#include <array>

#include "json/writer.hpp"
#include "openai/response.hpp"
#include "proxy/error_reply.hpp"

namespace llmhost::proxy {
namespace {

// Constant-time comparison, so the key cannot be guessed byte by byte from timings.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

struct Endpoint {
  std::string_view path;  // without the /v1 prefix
  std::string_view method;
  std::string_view route;  // the label
  bool api;                // needs the master key; also served under /v1
};

constexpr std::array<Endpoint, 12> kEndpoints = {{
    {"/chat/completions", "POST", "/v1/chat/completions", true},
    {"/completions", "POST", "/v1/completions", true},
    {"/embeddings", "POST", "/v1/embeddings", true},
    {"/rerank", "POST", "/v1/rerank", true},
    {"/images/generations", "POST", "/v1/images/generations", true},
    {"/images/edits", "POST", "/v1/images/edits", true},
    {"/utils/token_counter", "POST", "/utils/token_counter", true},  // LiteLLM's path
    {"/models", "GET", "/v1/models", true},
    {"/health/liveliness", "GET", "/health/liveliness", false},
    {"/health/liveness", "GET", "/health/liveliness", false},
    {"/health/readiness", "GET", "/health/readiness", false},
    {"/metrics", "GET", "/metrics", false},
}};

const Endpoint *find_endpoint(std::string_view path) {
  const bool v1 = path.rfind("/v1/", 0) == 0;
  const std::string_view rest = v1 ? path.substr(3) : path;
  for (const Endpoint &e : kEndpoints)
    if (e.path == rest && (e.api || !v1)) return &e;
  return nullptr;
}

}  // namespace

Api::Api(Host &host, const routing::ModelTable &models, const routing::Limiter &limiter, Metrics &metrics,
         PostWork post_work, ApiOptions options)
    : host_(host),
      models_(models),
      limiter_(limiter),
      metrics_(metrics),
      post_work_(std::move(post_work)),
      options_(std::move(options)) {}

bool Api::authorized(const Incoming &in) const {
  if (options_.master_key.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view h = in.authorization;
  if (h.size() <= kBearer.size() || h.substr(0, kBearer.size()) != kBearer) return false;
  return same_secret(h.substr(kBearer.size()), options_.master_key);
}

void Api::handle(std::shared_ptr<Exchange> ex) {
  const Incoming &in = ex->request();
  const Endpoint *e = find_endpoint(in.path);
  if (!e) return ex->reply(error_reply(404, "no route " + in.method + " " + in.path, {}, "unknown_route"));
  if (in.method != e->method) {
    Reply r =
        error_reply(405, "method " + in.method + " is not allowed on " + in.path + "; use " + std::string(e->method));
    r.headers.emplace_back("Allow", e->method);
    ex->label(std::string(e->route), {}, {}, false);
    return ex->reply(std::move(r));
  }
  if (e->api && !authorized(in)) {
    const bool missing = in.authorization.empty();
    ex->label(std::string(e->route), {}, {}, false);
    return ex->reply(error_reply(401, missing ? "missing API key: send Authorization: Bearer <key>"
                                              : "invalid API key in the Authorization header"));
  }
  if (e->route == "/v1/chat/completions") return chat(std::move(ex));
  if (e->route == "/v1/embeddings") return post_work_([this, ex] { embeddings(ex); });
  if (e->route == "/v1/completions") return post_work_([this, ex] { text_completions(ex); });
  if (e->route == "/v1/rerank") return post_work_([this, ex] { rerank(ex); });
  if (e->route == "/v1/images/generations") return post_work_([this, ex] { images(ex, false); });
  if (e->route == "/v1/images/edits") return post_work_([this, ex] { images(ex, true); });
  if (e->route == "/utils/token_counter") return post_work_([this, ex] { token_counter(ex); });
  // The calls above are labelled once their model is known (by the attempt that runs them, with
  // its provider); everything else here.
  ex->label(std::string(e->route), {}, {}, false);
  Reply r;
  if (e->route == "/v1/models") {
    models_.write_list(r.body, host_.providers(), openai::unix_now());
  } else if (e->route == "/health/liveliness") {
    r.body = "\"I'm alive!\"";
  } else if (e->route == "/health/readiness") {
    return readiness(*ex);
  } else {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(host_, models_, limiter_);
  }
  ex->reply(std::move(r));
}

void Api::readiness(Exchange &ex) {
  const auto providers = host_.providers();
  const auto errors = host_.load_errors();
  const auto workers = host_.workers();
  // An isolated provider restarting or crashing in a loop degrades the instance, but the others
  // still serve: it stays in the load balancer (200).
  const bool degraded = std::any_of(workers.begin(), workers.end(), [](const WorkerStatus &s) {
    return s.state == "restarting" || s.state == "unavailable";
  });
  Reply r;
  r.status = providers.empty() ? 503 : 200;
  json::Writer w(r.body);
  w.begin_object().member("status", providers.empty() ? "unhealthy" : degraded ? "degraded" : "healthy");
  w.key("providers").begin_array();
  for (const ProviderInfo &p : providers) {
    w.begin_object().member("name", p.name).member("version", p.version).member("file", p.file);
    w.member("isolation", to_string(p.isolation));
    for (const WorkerStatus &s : workers) {
      if (s.provider != p.name) continue;
      w.key("worker").begin_object().member("state", s.state).key("pid").value(static_cast<int64_t>(s.pid));
      w.key("starts").value(static_cast<int64_t>(s.starts)).key("crashes").begin_object();
      for (const auto &[reason, n] : s.crashes) w.key(reason).value(static_cast<int64_t>(n));
      w.end_object().member("last_crash", s.last_crash).end_object();
    }
    w.end_object();
  }
  w.end_array().key("load_errors").begin_array();
  for (const LoadError &e : errors)
    w.begin_object().member("kind", to_string(e.kind)).member("file", e.file).member("message", e.message).end_object();
  w.end_array().key("models").begin_array();
  for (const std::string &n : models_.names(providers)) w.value(n);
  w.end_array().end_object();
  ex.reply(std::move(r));
}

}  // namespace llmhost::proxy
