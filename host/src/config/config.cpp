#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/yaml_json.hpp"
#include "tokens/encoding.hpp"

namespace llmhost::config {
namespace {

namespace fs = std::filesystem;

class Reader {
 public:
  Reader(fs::path file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {
    if (!env_) env_ = [](const char *name) -> const char * { return std::getenv(name); };
  }

  [[noreturn]] void fail(const YAML::Mark &m, const std::string &cause) const {
    throw ConfigError(where(m) + ": " + cause);
  }
  std::string where(const YAML::Mark &m) const {
    std::string w = file_.string();
    if (!m.is_null()) w += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return w;
  }
  void warn(const YAML::Mark &m, const std::string &what) { cfg.warnings.push_back(where(m) + ": " + what); }

  void expect(const YAML::Node &n, YAML::NodeType::value type, const std::string &name, const char *what) const {
    if (n.Type() != type) fail(n.Mark(), "\"" + name + "\" must be " + what);
  }

  std::string scalar(const YAML::Node &n, const std::string &name) const {
    if (!n.IsScalar()) fail(n.Mark(), "\"" + name + "\" must be a string");
    return n.Scalar();
  }

  // A string that may be "os.environ/NAME".
  std::string secret(const YAML::Node &n, const std::string &name) const {
    std::string v = scalar(n, name);
    return resolve_env(n, std::move(v), name);
  }

  std::string resolve_env(const YAML::Node &n, std::string v, const std::string &name) const {
    static constexpr std::string_view kPrefix = "os.environ/";
    if (v.rfind(kPrefix, 0) != 0) return v;
    const std::string var = v.substr(kPrefix.size());
    if (var.empty()) fail(n.Mark(), "\"" + name + "\": os.environ/ needs a variable name");
    const char *value = env_(var.c_str());
    if (!value) fail(n.Mark(), "\"" + name + "\": environment variable " + var + " is not set");
    return value;
  }

  fs::path path(const YAML::Node &n, const std::string &name) const {
    const fs::path p = scalar(n, name);
    return (p.is_absolute() ? p : file_.parent_path() / p).lexically_normal();
  }

  void model_entry(const YAML::Node &entry, size_t index) {
    const std::string at = "model_list[" + std::to_string(index) + "]";
    expect(entry, YAML::NodeType::Map, at, "a mapping with model_name and litellm_params");
    if (!entry["model_name"]) fail(entry.Mark(), at + " is missing \"model_name\"");
    if (!entry["litellm_params"]) fail(entry.Mark(), at + " is missing \"litellm_params\"");
    const std::string name = scalar(entry["model_name"], at + ".model_name");
    if (name.empty()) fail(entry["model_name"].Mark(), at + ".model_name must not be empty");
    for (const auto &kv : entry) {
      const std::string key = kv.first.Scalar();
      if (key != "model_name" && key != "litellm_params" && key != "model_info")
        warn(kv.first.Mark(), "unknown key \"" + at + "." + key + "\" ignored");
    }
    Deployment d = deployment(entry["litellm_params"], at + ".litellm_params");
    d.line = entry.Mark().line + 1;
    for (ModelGroup &g : cfg.models)
      if (g.name == name) return g.deployments.push_back(std::move(d));
    cfg.models.push_back({name, {std::move(d)}});
  }

  Deployment deployment(const YAML::Node &params, const std::string &at) {
    expect(params, YAML::NodeType::Map, at, "a mapping");
    Deployment d;
    std::string extra;
    JsonObjectBuilder builder(extra);
    for (const auto &kv : params) {
      const std::string key = kv.first.Scalar();
      const YAML::Node &v = kv.second;
      const std::string name = at + "." + key;
      if (key == "model") {
        d.model = scalar(v, name);
        const auto slash = d.model.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == d.model.size())
          fail(v.Mark(), "\"" + name + "\" must be provider/model, got \"" + d.model + "\"");
      } else if (key == "api_key") {
        d.api_key = secret(v, name);
      } else if (key == "api_base") {
        d.api_base = secret(v, name);
      } else if (key == "timeout") {
        if (!v.IsScalar() || !parse_number(v.Scalar(), d.timeout_s) || d.timeout_s < 0)
          fail(v.Mark(), "\"" + name + "\" must be a non-negative number of seconds");
      } else if (key == "num_retries") {
        double n = 0;
        if (!v.IsScalar() || !parse_number(v.Scalar(), n) || n < 0 || n > 100 || n != static_cast<uint32_t>(n))
          fail(v.Mark(), "\"" + name + "\" must be an integer in 0..100");
        d.num_retries = static_cast<uint32_t>(n);
      } else if (key == "rpm" || key == "tpm") {
        double n = 0;
        if (!v.IsScalar() || !parse_number(v.Scalar(), n) || n < 1 || n > 1e15 || n != static_cast<uint64_t>(n))
          fail(v.Mark(), "\"" + name + "\" must be a whole number of " + (key == "rpm" ? "requests" : "tokens") +
                             " per minute, at least 1");
        (key == "rpm" ? d.rpm : d.tpm) = static_cast<uint64_t>(n);
      } else if (key == "weight") {
        if (!v.IsScalar() || !parse_number(v.Scalar(), d.weight) || !(d.weight > 0) || d.weight > 1e9)
          fail(v.Mark(), "\"" + name + "\" must be a number greater than 0");
      } else {
        builder.add(key, v,
                    [&](const YAML::Node &node, std::string s) { return resolve_env(node, std::move(s), name); });
      }
    }
    if (d.model.empty()) fail(params.Mark(), at + " is missing \"model\" (provider/model)");
    if (!builder.empty()) d.extra_json = builder.finish();
    return d;
  }

  void litellm_settings(const YAML::Node &n) {
    expect(n, YAML::NodeType::Map, "litellm_settings", "a mapping");
    for (const auto &kv : n) {
      const std::string key = kv.first.Scalar();
      if (key == "fallbacks") {
        fallbacks(kv.second);
        continue;
      }
      if (key != "custom_provider_map") {
        warn(kv.first.Mark(), "litellm_settings." + key + " is not supported and is ignored");
        continue;
      }
      expect(kv.second, YAML::NodeType::Sequence, "litellm_settings.custom_provider_map", "a list");
      size_t i = 0;
      for (const YAML::Node &e : kv.second) {
        const std::string at = "custom_provider_map[" + std::to_string(i++) + "]";
        expect(e, YAML::NodeType::Map, at, "a mapping with provider and custom_handler");
        if (!e["provider"]) fail(e.Mark(), at + " is missing \"provider\"");
        if (!e["custom_handler"]) fail(e.Mark(), at + " is missing \"custom_handler\"");
        CustomProvider cp{scalar(e["provider"], at + ".provider"),
                          path(e["custom_handler"], at + ".custom_handler"),
                          e.Mark().line + 1,
                          {},
                          {}};
        for (const auto &field : e) {
          const std::string name = field.first.Scalar();
          if (name == "isolation")
            cp.isolation = isolation(field.second, at + ".isolation");
          else if (name == "max_memory_mb")
            cp.max_memory_mb = megabytes(field.second, at + ".max_memory_mb");
          else if (name != "provider" && name != "custom_handler")
            warn(field.first.Mark(), at + "." + name + " is not supported and is ignored");
        }
        std::error_code ec;
        if (!fs::is_regular_file(cp.file, ec))
          fail(e["custom_handler"].Mark(), at + ".custom_handler: no such file: " + cp.file.string());
        cfg.custom_providers.push_back(std::move(cp));
      }
    }
  }

  // [{"model-a": ["model-b", ...]}, ...]; names are checked once the whole file is read.
  void fallbacks(const YAML::Node &n) {
    if (n.IsNull()) return;
    expect(n, YAML::NodeType::Sequence, "litellm_settings.fallbacks", "a list of {model_name: [fallback names]}");
    for (const YAML::Node &e : n) {
      if (!e.IsMap() || e.size() != 1)
        fail(e.Mark(), "each litellm_settings.fallbacks entry must be {model_name: [fallback names]}");
      const auto kv = *e.begin();
      Fallback f{scalar(kv.first, "litellm_settings.fallbacks key"), {}};
      const std::string at = "litellm_settings.fallbacks." + f.model;
      if (kv.second.IsScalar()) {
        f.to.push_back(kv.second.Scalar());
      } else {
        expect(kv.second, YAML::NodeType::Sequence, at, "a list of model names");
        for (const YAML::Node &to : kv.second) f.to.push_back(scalar(to, at));
      }
      fallback_marks_.push_back(e.Mark());
      cfg.fallbacks.push_back(std::move(f));
    }
  }

  // A fallback may only name configured models, and never the model itself.
  void check_fallbacks() const {
    auto configured = [&](const std::string &name) {
      for (const ModelGroup &g : cfg.models)
        if (g.name == name) return true;
      return false;
    };
    for (size_t i = 0; i < cfg.fallbacks.size(); ++i) {
      const Fallback &f = cfg.fallbacks[i];
      if (!configured(f.model))
        fail(fallback_marks_[i], "litellm_settings.fallbacks: \"" + f.model + "\" is not a model_name in model_list");
      for (const std::string &to : f.to) {
        if (to == f.model)
          fail(fallback_marks_[i], "litellm_settings.fallbacks: \"" + f.model + "\" falls back to itself");
        if (!configured(to))
          fail(fallback_marks_[i],
               "litellm_settings.fallbacks." + f.model + ": \"" + to + "\" is not a model_name in model_list");
      }
    }
  }

  void router_settings(const YAML::Node &n) {
    expect(n, YAML::NodeType::Map, "router_settings", "a mapping");
    RedisSettings redis;
    std::optional<YAML::Mark> port_mark;
    static constexpr std::pair<std::string_view, RoutingStrategy> kStrategies[] = {
        {"simple-shuffle", RoutingStrategy::kSimpleShuffle},
        {"least-busy", RoutingStrategy::kLeastBusy},
        {"latency-based-routing", RoutingStrategy::kLatencyBased},
        {"usage-based-routing", RoutingStrategy::kUsageBased},
        {"usage-based-routing-v2", RoutingStrategy::kUsageBased},
        {"round-robin", RoutingStrategy::kRoundRobin}};
    for (const auto &kv : n) {
      const std::string key = kv.first.Scalar();
      const YAML::Node &v = kv.second;
      const std::string name = "router_settings." + key;
      if (key == "routing_strategy") {
        const auto *known = std::find_if(std::begin(kStrategies), std::end(kStrategies),
                                         [&](const auto &s) { return v.IsScalar() && s.first == v.Scalar(); });
        if (known == std::end(kStrategies)) {
          std::string names;
          for (const auto &s : kStrategies) names += (names.empty() ? "" : ", ") + std::string(s.first);
          fail(v.Mark(), "\"" + name + "\" must be one of " + names +
                             (v.IsScalar() ? "; got \"" + v.Scalar() + "\"" : std::string()));
        }
        cfg.router.strategy = known->second;
      } else if (key == "allowed_fails") {
        double f = 0;
        if (!v.IsScalar() || !parse_number(v.Scalar(), f) || f < 0 || f > 1e6 || f != static_cast<uint32_t>(f))
          fail(v.Mark(), "\"" + name + "\" must be a whole number >= 0");
        cfg.router.allowed_fails = static_cast<uint32_t>(f);
      } else if (key == "cooldown_time") {
        if (!v.IsScalar() || !parse_number(v.Scalar(), cfg.router.cooldown_time_s) || cfg.router.cooldown_time_s < 0 ||
            cfg.router.cooldown_time_s > 86400)
          fail(v.Mark(), "\"" + name + "\" must be a number of seconds in 0..86400");
      } else if (key == "redis_url") {
        redis_url(v, secret(v, name), redis);
      } else if (key == "redis_host") {
        redis.host = secret(v, name);
        if (redis.host.empty()) fail(v.Mark(), "\"" + name + "\" is empty");
      } else if (key == "redis_port") {
        double p = 0;
        if (!v.IsScalar() || !parse_number(resolve_env(v, v.Scalar(), name), p) || p < 1 || p > 65535 ||
            p != static_cast<uint16_t>(p))
          fail(v.Mark(), "\"" + name + "\" must be a port number in 1..65535");
        redis.port = static_cast<uint16_t>(p);
        port_mark = v.Mark();
      } else if (key == "redis_password") {
        redis.password = secret(v, name);
      } else if (key == "redis_timeout") {
        if (!v.IsScalar() || !parse_number(v.Scalar(), redis.timeout_s) || !(redis.timeout_s > 0) ||
            redis.timeout_s > 60)
          fail(v.Mark(), "\"" + name + "\" must be a number of seconds in (0, 60]");
      } else {
        warn(kv.first.Mark(), name + " is not supported and is ignored");
      }
    }
    if (!redis.host.empty()) {
      cfg.router.redis = std::move(redis);
    } else if (port_mark || !redis.password.empty()) {
      fail(port_mark ? *port_mark : n.Mark(),
           "router_settings.redis_port and redis_password need router_settings.redis_host (or redis_url)");
    }
  }

  // redis://[[username]:password@]host[:port][/db], as LiteLLM and redis-py read it.
  void redis_url(const YAML::Node &v, const std::string &url, RedisSettings &out) const {
    auto bad = [&](const std::string &why) {
      fail(v.Mark(),
           "\"router_settings.redis_url\": " + why + " (expected redis://[[user]:password@]host[:port][/db])");
    };
    static constexpr std::string_view kScheme = "redis://";
    if (url.rfind("rediss://", 0) == 0)
      bad("TLS (rediss://) is not supported: Debian 12's hiredis 0.14 has no TLS; reach Redis through a TLS tunnel");
    if (url.rfind(kScheme, 0) != 0) bad("it must start with redis://");
    std::string rest = url.substr(kScheme.size());
    if (const size_t at = rest.rfind('@'); at != std::string::npos) {
      const std::string auth = rest.substr(0, at);
      rest = rest.substr(at + 1);
      const size_t colon = auth.find(':');
      if (colon == std::string::npos) {
        out.password = auth;
      } else {
        out.username = auth.substr(0, colon);
        out.password = auth.substr(colon + 1);
      }
    }
    if (const size_t slash = rest.find('/'); slash != std::string::npos) {
      const std::string db = rest.substr(slash + 1);
      double d = 0;
      if (!db.empty() && (!parse_number(db, d) || d < 0 || d > 1e6 || d != static_cast<uint32_t>(d)))
        bad("the database \"" + db + "\" is not a number");
      out.db = static_cast<uint32_t>(d);
      rest = rest.substr(0, slash);
    }
    const size_t colon = rest.rfind(':');
    if (const size_t bracket = rest.find(']');
        colon != std::string::npos && (bracket == std::string::npos || bracket < colon)) {
      double p = 0;
      const std::string port = rest.substr(colon + 1);
      if (!parse_number(port, p) || p < 1 || p > 65535 || p != static_cast<uint16_t>(p))
        bad("the port \"" + port + "\" is not in 1..65535");
      out.port = static_cast<uint16_t>(p);
      rest = rest.substr(0, colon);
    }
    if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
    if (rest.empty()) bad("it names no host");
    out.host = rest;
  }

  void general_settings(const YAML::Node &n) {
    expect(n, YAML::NodeType::Map, "general_settings", "a mapping");
    for (const auto &kv : n) {
      const std::string key = kv.first.Scalar();
      const YAML::Node &v = kv.second;
      if (key == "master_key") {
        if (!v.IsNull()) cfg.master_key = secret(v, "general_settings.master_key");
      } else if (key == "plugin_dirs") {
        expect(v, YAML::NodeType::Sequence, "general_settings.plugin_dirs", "a list of folders");
        for (const YAML::Node &d : v) {
          fs::path p = path(d, "general_settings.plugin_dirs");
          std::error_code ec;
          if (!fs::is_directory(p, ec)) fail(d.Mark(), "general_settings.plugin_dirs: no such folder: " + p.string());
          cfg.plugin_dirs.push_back(std::move(p));
        }
      } else if (key == "plugin_isolation") {
        cfg.plugin_isolation = isolation(v, "general_settings.plugin_isolation");
      } else if (key == "plugin_max_memory_mb") {
        cfg.plugin_max_memory_mb = megabytes(v, "general_settings.plugin_max_memory_mb");
      } else if (limit(key, v)) {
      } else if (key == "direct_provider_routing") {
        cfg.direct_routing = boolean(v, "general_settings.direct_provider_routing");
      } else if (key == "estimate_usage") {
        cfg.estimate_usage = boolean(v, "general_settings.estimate_usage");
      } else if (key == "default_encoding") {
        const auto &known = detail::tokens::Encoding::names();
        if (!v.IsScalar() || std::find(known.begin(), known.end(), v.Scalar()) == known.end()) {
          std::string names;
          for (std::string_view n : known) names += (names.empty() ? "" : " or ") + std::string(n);
          fail(v.Mark(), "\"general_settings.default_encoding\" must be " + names);
        }
        cfg.default_encoding = v.Scalar();
      } else {
        warn(kv.first.Mark(), "general_settings." + key + " is not supported and is ignored");
      }
    }
  }

  bool boolean(const YAML::Node &v, const std::string &name) const {
    bool b = false;
    if (!v.IsScalar() || !parse_bool(v.Scalar(), b)) fail(v.Mark(), "\"" + name + "\" must be true or false");
    return b;
  }

  Isolation isolation(const YAML::Node &v, const std::string &name) const {
    Isolation out;
    if (!v.IsScalar() || !parse_isolation(v.Scalar(), out))
      fail(v.Mark(), "\"" + name + "\" must be process or in_process");
    return out;
  }

  size_t megabytes(const YAML::Node &v, const std::string &name) const {
    double d = 0;
    if (!v.IsScalar() || !parse_number(v.Scalar(), d) || d < 1 || d > 1e7 || d != static_cast<size_t>(d))
      fail(v.Mark(), "\"" + name + "\" must be a whole number of MiB, at least 1");
    return static_cast<size_t>(d);
  }

  // A general_settings number (a limit, or how isolated plugins are supervised); false when
  // `key` is not one.
  bool limit(const std::string &key, const YAML::Node &v) {
    Limits &l = cfg.limits;
    const std::string name = "general_settings." + key;
    auto number = [&](std::optional<double> &out, bool positive) {
      double d = 0;
      if (!v.IsScalar() || !parse_number(v.Scalar(), d) || !(d >= 0) || d > 1e7 || (positive && d == 0))
        fail(v.Mark(), "\"" + name + "\" must be a " + (positive ? "positive" : "non-negative") + " number");
      out = d;
    };
    auto count = [&](std::optional<uint32_t> &out) {
      double d = 0;
      if (!v.IsScalar() || !parse_number(v.Scalar(), d) || d < 0 || d > 1e9 || d != static_cast<uint32_t>(d))
        fail(v.Mark(), "\"" + name + "\" must be a whole number >= 0");
      out = static_cast<uint32_t>(d);
    };
    if (key == "max_body_mb" || key == "max_request_size_mb")
      number(l.max_body_mb, true);
    else if (key == "max_header_kb")
      number(l.max_header_kb, true);
    else if (key == "max_header_count")
      count(l.max_header_count);
    else if (key == "max_connections") {
      count(l.max_connections);
      if (*l.max_connections == 0) fail(v.Mark(), "\"" + name + "\" must be at least 1");
    } else if (key == "max_messages")
      count(l.max_messages);
    else if (key == "idle_timeout")
      number(l.idle_timeout_s, true);
    else if (key == "request_timeout")
      number(l.request_timeout_s, false);
    else if (key == "stream_idle_timeout")
      number(l.stream_idle_timeout_s, false);
    else if (key == "max_stream_duration")
      number(l.max_stream_duration_s, false);
    else if (key == "plugin_crash_loop_crashes") {
      count(cfg.plugin_crash_loop_crashes);
      if (*cfg.plugin_crash_loop_crashes == 0) fail(v.Mark(), "\"" + name + "\" must be at least 1");
    } else if (key == "plugin_crash_loop_window")
      number(cfg.plugin_crash_loop_window_s, true);
    else if (key == "plugin_hang_grace")
      number(cfg.plugin_hang_grace_s, false);
    else if (key == "plugin_removal_grace")
      number(cfg.plugin_removal_grace_s, false);
    else
      return false;
    return true;
  }

  void document(const YAML::Node &root) {
    if (!root || root.IsNull()) return;
    expect(root, YAML::NodeType::Map, "the config", "a mapping (model_list, litellm_settings, general_settings)");
    for (const auto &kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node &v = kv.second;
      if (key == "model_list") {
        if (v.IsNull()) continue;
        expect(v, YAML::NodeType::Sequence, "model_list", "a list");
        for (size_t i = 0; i < v.size(); ++i) model_entry(v[i], i);
      } else if (key == "litellm_settings") {
        if (!v.IsNull()) litellm_settings(v);
      } else if (key == "general_settings") {
        if (!v.IsNull()) general_settings(v);
      } else if (key == "router_settings") {
        if (!v.IsNull()) router_settings(v);
      } else {
        warn(kv.first.Mark(), "top-level key \"" + key + "\" is not supported and is ignored");
      }
    }
    check_fallbacks();
  }

  Config cfg;

 private:
  fs::path file_;
  EnvLookup env_;
  std::vector<YAML::Mark> fallback_marks_;  // where each cfg.fallbacks entry is
};

}  // namespace

Config parse(const std::string &yaml_text, const std::filesystem::path &file, const EnvLookup &env) {
  Reader reader(file, env);
  reader.cfg.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception &e) {
    reader.fail(e.mark, "invalid YAML: " + e.msg);
  }
  try {
    reader.document(root);
  } catch (const YAML::Exception &e) {  // e.g. a key that is not a scalar
    reader.fail(e.mark, e.msg);
  }
  return std::move(reader.cfg);
}

Config load(const std::filesystem::path &file, const EnvLookup &env) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), std::filesystem::absolute(file), env);
}

}  // namespace llmhost::config
