// Helpers shared by the HTTP tests: a Host over the bundled plugins, OpenAI-shaped JSON for the
// mock upstream to answer with, and reading what the upstream was sent.
#pragma once

#include <doctest/doctest.h>
#include <simdjson.h>

#include <mutex>
#include <string>
#include <vector>

#include "mock_server.hpp"
#include "support.hpp"

namespace test::http {

// Log lines the Host wrote (the HTTP service logs every attempt).
struct LogSink {
  std::mutex mu;
  std::vector<std::string> lines;
  std::string all() {
    std::lock_guard lock(mu);
    std::string out;
    for (auto &l : lines) out += l + "\n";
    return out;
  }
};

// A Host over the bundled plugins (echo, openai, ...); logs go to `sink` when given.
inline llmhost::HostOptions host_options(LogSink *sink = nullptr) {
  llmhost::HostOptions o = test::options_for({test::bundled_plugins()});
  if (sink)
    o.log = [sink](int, std::string_view provider, std::string_view message) {
      std::lock_guard lock(sink->mu);
      sink->lines.push_back(std::string(provider) + ": " + std::string(message));
    };
  return o;
}

// An openai/<model> chat request aimed at `server`.
inline llmhost::Request chat_to(const MockServer &server, const std::string &prompt,
                                const std::string &model = "openai/gpt-test", const std::string &extra = {}) {
  llmhost::Request r = test::chat(model, prompt, extra);
  r.api_base = server.base_url();
  r.api_key = "sk-test-secret-123";
  return r;
}

inline std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A chat.completion body answering `content`.
inline std::string completion_json(std::string_view content, std::string_view model = "gpt-test-0613") {
  return R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":)" + json_quote(model) +
         R"(,"system_fingerprint":"fp_x","choices":[{"index":0,"message":{"role":"assistant","content":)" +
         json_quote(content) +
         R"(},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
}

// The content of the last message of a chat request body (what the mock echoes back).
inline std::string last_user_content(const std::string &body) {
  simdjson::dom::parser p;
  simdjson::dom::array messages;
  if (p.parse(body).at_key("messages").get(messages)) return "<no messages>";
  std::string_view content;
  size_t n = messages.size();
  if (n == 0 || messages.at(n - 1).at_key("content").get(content)) return "<no content>";
  return std::string(content);
}

using test::error_of;

}  // namespace test::http
