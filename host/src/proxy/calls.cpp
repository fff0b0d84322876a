// The endpoints that call a plugin: chat completions (JSON or SSE) and embeddings. They run
// on a worker thread; the client's disconnect arrives as a stop on ex->cancelled().
#include <cstring>

#include "json_writer.hpp"
#include "openai_json.hpp"
#include "openai_request.hpp"
#include "proxy/api.hpp"
#include "proxy/openai_error.hpp"
#include "proxy/sse_framer.hpp"

namespace llmhost::proxy {
namespace {

// The embeddings list with each vector as base64 of little-endian float32, as OpenAI sends
// for encoding_format "base64" (the official clients ask for it by default).
std::string embeddings_base64(const EmbeddingResponse &r) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  json::Writer w(out);
  w.begin_object().member("object", "list").key("data").begin_array();
  for (size_t i = 0; i < r.data.size(); ++i) {
    std::string bytes(r.data[i].size() * 4, '\0');
    for (size_t k = 0; k < r.data[i].size(); ++k) {
      uint32_t bits;
      std::memcpy(&bits, &r.data[i][k], 4);
      for (int b = 0; b < 4; ++b) bytes[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
    }
    std::string b64;
    for (size_t k = 0; k < bytes.size(); k += 3) {
      const size_t n = std::min<size_t>(3, bytes.size() - k);
      uint32_t v = 0;
      for (size_t j = 0; j < 3; ++j) v = (v << 8) | (j < n ? static_cast<unsigned char>(bytes[k + j]) : 0);
      for (size_t j = 0; j < 4; ++j) b64 += j <= n ? kAlphabet[(v >> (18 - 6 * j)) & 63] : '=';
    }
    w.begin_object().member("object", "embedding").member("index", static_cast<int64_t>(i)).member("embedding", b64).end_object();
  }
  w.end_array().member("model", r.model).key("usage");
  w.begin_object().member("prompt_tokens", r.usage.prompt_tokens).member("total_tokens", r.usage.total_tokens).end_object();
  w.end_object();
  return out;
}

// Reports the model the client asked for unless the plugin named a more specific one.
std::string reported_model(const std::string &from_plugin, const std::string &routed, const std::string &asked) {
  return from_plugin.empty() || from_plugin == routed ? asked : from_plugin;
}

// Whether another deployment might succeed where this one failed: not when the client got
// the request wrong (it fails the same everywhere) nor when the client has gone.
bool another_deployment_may_help(int status) {
  return status >= 400 && status != 400 && status != 413 && status != 422 && status != 499;
}

}  // namespace

// Points `req` at each attempt of the route in turn and runs `call` until one returns; an
// error ends the loop when it is the last attempt's, the client's fault, or the client has
// gone. The error that escapes names the attempts that failed before it.
template <class Call>
void Api::with_fallback(Exchange &ex, std::string_view endpoint, bool stream, Request &req, Call &&call) {
  const std::string asked = req.model;
  const Route route = models_.route(req, host_);
  std::string failed;  // "provider/model -> status, ..." of the attempts before
  for (size_t i = 0;; ++i) {
    const std::string provider = route.apply(i, req);
    ex.label(std::string(endpoint), asked, provider, stream);
    ex.call_started(req.timeout_s);  // arms the connection's watchdog for this attempt
    try {
      return call(asked);
    } catch (const Error &e) {
      if (i + 1 == route.size() || !another_deployment_may_help(e.status()) || ex.cancelled().stop_requested()) {
        if (failed.empty()) throw;
        throw Error(e.status(), std::string(e.what()) + " (after " + failed + ")");
      }
      metrics_.deployment_failed(asked, provider, e.status());
      failed += (failed.empty() ? "" : ", ") + route.model(i) + " -> " + std::to_string(e.status());
    }
  }
}

void Api::chat(std::shared_ptr<Exchange> ex) {
  openai::ChatParse parsed = openai::parse_chat_request(ex->request().body);
  if (auto *err = std::get_if<openai::RequestError>(&parsed)) return ex->reply(error_reply(400, err->message, err->param));
  openai::ChatRequest &chat = std::get<openai::ChatRequest>(parsed);
  Request &req = chat.request;
  ex->label("/v1/chat/completions", req.model, {}, chat.stream);
  if (auto over = ex->check_messages(req.messages.size())) return ex->reply(std::move(*over));
  if (!chat.stream) {
    try {
      with_fallback(*ex, "/v1/chat/completions", false, req, [&](const std::string &asked) {
        Response r = host_.complete(req, ex->cancelled());
        r.id = openai::new_id("chatcmpl");
        r.created = openai::unix_now();
        r.model = reported_model(r.model, req.model, asked);
        Reply reply;
        openai::write_completion(reply.body, r);
        ex->reply(std::move(reply));
      });
    } catch (const Error &e) {
      ex->reply(error_reply(e.status(), e.what(), e.status() == 404 ? "model" : ""));
    }
    return;
  }

  // A stream moves on to another deployment only while nothing has been sent; once the 200
  // and a first chunk are out, a failure ends the stream with an error event.
  SseFramer framer({openai::new_id("chatcmpl"), openai::unix_now(), req.model}, chat.include_usage);
  std::string frames;
  try {
    with_fallback(*ex, "/v1/chat/completions", true, req, [&](const std::string &) {
      try {
        host_.stream(req, [&](const Chunk &c) {
          frames.clear();
          framer.chunk(frames, c);
          return frames.empty() || ex->stream(std::move(frames));
        }, ex->cancelled());
      } catch (const Error &e) {
        if (!framer.started()) throw;
        ex->outcome(e.status());
        frames.clear();
        framer.error(frames, e.status(), e.what());
        return ex->end_stream(std::move(frames));
      }
      frames.clear();
      framer.finish(frames);
      ex->end_stream(std::move(frames));
    });
  } catch (const Error &e) {
    ex->reply(error_reply(e.status(), e.what(), e.status() == 404 ? "model" : ""));
  }
}

void Api::embeddings(std::shared_ptr<Exchange> ex) {
  openai::EmbeddingsParse parsed = openai::parse_embeddings_request(ex->request().body);
  if (auto *err = std::get_if<openai::RequestError>(&parsed)) return ex->reply(error_reply(400, err->message, err->param));
  openai::EmbeddingsRequest &emb = std::get<openai::EmbeddingsRequest>(parsed);
  Request &req = emb.request;
  ex->label("/v1/embeddings", req.model, {}, false);
  try {
    with_fallback(*ex, "/v1/embeddings", false, req, [&](const std::string &asked) {
      EmbeddingResponse r = host_.embed(req, ex->cancelled());
      r.model = reported_model(r.model, req.model, asked);
      Reply reply;
      if (emb.base64)
        reply.body = embeddings_base64(r);
      else
        openai::write_embeddings(reply.body, r);
      ex->reply(std::move(reply));
    });
  } catch (const Error &e) {
    ex->reply(error_reply(e.status(), e.what(), e.status() == 404 ? "model" : ""));
  }
}

}  // namespace llmhost::proxy
