#include "serve.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "config/config.hpp"
#include "llmhost/host.hpp"
#include "proxy/access_log.hpp"
#include "proxy/api.hpp"
#include "proxy/metrics.hpp"
#include "proxy/models.hpp"
#include "proxy/server.hpp"

namespace llmhost::cli {
namespace {

void say(const std::string &line) {
  std::string l = "llmhost: " + line + "\n";
  std::fwrite(l.data(), 1, l.size(), stderr);
}

void log_reload(const ReloadEvent &e) {
  std::string line = "reload: " + std::string(to_string(e.kind)) + " " + e.name;
  if (!e.old_version.empty() && !e.new_version.empty()) line += " " + e.old_version + " -> " + e.new_version;
  else if (!e.old_version.empty() || !e.new_version.empty()) line += " " + e.old_version + e.new_version;
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

}  // namespace

void add_serve_options(CLI::App *serve, ServeOptions &o) {
  serve->add_option("--config", o.config, "LiteLLM-style config.yaml (model_list, custom_provider_map, master_key)");
  serve->add_option("--host", o.host, "address to listen on")->capture_default_str();
  serve->add_option("--port", o.port, "port to listen on; 0 picks a free one (printed)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  serve->add_option("--workers", o.workers, "threads running plugin calls")->capture_default_str()->check(CLI::Range(1u, 4096u));
  serve->add_option("--io-threads", o.io_threads, "socket I/O threads")->capture_default_str()->check(CLI::Range(1u, 256u));
  serve->add_option("--max-body-mb", o.max_body_mb, "largest request body in MiB; larger gets 413")
      ->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--idle-timeout", o.idle_timeout_s, "seconds an idle connection is kept open")
      ->capture_default_str()->check(CLI::PositiveNumber);
  serve->add_option("--drain-timeout", o.drain_timeout_s, "seconds SIGTERM waits for requests in flight")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
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

  HostOptions host_options;
  for (const auto &d : o.plugin_dirs) host_options.plugin_dirs.emplace_back(d);
  if (host_options.plugin_dirs.empty()) host_options.plugin_dirs = cfg.plugin_dirs;
  for (const auto &cp : cfg.custom_providers) host_options.plugin_files.push_back(cp.file);
  host_options.allow_untrusted_plugins = o.allow_untrusted_plugins;
  host_options.async_threads = 1;  // serve runs calls on its own pool
  host_options.watch = !o.no_watch;
  host_options.on_reload = log_reload;
  Host host(std::move(host_options));
  for (const LoadError &e : host.load_errors()) say("warning: plugin refused: " + e.message);
  if (!check_custom_providers(cfg, host)) return 1;
  warn_unrouted(cfg, host);

  proxy::ServerOptions server_options;
  server_options.host = o.host;
  server_options.port = static_cast<uint16_t>(o.port);
  server_options.workers = std::max(1u, o.workers);
  server_options.io_threads = std::max(1u, o.io_threads);
  server_options.max_body_bytes = static_cast<uint64_t>(o.max_body_mb * 1024 * 1024);
  server_options.idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.idle_timeout_s * 1000));
  server_options.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.drain_timeout_s * 1000));
  std::unique_ptr<proxy::Server> server;
  try {
    server = std::make_unique<proxy::Server>(server_options);
  } catch (const std::exception &e) {
    say("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    return 1;
  }

  const proxy::ModelTable models(cfg);
  proxy::Metrics metrics;
  proxy::AccessLog access_log(stderr);
  proxy::Api api(host, models, metrics, [&](std::function<void()> job) { server->post_work(std::move(job)); },
                 proxy::ApiOptions{cfg.master_key});

  proxy::ServerHooks hooks;
  hooks.handle = [&](std::shared_ptr<proxy::Exchange> ex) { api.handle(std::move(ex)); };
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

  std::printf("llmhost: serving on http://%s:%u (%zu provider(s)%s)\n", o.host.c_str(), server->port(),
              host.providers().size(), cfg.master_key.empty() ? "" : ", master key required");
  std::fflush(stdout);
  if (!server->run(std::move(hooks))) {
    say("a plugin call ignored its cancel past the drain deadline; exiting without unloading plugins");
    std::fflush(stderr);
    std::_Exit(0);
  }
  say("drained; bye");
  return 0;
}

}  // namespace llmhost::cli
