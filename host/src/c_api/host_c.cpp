// llmhost/host.h: the C embedding API, over llmhost::Host. Requests and answers cross as
// OpenAI's JSON, through the same codec as `llmhost serve` (openai/request, openai/response);
// every failure becomes a status and a message, and no exception leaves this file.
#include "llmhost/host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "llmhost/host.hpp"
#include "llmhost/provider.h"
#include "llmhost/text.hpp"
#include "openai/request.hpp"
#include "openai/response.hpp"

struct llmhost_host {
  llmhost::Host host;
};

namespace {

namespace fs = std::filesystem;

// Fills `err` (when the caller gave one) and returns the status, so a failure is one line.
int fail(llmhost_error *err, int status, std::string_view message) noexcept {
  if (status == 0) status = 500;
  if (err && err->struct_size >= sizeof(llmhost_error)) {
    err->status = status;
    const size_t n = std::min(message.size(), sizeof err->message - 1);
    std::memcpy(err->message, message.data(), n);
    err->message[n] = '\0';
  }
  return status;
}

// Runs `body` (which returns 0), mapping whatever it throws to a status and a message.
template <class Body>
int guarded(llmhost_error *err, Body &&body) noexcept {
  try {
    if (err && err->struct_size >= sizeof(llmhost_error)) err->status = 0;
    return body();
  } catch (const llmhost::Error &e) {
    return fail(err, e.status(), e.what());
  } catch (const llmhost::LoadException &e) {
    return fail(err, 400, e.what());
  } catch (const std::bad_alloc &) {
    return fail(err, 500, "llmhost: out of memory");
  } catch (const std::exception &e) {
    return fail(err, 500, e.what());
  } catch (...) {
    return fail(err, 500, "llmhost: unknown exception");
  }
}

// A copy the caller releases with llmhost_free.
char *handed_out(const std::string &text) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

// The folder this library was loaded from; the install puts the plugins and the CLI relative to
// it, so an embedder whose program lives elsewhere (python3) still finds them.
fs::path library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&llmhost_host_default_params), &info) == 0 || !info.dli_fname) return {};
  return fs::path(info.dli_fname).parent_path();
}

std::vector<fs::path> default_plugin_dirs() {
  if (const char *env = std::getenv("LLMHOST_PLUGIN_DIR"); env && *env) return {env};
  const fs::path lib = library_dir();
  std::error_code ec;
  for (const fs::path &dir : {lib / "llmhost" / "plugins", lib.parent_path() / "plugins"})  // install, build tree
    if (fs::is_directory(dir, ec)) return {dir};
  throw llmhost::Error(400,
                       "llmhost_host_create: no plugin folder given, LLMHOST_PLUGIN_DIR is unset, and no plugins are "
                       "installed beside " +
                           (lib / "libllmhost.so").string());
}

llmhost::HostOptions options_of(const llmhost_host_params &p) {
  if (p.struct_size < sizeof(llmhost_host_params))
    throw llmhost::Error(400, "llmhost_host_create: params.struct_size is " + std::to_string(p.struct_size) +
                                  ", expected at least " + std::to_string(sizeof(llmhost_host_params)) +
                                  " (start from llmhost_host_default_params())");
  llmhost::HostOptions o;
  for (size_t i = 0; i < p.plugin_dir_count; ++i) {
    if (!p.plugin_dirs || !p.plugin_dirs[i])
      throw llmhost::Error(400, "llmhost_host_create: plugin_dirs[" + std::to_string(i) + "] is NULL");
    o.plugin_dirs.emplace_back(p.plugin_dirs[i]);
  }
  if (o.plugin_dirs.empty()) o.plugin_dirs = default_plugin_dirs();
  if (p.isolation && !llmhost::parse_isolation(p.isolation, o.isolation.mode))
    throw llmhost::Error(400, std::string("llmhost_host_create: isolation \"") + p.isolation +
                                  "\" is neither \"in_process\" nor \"process\"");
  o.workers.executable =
      p.worker_executable ? fs::path(p.worker_executable) : library_dir().parent_path() / "bin" / "llmhost";
  o.watch = p.watch != 0;
  o.allow_untrusted_plugins = p.allow_untrusted_plugins != 0;
  return o;
}

// `json` parsed by one of the OpenAI request parsers; a refusal as Error 400 naming the field.
template <class Parsed, class Parse>
Parsed parsed_request(const char *json, Parse parse) {
  if (!json) throw llmhost::Error(400, "request_json is NULL");
  auto parsed = parse(json);
  if (auto *bad = std::get_if<llmhost::openai::RequestError>(&parsed))
    throw llmhost::Error(400, bad->param.empty() ? bad->message : bad->param + ": " + bad->message);
  return std::get<Parsed>(std::move(parsed));
}

llmhost::openai::ChatRequest chat_request(const char *json) {
  return parsed_request<llmhost::openai::ChatRequest>(json, llmhost::openai::parse_chat_request);
}
llmhost::openai::TextCompletionRequest text_request(const char *json) {
  return parsed_request<llmhost::openai::TextCompletionRequest>(json, llmhost::openai::parse_text_completion_request);
}

void need(const void *p, const char *what) {
  if (!p) throw llmhost::Error(400, std::string(what) + " is NULL");
}

void append_capabilities(std::string &out, const llmhost::ProviderInfo &p) {
  out += '[';
  bool first = true;
  for (const auto [bit, name] : llmhost::kCapabilityNames)
    if (p.capabilities & bit) {
      out += first ? "\"" : ",\"";
      out += name;
      out += '"';
      first = false;
    }
  out += ']';
}

// An images call of the C API: `parse` reads the request, `call` makes the images.
template <class Parse, class Call>
int images_call(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err, Parse parse,
                Call call) {
  if (response_json) *response_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(response_json, "response_json");
    llmhost::ImageResponse r = call(host->host, parsed_request<llmhost::ImageRequest>(request_json, parse));
    r.created = llmhost::openai::unix_now();
    std::string json;
    llmhost::openai::write_images(json, r);
    *response_json = handed_out(json);
    return 0;
  });
}

}  // namespace

extern "C" {

llmhost_host_params llmhost_host_default_params(void) {
  llmhost_host_params p{};
  p.struct_size = sizeof p;
  return p;
}

int llmhost_host_create(const llmhost_host_params *params, llmhost_host **out, llmhost_error *err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    need(params, "params");
    need(out, "out");
    *out = new llmhost_host{llmhost::Host(options_of(*params))};
    return 0;
  });
}

void llmhost_host_destroy(llmhost_host *host) { delete host; }

int llmhost_complete(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  if (response_json) *response_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(response_json, "response_json");
    llmhost::Response r = host->host.complete(chat_request(request_json).request);
    r.id = llmhost::openai::new_id("chatcmpl");
    r.created = llmhost::openai::unix_now();
    std::string json;
    llmhost::openai::write_completion(json, r);
    *response_json = handed_out(json);
    return 0;
  });
}

int llmhost_stream(llmhost_host *host, const char *request_json, llmhost_chunk_fn on_chunk, void *user,
                   llmhost_error *err) {
  return guarded(err, [&] {
    need(host, "host");
    need(reinterpret_cast<const void *>(on_chunk), "on_chunk");
    const llmhost::Request request = chat_request(request_json).request;
    const llmhost::openai::StreamMeta meta{llmhost::openai::new_id("chatcmpl"), llmhost::openai::unix_now(),
                                           request.model};
    std::string json;
    bool first = true;
    host->host.stream(request, [&](const llmhost::Chunk &c) {
      json.clear();
      llmhost::openai::write_chunk(json, meta, c, first);
      first = false;
      return on_chunk(user, json.c_str(), json.size()) == 0;
    });
    return 0;
  });
}

int llmhost_complete_text(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  if (response_json) *response_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(response_json, "response_json");
    llmhost::TextCompletion r = host->host.complete_text(text_request(request_json).request);
    r.id = llmhost::openai::new_id("cmpl");
    r.created = llmhost::openai::unix_now();
    std::string json;
    llmhost::openai::write_text_completion(json, r);
    *response_json = handed_out(json);
    return 0;
  });
}

int llmhost_stream_text(llmhost_host *host, const char *request_json, llmhost_chunk_fn on_chunk, void *user,
                        llmhost_error *err) {
  return guarded(err, [&] {
    need(host, "host");
    need(reinterpret_cast<const void *>(on_chunk), "on_chunk");
    const llmhost::Request request = text_request(request_json).request;
    const llmhost::openai::StreamMeta meta{llmhost::openai::new_id("cmpl"), llmhost::openai::unix_now(), request.model,
                                           "text_completion"};
    std::string json;
    host->host.stream_text(request, [&](size_t index, const llmhost::Chunk &c) {
      json.clear();
      llmhost::openai::write_text_chunk(json, meta, index, c);
      return on_chunk(user, json.c_str(), json.size()) == 0;
    });
    return 0;
  });
}

int llmhost_embed(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  if (response_json) *response_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(request_json, "request_json");
    need(response_json, "response_json");
    const auto req =
        parsed_request<llmhost::openai::EmbeddingsRequest>(request_json, llmhost::openai::parse_embeddings_request);
    std::string json;
    llmhost::openai::write_embeddings(
        json, host->host.embed(req.request),
        req.base64 ? llmhost::openai::EmbeddingEncoding::kBase64 : llmhost::openai::EmbeddingEncoding::kFloat);
    *response_json = handed_out(json);
    return 0;
  });
}

int llmhost_rerank(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  if (response_json) *response_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(response_json, "response_json");
    const auto req =
        parsed_request<llmhost::openai::RerankRequestParse>(request_json, llmhost::openai::parse_rerank_request);
    llmhost::RerankResponse r = host->host.rerank(req.rerank);
    r.id = llmhost::openai::new_id("rerank");
    std::string json;
    llmhost::openai::write_rerank(json, r, req.return_documents ? &req.rerank.request.input : nullptr);
    *response_json = handed_out(json);
    return 0;
  });
}

int llmhost_generate_images(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  return images_call(host, request_json, response_json, err, llmhost::openai::parse_image_request,
                     [](llmhost::Host &h, const llmhost::ImageRequest &r) { return h.generate_images(r); });
}

int llmhost_edit_images(llmhost_host *host, const char *request_json, char **response_json, llmhost_error *err) {
  return images_call(host, request_json, response_json, err, llmhost::openai::parse_image_edit_json,
                     [](llmhost::Host &h, const llmhost::ImageRequest &r) { return h.edit_images(r); });
}

int llmhost_providers(llmhost_host *host, char **providers_json, llmhost_error *err) {
  if (providers_json) *providers_json = nullptr;
  return guarded(err, [&] {
    need(host, "host");
    need(providers_json, "providers_json");
    std::string json = "{\"providers\":[";
    bool first = true;
    for (const llmhost::ProviderInfo &p : host->host.providers()) {
      json += first ? "{\"name\":" : ",{\"name\":";
      first = false;
      llmh::append_json_string(json, p.name);
      json += ",\"version\":";
      llmh::append_json_string(json, p.version);
      json += ",\"description\":";
      llmh::append_json_string(json, p.description);
      json += ",\"capabilities\":";
      append_capabilities(json, p);
      json += ",\"file\":";
      llmh::append_json_string(json, p.file);
      json += '}';
    }
    json += "],\"load_errors\":[";
    first = true;
    for (const llmhost::LoadError &e : host->host.load_errors()) {
      json += first ? "{\"file\":" : ",{\"file\":";
      first = false;
      llmh::append_json_string(json, e.file);
      json += ",\"kind\":";
      llmh::append_json_string(json, llmhost::to_string(e.kind));
      json += ",\"message\":";
      llmh::append_json_string(json, e.message);
      json += '}';
    }
    json += "]}";
    *providers_json = handed_out(json);
    return 0;
  });
}

int llmhost_reload(llmhost_host *host, llmhost_error *err) {
  return guarded(err, [&] {
    need(host, "host");
    host->host.reload();
    return 0;
  });
}

void llmhost_free(char *text) { std::free(text); }

}  // extern "C"
