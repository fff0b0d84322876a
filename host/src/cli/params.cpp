// --param KEY=VALUE: VALUE is JSON when it parses as JSON, else a string. Known OpenAI
// parameters also fill the typed Params; every key reaches the plugin in the request body.
#include <simdjson.h>
#include <llmhost/text.hpp>

#include "cli/commands.hpp"
#include "json/writer.hpp"

namespace llmhost::cli {
namespace {

// The value as JSON text: itself when valid JSON, else quoted as a string.
std::string json_value(std::string_view text, simdjson::dom::parser &parser, simdjson::dom::element &parsed,
                       bool &is_json) {
  is_json = !text.empty() && !parser.parse(simdjson::padded_string(text)).get(parsed);
  if (is_json) return simdjson::minify(parsed);
  std::string quoted;
  llmh::append_json_string(quoted, text);
  return quoted;
}

void apply_typed(Params &p, std::string_view key, const std::string &raw, simdjson::dom::element v, bool is_json) {
  auto number = [&](std::optional<double> &field) {
    double d;
    if (!is_json || v.get(d)) throw UsageError("--param " + std::string(key) + " needs a number, got " + raw);
    field = d;
  };
  auto integer = [&](std::optional<int64_t> &field) {
    int64_t i;
    if (!is_json || v.get(i)) throw UsageError("--param " + std::string(key) + " needs an integer, got " + raw);
    field = i;
  };
  if (key == "temperature")
    number(p.temperature);
  else if (key == "top_p")
    number(p.top_p);
  else if (key == "presence_penalty")
    number(p.presence_penalty);
  else if (key == "frequency_penalty")
    number(p.frequency_penalty);
  else if (key == "max_tokens")
    integer(p.max_tokens);
  else if (key == "n")
    integer(p.n);
  else if (key == "seed")
    integer(p.seed);
  else if (key == "user") {
    std::string_view s;
    p.user = (is_json && !v.get(s)) ? std::string(s) : raw;
  } else if (key == "stop") {
    std::string_view s;
    simdjson::dom::array arr;
    if (is_json && !v.get(s)) {
      p.stop = {std::string(s)};
    } else if (is_json && !v.get(arr)) {
      for (auto e : arr) {
        if (e.get(s)) throw UsageError("--param stop needs a string or an array of strings");
        p.stop.emplace_back(s);
      }
    } else {
      p.stop = {raw};
    }
  }
}

}  // namespace

Request make_request(const CallOptions &opts) {
  Request r;
  r.model = opts.model;
  r.api_key = opts.api_key;
  r.api_base = opts.api_base;
  r.timeout_s = opts.timeout_s;
  if (!opts.system.empty()) r.messages.push_back({"system", opts.system, {}, {}, {}});
  if (opts.params.empty()) return r;

  simdjson::dom::parser parser;
  std::string extra;
  json::Writer w(extra);
  w.begin_object();
  for (const std::string &kv : opts.params) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--param \"" + kv + "\" is not KEY=VALUE");
    const std::string key = kv.substr(0, eq);
    const std::string text = kv.substr(eq + 1);
    simdjson::dom::element parsed;
    bool is_json = false;
    std::string raw = json_value(text, parser, parsed, is_json);
    apply_typed(r.params, key, text, parsed, is_json);
    w.key(key).raw(raw);
  }
  w.end_object();
  r.extra_json = std::move(extra);
  return r;
}

}  // namespace llmhost::cli
