// `llmhost serve`: the OpenAI-compatible proxy (host/src/proxy) in front of a Host.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

#include "llmhost/types.hpp"

namespace llmhost::cli {

struct ServeOptions {
  std::string config;                    // --config FILE (LiteLLM config.yaml shape)
  std::vector<std::string> plugin_dirs;  // the global --plugins; replaces the config's plugin_dirs
  std::string host = "127.0.0.1";
  int port = 4000;          // 0 = a free port (printed at start)
  unsigned workers = 1024;  // most threads running plugin calls, started on demand
  unsigned io_threads = 0;  // 0: chosen from the usable CPUs (proxy::ServerOptions)
  // Limits: negative = not on the command line, so general_settings decides, else the default
  // (proxy::ServerOptions).
  double max_body_mb = -1;
  double max_header_kb = -1;
  int64_t max_header_count = -1;
  int64_t max_connections = -1;
  int64_t max_messages = -1;
  double idle_timeout_s = -1;
  double request_timeout_s = -1;
  double stream_idle_timeout_s = -1;
  double max_stream_duration_s = -1;
  double drain_timeout_s = 30;
  bool no_watch = false;  // hot reload of the plugin folders is on by default
  bool no_access_log = false;
  bool allow_untrusted_plugins = false;  // the global --allow-untrusted-plugins
  std::optional<Isolation> isolation;    // the global --isolation; unset: general_settings decides
};

// Declares serve's own options on its subcommand.
void add_serve_options(CLI::App *serve, ServeOptions &o);

// Runs until SIGTERM/SIGINT; 0 after a drain, 1 when start-up fails (config, plugins, port).
int run_serve(const ServeOptions &options);

}  // namespace llmhost::cli
