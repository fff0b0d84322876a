// YAML values -> JSON text, for the litellm_params keys that go to a plugin as extra_json.
// Plain scalars are typed as YAML 1.2's core schema does (null, true/false, integers, floats);
// quoted scalars stay strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

#include "json/writer.hpp"

namespace llmhost::config {

// Whole-string parses; false when `s` is not one.
bool parse_number(const std::string &s, double &out);
bool parse_bool(const std::string &s, bool &out);

// Builds one JSON object member by member.
class JsonObjectBuilder {
 public:
  // Applied to every string scalar (e.g. os.environ/ resolution); may throw.
  using Resolve = std::function<std::string(const YAML::Node &node, std::string value)>;

  explicit JsonObjectBuilder(std::string &out) : out_(out), w_(out) { w_.begin_object(); }
  void add(const std::string &key, const YAML::Node &value, const Resolve &resolve);
  bool empty() const { return count_ == 0; }
  // Closes the object and returns the text.
  std::string finish() {
    w_.end_object();
    return out_;
  }

 private:
  // Throws YAML::Exception past kMaxDepth levels or kMaxBytes of output: an alias may refer to
  // its own anchor (a cycle) or fan out exponentially ("billion laughs").
  void value(const YAML::Node &node, const Resolve &resolve, int depth = 0);
  std::string &out_;
  json::Writer w_;
  size_t count_ = 0;
};

}  // namespace llmhost::config
