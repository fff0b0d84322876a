// ootrelay: relays `ootrelay/<model>` to the OpenAI-compatible server at the request's api_base,
// written as a third party would: provider.hpp's asynchronous calls and http.hpp only. It
// overrides complete_async and stream_async alone; the SDK makes the blocking forms from them.
#include <simdjson.h>
#include <llmhost/http.hpp>
#include <llmhost/provider.hpp>
#include <llmhost/text.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace {

// The request's last user message, sent on as the only one.
std::string chat_body(const llmh::Request &req, bool stream) {
  std::string body = "{\"model\":";
  llmh::append_json_string(body, req.model());
  body += ",\"messages\":[{\"role\":\"user\",\"content\":";
  llmh::append_json_string(body, req.last_user_content());
  body += stream ? "}],\"stream\":true}" : "}]}";
  return body;
}

// The content of choices[0].message in an answer, or of choices[0].delta in a chunk (a chunk
// may have none: ""). Throws 502 for an answer that is not OpenAI's.
std::string content_of(std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  simdjson::dom::element choice;
  if (parser.parse(json.data(), json.size()).at_pointer("/choices/0").get(choice))
    throw llmh::Error(502, "ootrelay: the upstream's answer has no choice");
  std::string_view content;
  if (choice.at_pointer(std::string("/") + std::string(where) + "/content").get(content)) {
    if (where == "delta") return {};
    throw llmh::Error(502, "ootrelay: the upstream's answer has no content");
  }
  return std::string(content);
}

class Completion final : public llmh::HttpCall {
 public:
  explicit Completion(llmh::AsyncCompletion call) : call_(std::move(call)) {}
  bool cancelled() override { return call_.cancelled(); }
  void on_response(llmh::HttpResponse reply) noexcept override {
    if (!reply.ok())
      return call_.fail(reply.status(), "ootrelay: the upstream answered " + std::to_string(reply.status()));
    try {
      call_.response().content(content_of(reply.body(), "message"));
    } catch (...) {
      return call_.fail_current();
    }
    call_.finish();
  }
  void on_error(llmh::Error error) noexcept override { call_.fail(error); }

 private:
  llmh::AsyncCompletion call_;
};

class Streamed final : public llmh::HttpCall {
 public:
  explicit Streamed(llmh::AsyncStream call) : call_(std::move(call)) {}
  bool streams_lines() const noexcept override { return true; }
  bool on_line(std::string_view line) override {
    if (line.substr(0, 6) != "data: " || line == "data: [DONE]") return true;
    const std::string text = content_of(line.substr(6), "delta");  // throws: on_error
    return text.empty() || call_.stream().emit_text(text);
  }
  bool cancelled() override { return call_.cancelled(); }
  void on_response(llmh::HttpResponse reply) noexcept override {
    if (!reply.ok())
      return call_.fail(reply.status(), "ootrelay: the upstream answered " + std::to_string(reply.status()));
    call_.stream().finish("stop");
    call_.finish();
  }
  void on_error(llmh::Error error) noexcept override { call_.fail(error); }

 private:
  llmh::AsyncStream call_;
};

class OotRelay final : public llmh::Provider {
 public:
  OotRelay(const llmh_host_api *host, std::string_view config) : Provider(host, config), http_(*this, "ootrelay") {}

  void complete_async(llmh::AsyncCompletion &&call) override {
    const llmh::HttpRequest request = target(call.request());
    const std::string body = chat_body(call.request(), false);
    http_.perform_async(request, body, std::make_unique<Completion>(std::move(call)));
  }
  void stream_async(llmh::AsyncStream &&call) override {
    const llmh::HttpRequest request = target(call.request());
    const std::string body = chat_body(call.request(), true);
    http_.perform_async(request, body, std::make_unique<Streamed>(std::move(call)));
  }
  bool offers_async() const noexcept override { return http_.has_async(); }

 private:
  static llmh::HttpRequest target(const llmh::Request &req) {
    if (req.api_base().empty()) throw llmh::Error(400, "ootrelay: give the upstream as api_base");
    llmh::HttpRequest r;
    r.url = std::string(req.api_base()) + "/v1/chat/completions";
    r.shown_url = llmh::redact_url(r.url);
    r.headers = {{"Content-Type", "application/json"}};
    r.timeout_s = 30;
    return r;
  }

  const llmh::HttpClient http_;
};

}  // namespace

LLMH_PROVIDER(OotRelay, "ootrelay", "1.0.0", "relays to an OpenAI-compatible server (out-of-tree test)")
