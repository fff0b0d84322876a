#include "cli/commands.hpp"

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "json/base64.hpp"
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
  for (const auto [bit, name] : kCapabilityNames) {
    if (!(caps & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
    if ((bit == kComplete && p.async_complete) || (bit == kStream && p.async_stream)) out += "(async)";
  }
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
  for (const auto [bit, name] : kCapabilityNames)
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
  int width = 12;  // the capabilities column: as wide as its longest entry
  for (const ProviderInfo &p : providers) width = std::max(width, static_cast<int>(capabilities_text(p).size()));
  std::printf("%-16s %-10s %-5s %-*s %-11s %s\n", "NAME", "VERSION", "ABI", width, "CAPABILITIES", "ISOLATION", "FILE");
  for (const ProviderInfo &p : providers)
    std::printf("%-16s %-10s %-5s %-*s %-11s %s\n", p.name.c_str(), p.version.c_str(),
                (std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)).c_str(), width,
                capabilities_text(p).c_str(), std::string(to_string(p.isolation)).c_str(), p.file.c_str());
  if (!errors.empty()) {
    std::printf("\nload errors:\n");
    for (const LoadError &e : errors)
      std::printf("  [%s] %s\n", std::string(to_string(e.kind)).c_str(), e.message.c_str());
  }
  return kOk;
}

namespace {

Request text_request(const CallOptions &opts, const std::string &prompt) {
  Request r = make_request(opts);
  r.input = {prompt};
  return r;
}

int run_complete_text(Host &host, const CallOptions &opts, const std::string &prompt) {
  TextCompletion t = host.complete_text(text_request(opts, prompt));
  std::string out;
  if (opts.json) {
    t.id = openai::new_id("cmpl");
    t.created = openai::unix_now();
    openai::write_text_completion(out, t);
  } else {
    out = t.choices.front().text;
  }
  std::cout << out << '\n';
  return kOk;
}

// Writes one chunk as it arrives: its text, or (--json) its OpenAI object on a line.
class ChunkPrinter {
 public:
  ChunkPrinter(const CallOptions &opts, openai::StreamMeta meta) : json_(opts.json), meta_(std::move(meta)) {}
  bool operator()(const Chunk &c, bool text, size_t index = 0) {
    if (json_) {
      line_.clear();
      if (text)
        openai::write_text_chunk(line_, meta_, index, c);
      else
        openai::write_chunk(line_, meta_, c, first_);
      line_ += '\n';
      std::fwrite(line_.data(), 1, line_.size(), stdout);
    } else if (!c.content.empty()) {  // an empty view may have a null data()
      std::fwrite(c.content.data(), 1, c.content.size(), stdout);
    }
    first_ = false;
    std::fflush(stdout);
    return true;
  }

 private:
  bool json_;
  openai::StreamMeta meta_;
  bool first_ = true;
  std::string line_;
};

}  // namespace

int run_complete(Host &host, const CallOptions &opts, const std::string &prompt) {
  try {
    if (opts.text) return run_complete_text(host, opts, prompt);
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
    if (opts.text) {
      ChunkPrinter print(opts, {openai::new_id("cmpl"), openai::unix_now(), opts.model, "text_completion"});
      host.stream_text(text_request(opts, prompt), [&](size_t index, const Chunk &c) { return print(c, true, index); });
    } else {
      ChunkPrinter print(opts, {openai::new_id("chatcmpl"), openai::unix_now(), opts.model});
      host.stream(chat_request(opts, prompt), [&](const Chunk &c) { return print(c, false); });
    }
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

int run_rerank(Host &host, const CallOptions &opts, const std::string &query, const std::vector<std::string> &documents,
               std::optional<size_t> top_n) {
  try {
    RerankRequest r{make_request(opts), query, top_n};
    r.request.input = documents;
    RerankResponse ranking = host.rerank(r);
    std::string out;
    if (opts.json) {
      ranking.id = openai::new_id("rerank");
      openai::write_rerank(out, ranking, &documents);
      out += '\n';
    } else {
      for (const RerankResult &x : ranking.results) {
        char score[32];
        std::snprintf(score, sizeof score, "%.4f", x.relevance_score);
        out += std::to_string(x.index) + ' ' + score + ' ' + documents[x.index] + '\n';
      }
    }
    std::cout << out;
    return kOk;
  } catch (const Error &e) {
    return fail(e);
  }
}

int run_image(Host &host, const CallOptions &opts, const ImageOptions &image) {
  const std::filesystem::path &out = image.out;
  if (out.empty() && !opts.json) throw UsageError("image: give --out FILE (or --json)");
  try {
    ImageRequest r;
    r.request = make_request(opts);
    r.prompt = image.prompt;
    r.n = image.n;
    r.size = image.size;
    r.response_format = "b64_json";  // the bytes, to write them
    for (const std::filesystem::path &file : image.edit) {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw UsageError("image: cannot read " + file.string() + ": " + std::strerror(errno));
      r.images.push_back({file.filename().string(), {}, std::string(std::istreambuf_iterator<char>(in), {})});
    }
    ImageResponse images = r.images.empty() ? host.generate_images(r) : host.edit_images(r);
    if (opts.json) {
      images.created = openai::unix_now();
      std::string text;
      openai::write_images(text, images);
      std::cout << text << '\n';
      return kOk;
    }
    for (size_t i = 0; i < images.data.size(); ++i) {
      std::filesystem::path path = out;
      if (i > 0) path.replace_filename(out.stem().string() + "-" + std::to_string(i + 1) + out.extension().string());
      const std::optional<std::string> bytes = json::decode_base64(images.data[i].b64_json);
      if (!bytes) throw Error(502, "provider " + images.provider + " returned an image that is not base64");
      std::ofstream file(path, std::ios::binary | std::ios::trunc);
      if (!file.write(bytes->data(), static_cast<std::streamsize>(bytes->size())) || !file.flush())
        throw Error(500, "cannot write " + path.string() + ": " + std::strerror(errno));
      std::cout << path.string() << '\n';
    }
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
