// serve's configuration: LiteLLM's config.yaml shape (model_list, litellm_settings,
// general_settings), read with yaml-cpp. Paths resolve relative to the config file;
// "os.environ/NAME" values resolve from the environment at load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "llmhost/types.hpp"

namespace llmhost::config {

// One deployment behind a public model name (a model_list entry's litellm_params).
struct Deployment {
  std::string model;  // "provider/model"
  std::string api_key;
  std::string api_base;
  double timeout_s = 0;
  std::optional<uint32_t> num_retries;
  std::string extra_json;  // every other litellm_params key as a JSON object; "" when none
  int line = 0;            // where the entry is, for messages
  // LiteLLM's limits and share: requests and tokens per minute (unset: no limit) and the
  // weight simple-shuffle picks it by (default 1).
  std::optional<uint64_t> rpm, tpm;
  double weight = 1;
};

// router_settings.routing_strategy, by LiteLLM's names (round-robin is llmhost's own).
enum class RoutingStrategy { kSimpleShuffle, kLeastBusy, kLatencyBased, kUsageBased, kRoundRobin };

// router_settings' Redis, where several instances share their limits and cooldowns
// (redis_url, or redis_host, redis_port, redis_password; docs/scale-out.md).
struct RedisSettings {
  std::string host;
  uint16_t port = 6379;
  std::string username, password;  // empty: no AUTH; a username only with redis_url (ACL)
  uint32_t db = 0;                 // SELECTed after connecting
  double timeout_s = 0.1;          // redis_timeout: a reply later than this counts Redis as down
  // "host:port", for messages (never the password).
  std::string where() const { return host + ":" + std::to_string(port); }
};

// router_settings: how a model name's deployments are picked and when one is rested.
struct RouterSettings {
  RoutingStrategy strategy = RoutingStrategy::kSimpleShuffle;
  // LiteLLM's cooldown: a deployment that fails more than `allowed_fails` times within a
  // minute is skipped for `cooldown_time_s` (LiteLLM's defaults: 3 and 5 s). As in LiteLLM, the
  // only deployment of its model name is rested only when allowed_fails is set: with nowhere
  // else to go, refusing its requests would help no one.
  std::optional<uint32_t> allowed_fails;
  double cooldown_time_s = 5;
  std::optional<RedisSettings> redis;  // unset: limits and cooldowns count in this process only
};

// A public model name and its deployments, in file order (several entries may share a name).
struct ModelGroup {
  std::string name;
  std::vector<Deployment> deployments;
};

// litellm_settings.custom_provider_map entry.
struct CustomProvider {
  std::string provider;
  std::filesystem::path file;  // absolute (resolved against the config file's folder)
  int line = 0;
  std::optional<Isolation> isolation;   // `isolation:`; unset: general_settings.plugin_isolation
  std::optional<size_t> max_memory_mb;  // `max_memory_mb:`; unset: general_settings.plugin_max_memory_mb
};

// litellm_settings.fallbacks entry: when every deployment of `model` fails with an error that is
// not the client's, the deployments of `to` are tried in order.
struct Fallback {
  std::string model;
  std::vector<std::string> to;
};

// general_settings limits of the server (llmhost serve); an unset one keeps serve's default,
// and a command-line flag wins over either. Durations in seconds; 0 turns a limit off where
// docs/config.md says so.
struct Limits {
  std::optional<double> max_body_mb;            // max_body_mb (LiteLLM: max_request_size_mb)
  std::optional<double> max_header_kb;          // max_header_kb
  std::optional<uint32_t> max_header_count;     // max_header_count
  std::optional<uint32_t> max_connections;      // max_connections
  std::optional<uint32_t> max_messages;         // max_messages
  std::optional<double> idle_timeout_s;         // idle_timeout
  std::optional<double> request_timeout_s;      // request_timeout
  std::optional<double> stream_idle_timeout_s;  // stream_idle_timeout
  std::optional<double> max_stream_duration_s;  // max_stream_duration
};

struct Config {
  std::filesystem::path file;  // the config file; empty when none was given
  std::vector<ModelGroup> models;
  std::vector<CustomProvider> custom_providers;
  std::vector<Fallback> fallbacks;                 // every name in them is a configured model_name
  std::vector<std::filesystem::path> plugin_dirs;  // general_settings.plugin_dirs, absolute
  std::string master_key;                          // empty = no auth
  bool direct_routing = true;                      // general_settings.direct_provider_routing
  Limits limits;                                   // general_settings limits
  RouterSettings router;                           // router_settings
  std::optional<Isolation> plugin_isolation;       // general_settings.plugin_isolation
  size_t plugin_max_memory_mb = 0;                 // general_settings.plugin_max_memory_mb
  // general_settings.plugin_crash_loop_crashes, plugin_crash_loop_window, plugin_hang_grace
  // (seconds); unset: WorkerSettings' defaults.
  std::optional<uint32_t> plugin_crash_loop_crashes;
  std::optional<double> plugin_crash_loop_window_s, plugin_hang_grace_s;
  std::optional<double> plugin_removal_grace_s;  // general_settings.plugin_removal_grace (seconds)
  std::optional<bool> estimate_usage;            // general_settings.estimate_usage
  std::optional<std::string> default_encoding;   // general_settings.default_encoding
  std::vector<std::string> warnings;             // ignored keys, "file:line: ..." each
};

// A config that cannot be used; what() is "FILE:LINE:COLUMN: cause".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Looks an environment variable up; nullptr when unset. Default: std::getenv.
using EnvLookup = std::function<const char *(const char *name)>;

// Reads and validates `file`. Throws ConfigError.
Config load(const std::filesystem::path &file, const EnvLookup &env = {});

// The same from text; `file` names it in messages and anchors relative paths.
Config parse(const std::string &yaml_text, const std::filesystem::path &file, const EnvLookup &env = {});

}  // namespace llmhost::config
