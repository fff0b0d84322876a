#include "config/yaml_json.hpp"

#include <charconv>
#include <cmath>

namespace llmhost::config {

bool parse_number(const std::string &s, double &out) {
  if (s.empty()) return false;
  const char *begin = s.data() + (s[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

bool parse_bool(const std::string &s, bool &out) {
  if (s == "true" || s == "True" || s == "TRUE") return out = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return out = false, true;
  return false;
}

namespace {

bool parse_integer(const std::string &s, int64_t &out) {
  if (s.empty()) return false;
  const char *begin = s.data() + (s[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool is_null_word(const std::string &s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

}  // namespace

void JsonObjectBuilder::add(const std::string &key, const YAML::Node &value, const Resolve &resolve) {
  w_.key(key);
  this->value(value, resolve);
  ++count_;
}

void JsonObjectBuilder::value(const YAML::Node &node, const Resolve &resolve, int depth) {
  constexpr int kMaxDepth = 64;
  constexpr size_t kMaxBytes = 1 << 20;
  if (depth > kMaxDepth || out_.size() > kMaxBytes)
    throw YAML::Exception(node.Mark(), "value nested deeper than 64 levels or larger than 1 MiB (a recursive alias?)");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: w_.null(); return;
    case YAML::NodeType::Sequence:
      w_.begin_array();
      for (const YAML::Node &e : node) value(e, resolve, depth + 1);
      w_.end_array();
      return;
    case YAML::NodeType::Map:
      w_.begin_object();
      for (const auto &kv : node) {
        w_.key(kv.first.Scalar());
        value(kv.second, resolve, depth + 1);
      }
      w_.end_object();
      return;
    case YAML::NodeType::Scalar: break;
  }
  const std::string &s = node.Scalar();
  if (node.Tag() != "!") {  // plain (unquoted) scalar: type it
    bool b;
    int64_t i;
    double d;
    if (is_null_word(s)) return void(w_.null());
    if (parse_bool(s, b)) return void(w_.value(b));
    if (parse_integer(s, i)) return void(w_.value(i));
    if (parse_number(s, d)) return void(w_.value(d));
  }
  w_.value(resolve ? resolve(node, s) : s);
}

}  // namespace llmhost::config
