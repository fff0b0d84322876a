// The instance config every relay provider reads, and the parts of a call's target they share:
// the key's header, Content-Type, configured headers, timeout and retries, and which values
// are secrets. Header-only, like the rest of plugins/common.
#pragma once

#include <simdjson.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include <llmhost/http.hpp>

namespace llmh_plugins {

// An environment variable's value; "" when unset.
inline std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

[[noreturn]] inline void bad_config(std::string_view provider, const std::string &why) {
  throw llmh::Error(400, std::string(provider) + " config: " + why);
}

// The instance config as an object, parsed by `parser` (it stays valid while the parser is).
inline simdjson::dom::object config_object(simdjson::dom::parser &parser, std::string_view json,
                                           std::string_view provider) {
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size(), true).get(obj)) bad_config(provider, "not a JSON object");
  return obj;
}

// A string member of the config; "" when absent or null; Error 400 when another type.
inline std::string config_string(simdjson::dom::object obj, const char *key, std::string_view provider) {
  simdjson::dom::element e;
  if (obj[key].get(e) || e.is_null()) return {};
  std::string_view s;
  if (e.get(s)) bad_config(provider, std::string("\"") + key + "\" must be a string");
  return std::string(s);
}

struct RelayConfig {
  // Reads {"api_base", "api_key", "timeout", "extra_headers"|"headers": {name: value}} from
  // `obj`; the provider reads its own keys from it too. Throws llmh::Error(400) "<provider>
  // config: ..." for a wrongly typed key.
  RelayConfig(simdjson::dom::object obj, std::string_view provider)
      : api_base(config_string(obj, "api_base", provider)), api_key(config_string(obj, "api_key", provider)) {
    simdjson::dom::element timeout;
    if (!obj["timeout"].get(timeout) && !timeout.is_null() && timeout.get(timeout_s))
      bad_config(provider, "\"timeout\" must be a number of seconds");
    for (const char *key : {"headers", "extra_headers"}) {
      simdjson::dom::element e;
      if (obj[key].get(e) || e.is_null()) continue;
      simdjson::dom::object list;
      if (e.get(list)) bad_config(provider, std::string("\"") + key + "\" must be an object of strings");
      for (auto [name, value] : list) {
        std::string_view v;
        if (value.get(v)) bad_config(provider, std::string("header \"") + std::string(name) + "\" must be a string");
        headers.emplace_back(std::string(name), std::string(v));
      }
    }
  }

  // Fills `t` (its url already set) for `request`: the key (the request's, else the config's)
  // as `key_header: key_prefix KEY` (nothing without a key), Content-Type, the configured
  // headers, the timeout and retries; the key and the longer header values as secrets.
  void apply(llmh::HttpRequest &t, const llmh::Request &request, std::string_view key_header,
             std::string_view key_prefix = {}) const {
    t.shown_url = llmh::redact_url(t.url);
    std::string_view key = request.api_key();
    if (key.empty()) key = api_key;
    if (!key.empty()) {
      t.headers.emplace_back(std::string(key_header), std::string(key_prefix) + std::string(key));
      t.secrets.emplace_back(key);
    }
    t.headers.emplace_back("Content-Type", "application/json");
    for (const auto &h : headers) {
      t.headers.push_back(h);
      if (h.second.size() >= 8) t.secrets.push_back(h.second);
    }
    t.timeout_s = request.timeout_s() > 0 ? request.timeout_s() : timeout_s;
    t.num_retries = request.num_retries();
  }

  std::string api_base, api_key;  // "" when the config has none
  double timeout_s = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace llmh_plugins
