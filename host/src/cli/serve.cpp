#include "cli/serve.hpp"

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <system_error>
#include <thread>

#include "config/config.hpp"
#include "llmhost/host.hpp"
#include "proxy/access_log.hpp"
#include "proxy/api.hpp"
#include "proxy/metrics.hpp"
#include "proxy/server.hpp"
#include "routing/limiter.hpp"
#include "routing/model_table.hpp"
#include "routing/shared_limits.hpp"

namespace llmhost::cli {
namespace {

namespace net = boost::asio;

void say(const std::string &line) {
  std::string l = "llmhost: " + line + "\n";
  std::fwrite(l.data(), 1, l.size(), stderr);
}

void log_reload(const ReloadEvent &e) {
  std::string line = "reload: " + std::string(to_string(e.kind)) + " " + e.name;
  if (!e.old_version.empty() && !e.new_version.empty())
    line += " " + e.old_version + " -> " + e.new_version;
  else if (!e.old_version.empty() || !e.new_version.empty())
    line += " " + e.old_version + e.new_version;
  line += " (" + e.file + ")";
  if (!e.message.empty()) line += ": " + e.message;
  say(line);
}

// Every custom_provider_map entry must have loaded under the name it gives.
bool check_custom_providers(const config::Config &cfg, const Host &host) {
  const auto providers = host.providers();
  const auto errors = host.load_errors();
  bool ok = true;
  for (const config::CustomProvider &cp : cfg.custom_providers) {
    if (std::any_of(providers.begin(), providers.end(), [&](const ProviderInfo &p) { return p.name == cp.provider; }))
      continue;
    std::string cause = "the file loaded but does not declare provider \"" + cp.provider + "\"";
    for (const LoadError &e : errors)
      if (std::filesystem::path(e.file) == cp.file) cause = e.message;
    say("config error: " + cfg.file.string() + ":" + std::to_string(cp.line) + ": custom_provider_map provider \"" +
        cp.provider + "\" (" + cp.file.string() + "): " + cause);
    ok = false;
  }
  return ok;
}

void warn_unrouted(const config::Config &cfg, const Host &host) {
  const auto providers = host.providers();
  for (const config::ModelGroup &g : cfg.models)
    for (const config::Deployment &d : g.deployments) {
      const std::string provider = d.model.substr(0, d.model.find('/'));
      if (std::none_of(providers.begin(), providers.end(), [&](const ProviderInfo &p) { return p.name == provider; }))
        say("warning: " + cfg.file.string() + ":" + std::to_string(d.line) + ": model \"" + g.name +
            "\" uses provider \"" + provider + "\", which is not loaded (requests get 404 until it is)");
    }
}

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(seconds, 1e7) * 1000));
}

// A flag given on the command line, else the config's general_settings value, else `fallback`.
double pick(double flag, const std::optional<double> &config, double fallback) {
  return flag >= 0 ? flag : config ? *config : fallback;
}
uint32_t pick(int64_t flag, const std::optional<uint32_t> &config, uint32_t fallback) {
  return flag >= 0 ? static_cast<uint32_t>(flag) : config ? *config : fallback;
}

void apply_limits(const ServeOptions &o, const config::Limits &c, proxy::ServerOptions &s) {
  using seconds = std::chrono::duration<double>;
  auto secs = [](std::chrono::milliseconds d) { return std::chrono::duration_cast<seconds>(d).count(); };
  s.max_body_bytes =
      static_cast<uint64_t>(pick(o.max_body_mb, c.max_body_mb, double(s.max_body_bytes) / (1 << 20)) * (1 << 20));
  s.max_header_bytes = static_cast<uint32_t>(
      std::min(pick(o.max_header_kb, c.max_header_kb, s.max_header_bytes / 1024.0), 4.0 * (1 << 20)) * 1024);
  s.max_header_count = pick(o.max_header_count, c.max_header_count, s.max_header_count);
  s.max_connections = pick(o.max_connections, c.max_connections, static_cast<uint32_t>(s.max_connections));
  s.max_messages = pick(o.max_messages, c.max_messages, s.max_messages);
  s.idle_timeout = millis(pick(o.idle_timeout_s, c.idle_timeout_s, secs(s.idle_timeout)));
  s.request_timeout = millis(pick(o.request_timeout_s, c.request_timeout_s, secs(s.request_timeout)));
  s.stream_idle_timeout = millis(pick(o.stream_idle_timeout_s, c.stream_idle_timeout_s, secs(s.stream_idle_timeout)));
  s.max_stream_duration = millis(pick(o.max_stream_duration_s, c.max_stream_duration_s, secs(s.max_stream_duration)));
}

// A gateway holds two descriptors per proxied call (the client's connection and the upstream's),
// so a soft limit of 1024 (systemd's and most shells' default) would fail calls at ~500 open
// streams. Like Go's runtime and nginx's worker_rlimit_nofile, raise it to the hard limit, and
// say when even that is short of what --max-connections asks.
void raise_descriptor_limit(size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const rlim_t needed = 2 * static_cast<rlim_t>(max_connections) + 64;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed)
    say("warning: --max-connections " + std::to_string(max_connections) + " may need " + std::to_string(needed) +
        " file descriptors (a client and an upstream connection each), but this process may open " +
        std::to_string(lim.rlim_cur) +
        " (ulimit -n); past that, new connections wait and upstream calls fail with "
        "\"Too many open files\"");
}

// The first requests should count where every later one does: give Redis a moment to answer
// before serving. Past that, serve starts anyway (the client warned, and counts in process
// until Redis answers).
void wait_for_redis(proxy::Server &server, const routing::SharedLimits &shared, const config::RedisSettings &r) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::max<std::chrono::steady_clock::duration>(
                            std::chrono::seconds(2), std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         std::chrono::duration<double>(10 * r.timeout_s)));
  server.run_loop_while([&] {
    while (!shared.up() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
}

// /metrics as the API renders it, plus what the watchdog did (it lives in the server).
class MetricsExchange final : public proxy::Exchange {
 public:
  MetricsExchange(std::shared_ptr<proxy::Exchange> inner, const proxy::Server &server)
      : inner_(std::move(inner)), server_(server) {}
  const proxy::Incoming &request() const override { return inner_->request(); }
  void label(std::string route, std::string model, std::string provider, bool stream) override {
    inner_->label(std::move(route), std::move(model), std::move(provider), stream);
  }
  void outcome(int status) override { inner_->outcome(status); }
  void usage(const Usage &u) override { inner_->usage(u); }
  void reply(proxy::Reply r) override {
    if (r.status == 200) append(r.body);
    inner_->reply(std::move(r));
  }
  bool stream(std::string frames) override { return inner_->stream(std::move(frames)); }
  void end_stream(std::string frames) override { inner_->end_stream(std::move(frames)); }
  std::stop_token cancelled() const override { return inner_->cancelled(); }

 private:
  void append(std::string &out) const {
    const proxy::WatchdogCounts w = server_.watchdog();
    out +=
        "# HELP llmhost_watchdog_timeouts_total Requests the watchdog answered with 408 or ended with an error event, "
        "by what ran out.\n"
        "# TYPE llmhost_watchdog_timeouts_total counter\n";
    for (auto [kind, n] : {std::pair{"call", w.call},
                           {"request", w.request},
                           {"stream_idle", w.stream_idle},
                           {"stream_duration", w.stream_duration}})
      out += "llmhost_watchdog_timeouts_total{kind=\"" + std::string(kind) + "\"} " + std::to_string(n) + "\n";
    out +=
        "# HELP llmhost_abandoned_calls Plugin calls the watchdog gave up on that have not returned yet; each holds a "
        "worker.\n"
        "# TYPE llmhost_abandoned_calls gauge\n"
        "llmhost_abandoned_calls " +
        std::to_string(w.abandoned_running) + "\n";
  }

  std::shared_ptr<proxy::Exchange> inner_;
  const proxy::Server &server_;
};

}  // namespace

void add_serve_options(CLI::App *serve, ServeOptions &o) {
  serve->add_option("--config", o.config, "LiteLLM-style config.yaml (model_list, custom_provider_map, master_key)");
  serve->add_option("--host", o.host, "address to listen on")->capture_default_str();
  serve->add_option("--port", o.port, "port to listen on; 0 picks a free one (printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve->add_option("--workers", o.workers, "most plugin calls running at once (one thread each, started on demand)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 16384u));
  serve->add_option("--io-threads", o.io_threads, "socket I/O threads; 0: one per two CPUs the process may use, 1 to 4")
      ->capture_default_str()
      ->check(CLI::Range(0u, 256u));
  serve->add_option("--max-body-mb", o.max_body_mb, "largest request body in MiB; larger gets 413")
      ->default_str("10")
      ->check(CLI::PositiveNumber);
  serve->add_option("--max-header-kb", o.max_header_kb, "largest request header block in KiB; larger gets 431")
      ->default_str("16")
      ->check(CLI::PositiveNumber);
  serve->add_option("--max-header-count", o.max_header_count, "most request header fields; more get 431 (0: no limit)")
      ->default_str("100")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  serve->add_option("--max-connections", o.max_connections, "most open client connections; more are closed at once")
      ->default_str("4096")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  serve->add_option("--max-messages", o.max_messages, "most messages in a chat request; more get 400 (0: no limit)")
      ->default_str("2048")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  serve->add_option("--idle-timeout", o.idle_timeout_s, "seconds an idle connection is kept open")
      ->default_str("60")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--request-timeout", o.request_timeout_s,
                   "seconds until a response must start, else 408, even when a plugin hangs (0: none)")
      ->default_str("600")
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--stream-idle-timeout", o.stream_idle_timeout_s,
                   "seconds a stream may go without a chunk before it is ended with an error event (0: none)")
      ->default_str("300")
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--max-stream-duration", o.max_stream_duration_s,
                   "seconds a stream may last before it is ended with an error event (0: none)")
      ->default_str("3600")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--drain-timeout", o.drain_timeout_s, "seconds SIGTERM waits for requests in flight")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve->add_flag("--no-watch", o.no_watch, "do not reload plugins when their files change (SIGHUP still does)");
  serve->add_flag("--no-access-log", o.no_access_log, "no per-request log line on stderr");
}

int run_serve(const ServeOptions &o) {
  config::Config cfg;
  if (!o.config.empty()) {
    try {
      cfg = config::load(o.config);
    } catch (const config::ConfigError &e) {
      say(std::string("config error: ") + e.what());
      return 1;
    }
  }
  for (const std::string &w : cfg.warnings) say("warning: " + w);

  proxy::ServerOptions server_options;
  server_options.host = o.host;
  server_options.port = static_cast<uint16_t>(o.port);
  server_options.workers = std::max(1u, o.workers);
  server_options.io_threads = o.io_threads;
  apply_limits(o, cfg.limits, server_options);
  raise_descriptor_limit(server_options.max_connections);
  server_options.drain_timeout = millis(o.drain_timeout_s);
  std::unique_ptr<proxy::Server> server;
  try {
    server = std::make_unique<proxy::Server>(server_options);
  } catch (const std::exception &e) {
    say("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    return 1;
  }

  HostOptions host_options;
  for (const auto &d : o.plugin_dirs) host_options.plugin_dirs.emplace_back(d);
  if (host_options.plugin_dirs.empty()) host_options.plugin_dirs = cfg.plugin_dirs;
  // --isolation over general_settings, and a custom_provider_map entry's own over both.
  host_options.isolation = {o.isolation.value_or(cfg.plugin_isolation.value_or(Isolation::kInProcess)),
                            cfg.plugin_max_memory_mb};
  for (const auto &cp : cfg.custom_providers) {
    host_options.plugin_files.push_back(cp.file);
    host_options.plugin_isolation[cp.file] = {cp.isolation.value_or(host_options.isolation.mode),
                                              cp.max_memory_mb.value_or(host_options.isolation.max_memory_mb)};
  }
  WorkerSettings &workers = host_options.workers;
  workers.executable = std::filesystem::read_symlink("/proc/self/exe");  // the worker is this binary
  if (cfg.plugin_crash_loop_crashes) workers.crash_loop_crashes = *cfg.plugin_crash_loop_crashes;
  if (cfg.plugin_crash_loop_window_s) workers.crash_loop_window = millis(*cfg.plugin_crash_loop_window_s);
  if (cfg.plugin_hang_grace_s) workers.hang_grace = millis(*cfg.plugin_hang_grace_s);
  host_options.allow_untrusted_plugins = o.allow_untrusted_plugins;
  host_options.async_threads = 1;  // serve runs calls on its own pool
  host_options.watch = !o.no_watch;
  if (cfg.plugin_removal_grace_s) host_options.removal_grace = millis(*cfg.plugin_removal_grace_s);
  if (cfg.estimate_usage) host_options.estimate_usage = *cfg.estimate_usage;
  if (cfg.default_encoding) host_options.default_encoding = *cfg.default_encoding;
  host_options.on_reload = log_reload;
  // The HTTP service runs on the first I/O thread's loop: an upstream exchange of a plugin with
  // the asynchronous call form never leaves the I/O threads. That loop must then run until the
  // Host is gone.
  host_options.http_io_context = &server->io_context();
  host_options.http_io_threads = 1;
  auto host_ptr = std::make_unique<Host>(std::move(host_options));
  Host &host = *host_ptr;
  for (const LoadError &e : host.load_errors()) say("warning: plugin refused: " + e.message);
  if (!check_custom_providers(cfg, host)) {
    server->run_loop_while([&] { host_ptr.reset(); });
    return 1;
  }
  warn_unrouted(cfg, host);

  const routing::ModelTable models(cfg);
  std::optional<routing::SharedLimits> shared;
  std::optional<routing::Limiter> limiter;
  if (cfg.router.redis) {
    shared.emplace(server->io_context(), *cfg.router.redis, cfg.router.strategy, say);
    limiter.emplace(*shared, [&](std::function<void()> f) { net::post(server->io_context(), std::move(f)); });
    wait_for_redis(*server, *shared, *cfg.router.redis);
  } else {
    limiter.emplace();
  }
  proxy::Metrics metrics;
  proxy::AccessLog access_log(stderr);
  proxy::Api api(
      host, models, *limiter, metrics, [&](std::function<void()> job) { server->post_work(std::move(job)); },
      proxy::ApiOptions{cfg.master_key});

  proxy::ServerHooks hooks;
  hooks.handle = [&](std::shared_ptr<proxy::Exchange> ex) {
    if (ex->request().path == "/metrics") ex = std::make_shared<MetricsExchange>(std::move(ex), *server);
    api.handle(std::move(ex));
  };
  hooks.started = [&] { metrics.started(); };
  hooks.finished = [&](const proxy::Record &r) {
    metrics.finished(r);
    if (!o.no_access_log) access_log.write(r);
  };
  hooks.reload = [&] {
    say("SIGHUP: reloading plugins");
    host.reload();
  };
  hooks.notice = [](const std::string &m) { say(m); };
  hooks.async_calls = [&] { return host.async_calls(); };

  std::printf("llmhost: serving on http://%s:%u (%zu provider(s)%s)\n", o.host.c_str(), server->port(),
              host.providers().size(), cfg.master_key.empty() ? "" : ", master key required");
  std::fflush(stdout);
  if (!server->run(std::move(hooks))) {
    say("a plugin call is still running past the drain (it ignored its cancel); exiting without unloading plugins");
    std::fflush(stderr);
    std::_Exit(0);
  }
  server->run_loop_while([&] { host_ptr.reset(); });
  // Redis's client answers what it still has pending as it closes: while the limiter those
  // answers go through still lives.
  shared.reset();
  say("drained; bye");
  return 0;
}

}  // namespace llmhost::cli
