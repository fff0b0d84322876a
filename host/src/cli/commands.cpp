#include "cli/commands.hpp"

#include <cstdio>
#include <iostream>

#include "json/writer.hpp"
#include "openai/response.hpp"

namespace llmhost::cli {
namespace {

int fail(const Error &e) {
  std::cerr << "llmhost: error " << e.status() << ": " << e.what() << '\n';
  return kCallFailed;
}

std::string capabilities_text(const ProviderInfo &p) {
  const uint64_t caps = p.capabilities;
  std::string out;
  auto add = [&](uint64_t bit, const char *name) {
    if (!(caps & bit)) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(kComplete, p.async_complete ? "complete(async)" : "complete");
  add(kStream, p.async_stream ? "stream(async)" : "stream");
  add(kEmbed, "embed");
  return out.empty() ? "-" : out;
}

void write_info(json::Writer &w, const ProviderInfo &p) {
  w.begin_object()
      .member("name", p.name)
      .member("version", p.version)
      .member("description", p.description)
      .member("abi_version", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor))
      .member("isolation", to_string(p.isolation))
      .member("file", p.file);
  w.key("capabilities").begin_array();
  for (auto [bit, name] : {std::pair{kComplete, "complete"}, {kStream, "stream"}, {kEmbed, "embed"}})
    if (p.capabilities & bit) w.value(name);
  w.end_array();
  w.key("async").begin_array();  // the calls with the asynchronous form (no thread while they wait)
  if (p.async_complete) w.value("complete");
  if (p.async_stream) w.value("stream");
  w.end_array();
  w.key("models").begin_array();
  for (const std::string &m : p.models) w.value(m);
  w.end_array().end_object();
}

void print_info_text(const ProviderInfo &p) {
  std::cout << "name:         " << p.name << "\nversion:      " << p.version << "\ndescription:  " << p.description
            << "\nabi version:  " << p.abi_major << '.' << p.abi_minor << "\ncapabilities: " << capabilities_text(p)
            << "\nfile:         " << p.file << '\n';
  if (!p.models.empty()) {
    std::cout << "models:      ";
    for (const std::string &m : p.models) std::cout << ' ' << m;
    std::cout << '\n';
  }
}

Request chat_request(const CallOptions &opts, const std::string &prompt) {
  Request r = make_request(opts);
  r.messages.push_back({"user", prompt, {}, {}, {}});
  return r;
}

}  // namespace

int run_providers(Host &host, bool json) {
  const auto providers = host.providers();
  const auto errors = host.load_errors();
  if (json) {
    std::string out;
    json::Writer w(out);
    w.begin_object().key("providers").begin_array();
    for (const ProviderInfo &p : providers) write_info(w, p);
    w.end_array().key("errors").begin_array();
    for (const LoadError &e : errors)
      w.begin_object()
          .member("kind", to_string(e.kind))
          .member("file", e.file)
          .member("message", e.message)
          .end_object();
    w.end_array().end_object();
    std::cout << out << '\n';
    return kOk;
  }
  std::printf("%-16s %-10s %-5s %-37s %-11s %s\n", "NAME", "VERSION", "ABI", "CAPABILITIES", "ISOLATION", "FILE");
  for (const ProviderInfo &p : providers)
    std::printf("%-16s %-10s %-5s %-37s %-11s %s\n", p.name.c_str(), p.version.c_str(),
                (std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)).c_str(), capabilities_text(p).c_str(),
                std::string(to_string(p.isolation)).c_str(), p.file.c_str());
  if (!errors.empty()) {
    std::printf("\nload errors:\n");
    for (const LoadError &e : errors)
      std::printf("  [%s] %s\n", std::string(to_string(e.kind)).c_str(), e.message.c_str());
  }
  return kOk;
}

int run_complete(Host &host, const CallOptions &opts, const std::string &prompt) {
  try {
    Response r = host.complete(chat_request(opts, prompt));
    if (opts.json) {
      r.id = openai::new_id("chatcmpl");
      r.created = openai::unix_now();
      std::string out;
      openai::write_completion(out, r);
      std::cout << out << '\n';
      return kOk;
    }
    std::cout << r.content;
    for (const ToolCall &t : r.tool_calls)
      std::cout << (r.content.empty() ? "" : "\n") << "tool call " << t.id << ": " << t.name << '(' << t.arguments
                << ')';
    std::cout << '\n';
    return kOk;
  } catch (const Error &e) {
    return fail(e);
  }
}

int run_stream(Host &host, const CallOptions &opts, const std::string &prompt) {
  try {
    const Request request = chat_request(opts, prompt);
    const openai::StreamMeta meta{openai::new_id("chatcmpl"), openai::unix_now(), request.model};
    bool first = true;
    std::string line;
    host.stream(request, [&](const Chunk &c) {
      if (opts.json) {
        line.clear();
        openai::write_chunk(line, meta, c, first);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
      } else if (!c.content.empty()) {  // an empty view may have a null data()
        std::fwrite(c.content.data(), 1, c.content.size(), stdout);
      }
      first = false;
      std::fflush(stdout);
      return true;
    });
    if (!opts.json) std::cout << '\n';
    return kOk;
  } catch (const Error &e) {
    std::cout.flush();
    if (!opts.json) std::cout << '\n';
    return fail(e);
  }
}

int run_embed(Host &host, const CallOptions &opts, const std::vector<std::string> &texts) {
  try {
    Request r = make_request(opts);
    r.input = texts;
    const EmbeddingResponse e = host.embed(r);
    std::string out;
    if (opts.json) {
      openai::write_embeddings(out, e);
      out += '\n';
    } else {
      for (const auto &v : e.data) {
        json::Writer w(out);
        w.begin_array();
        for (float f : v) w.value(f);
        w.end_array();
        out += '\n';
      }
    }
    std::cout << out;
    return kOk;
  } catch (const Error &e) {
    return fail(e);
  }
}

int run_check(const std::filesystem::path &file, bool allow_untrusted) {
  try {
    print_info_text(Host::check(file, allow_untrusted));
    std::cout << "ok: " << file.string() << " is a valid llmhost plugin\n";
    return kOk;
  } catch (const LoadException &e) {
    std::cerr << "llmhost: " << to_string(e.error().kind) << ": " << e.what() << '\n';
    return kCallFailed;
  }
}

}  // namespace llmhost::cli
