// echo: a deterministic provider for tests and benchmarks.
//
// complete: replies with the last user message's content (finish_reason "stop"); usage counts
//           whitespace-separated words (prompt: all messages, completion: the reply).
// stream:   the same reply, one chunk per word (each keeping its leading whitespace, so the
//           chunks concatenate to the reply), then a final chunk with "stop" and usage.
// embed:    a deterministic unit vector of dimension 8 per input, seeded by FNV-1a of the text.
// complete_text, stream_text (llmhost/text_completion.h): as complete and stream, with the
//           prompt for the reply.
// rerank:   (llmhost/rerank.h) each document's score is the share of the query's distinct words
//           (ASCII letters lower-cased) that it contains; usage counts the words of both.
// generate_images, edit_images (llmhost/images.h): n PNG files of 8x8 pixels, handed over as
//           bytes, whose colours come from FNV-1a of the prompt (and, for an edit, of the first
//           image's bytes) and the image's number; revised_prompt is the prompt.
//
// Test knobs, read from extra keys of the request body:
//   mock_response      string   reply with this text instead
//   mock_delay_ms      number   sleep this long per call (per chunk when streaming); cancellable
//   mock_error_status  integer  fail the call with this status (100..599)
//
// Thread-safe: the instance's only mutable state is a mutex-guarded pool of JSON parsers;
// everything else lives on the calling thread.
#include <llmhost/provider.hpp>

#include <simdjson.h>

#include "common/pool.hpp"
#include "png.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kEmbeddingDimensions = 8;

// ' ', \t, \n, \v, \f, \r: one compare for every byte above ' ', one bit test below.
bool is_space(char c) noexcept {
  constexpr uint64_t kSpaces =
      (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\v') | (1ull << '\f') | (1ull << '\r');
  const auto u = static_cast<unsigned char>(c);
  return u <= ' ' && ((kSpaces >> u) & 1);
}

int64_t count_words(std::string_view text) noexcept {
  int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (is_space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

// The test knobs of one call.
struct Knobs {
  std::optional<std::string> response;  // mock_response
  int64_t delay_ms = 0;                 // mock_delay_ms
  int error_status = 0;                 // mock_error_status; 0 = none
};

// A parser and a padded copy of the body, reused from call to call (common/pool.hpp): a call
// with knobs pays for a parse, not for a parser.
struct Scratch {
  simdjson::ondemand::parser parser;
  std::string padded;  // the body, then SIMDJSON_PADDING bytes
  std::size_t retained_bytes() const noexcept { return padded.capacity(); }
};
using ScratchPool = llmh_plugins::Pool<Scratch>;

// Reads the knobs from the request body. Fast path: no parse unless "mock_" occurs in it.
Knobs read_knobs(std::string_view body, ScratchPool &pool) {
  Knobs k;
  if (body.find("mock_") == std::string_view::npos) return k;

  const ScratchPool::Lease scratch = pool.take();
  std::string &padded = scratch->padded;
  padded.assign(body);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::parser &parser = scratch->parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(simdjson::padded_string_view(padded.data(), body.size(), padded.size())).get(doc) ||
      doc.get_object().get(obj))
    throw llmh::Error(400, "echo: request body is not a JSON object");
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key))
      throw llmh::Error(400, "echo: request body is not valid JSON");
    if (key == "mock_response") {
      std::string_view s;
      if (field.value().get_string().get(s)) throw llmh::Error(400, "echo: mock_response must be a string");
      k.response.emplace(s);
    } else if (key == "mock_delay_ms") {
      double ms = 0;
      if (field.value().get_double().get(ms) || !(ms >= 0) || ms > 3.6e6)
        throw llmh::Error(400, "echo: mock_delay_ms must be a number in 0..3600000");
      k.delay_ms = static_cast<int64_t>(ms);
    } else if (key == "mock_error_status") {
      int64_t status = 0;
      if (field.value().get_int64().get(status) || status < 100 || status > 599)
        throw llmh::Error(400, "echo: mock_error_status must be an integer in 100..599");
      k.error_status = static_cast<int>(status);
    }
  }
  return k;
}

// Sleeps `ms`; returns false once `cancelled()` is true. The ABI offers no wake-up on cancel, only
// the poll, so it sleeps in slices: 25 ms keeps a cancel prompt for a person or a test, while
// 1,000 open delayed streams wake 40,000 times a second, not the 500,000 of 2 ms slices (which
// kept a whole core busy).
template <class Cancelled>
bool sleep_cancellable(int64_t ms, const Cancelled &cancelled) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(ms);
  constexpr auto slice = std::chrono::milliseconds(25);
  for (;;) {
    if (cancelled()) return false;
    const auto now = clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_until(deadline - now < slice ? deadline : now + slice);
  }
}

// Applies the delay and error knobs shared by every call; throws on error or cancellation.
template <class Cancelled>
void apply_common_knobs(const Knobs &k, const Cancelled &cancelled) {
  if (k.delay_ms > 0 && !sleep_cancellable(k.delay_ms, cancelled)) throw llmh::Error(408, "echo: cancelled");
  if (k.error_status != 0) {
    // snprintf, not std::to_string: the latter drags an exported weak libstdc++ object in.
    char message[96];
    std::snprintf(message, sizeof message, "echo: mock error %d requested by mock_error_status", k.error_status);
    throw llmh::Error(k.error_status, message);
  }
}

// The reply: mock_response, or the last user message's content (empty when none), or a text
// completion's prompt.
std::string_view reply_text(const llmh::Request &req, const Knobs &k) noexcept {
  if (k.response) return *k.response;
  return req.raw().message_count ? req.last_user_content() : req.prompt();
}

int64_t prompt_words(const llmh::Request &req) noexcept {
  int64_t words = count_words(req.prompt());
  for (llmh::Message m : req.messages()) words += count_words(m.content());
  return words;
}

// The distinct words of `text`, ASCII letters lower-cased, sorted.
std::vector<std::string> distinct_words(std::string_view text) {
  std::vector<std::string> words(1);
  for (char c : text) {
    if (is_space(c)) {
      if (!words.back().empty()) words.emplace_back();
    } else {
      words.back().push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  if (words.back().empty()) words.pop_back();
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

uint64_t fnv1a64(std::string_view text) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t &state) noexcept {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Echo final : public llmh::Provider {
 public:
  using Provider::Provider;

  void complete(const llmh::Request &req, llmh::Response &out) override {
    const Knobs k = read_knobs(req.body_json(), pool_);
    apply_common_knobs(k, [&] { return out.cancelled(); });
    const std::string_view reply = reply_text(req, k);
    out.content(reply);
    out.finish_reason("stop");
    out.usage(prompt_words(req), count_words(reply));
  }

  void stream(const llmh::Request &req, llmh::Stream &out) override {
    const Knobs k = read_knobs(req.body_json(), pool_);
    Knobs first_call = k;  // the error knob applies before the first chunk; delays per chunk
    first_call.delay_ms = 0;
    apply_common_knobs(first_call, [&] { return out.cancelled(); });
    const std::string_view reply = reply_text(req, k);
    auto cancelled = [&] { return out.cancelled(); };

    // One chunk per word: [end of previous chunk, end of this word); trailing whitespace goes
    // with the last word, and whitespace-only text is one chunk.
    const std::size_t n = reply.size();
    std::size_t start = 0, i = 0;
    while (i < n) {
      while (i < n && is_space(reply[i])) ++i;
      if (i == n) break;
      while (i < n && !is_space(reply[i])) ++i;
      std::size_t j = i;
      while (j < n && is_space(reply[j])) ++j;
      const std::size_t end = j == n ? n : i;
      if (k.delay_ms > 0 && !sleep_cancellable(k.delay_ms, cancelled)) return;
      if (!out.emit_text(reply.substr(start, end - start))) return;
      start = i = end;
    }
    if (start < n) {
      if (k.delay_ms > 0 && !sleep_cancellable(k.delay_ms, cancelled)) return;
      if (!out.emit_text(reply.substr(start))) return;
    }
    out.finish("stop", llmh::make_usage(prompt_words(req), count_words(reply)));
  }

  void complete_text(const llmh::Request &req, llmh::Response &out) override { complete(req, out); }
  void stream_text(const llmh::Request &req, llmh::Stream &out) override { stream(req, out); }

  void rerank(const llmh::RerankRequest &req, llmh::Ranking &out) override {
    const Knobs k = read_knobs(req.common().body_json(), pool_);
    apply_common_knobs(k, [&] { return out.cancelled(); });
    const std::vector<std::string> query = distinct_words(req.query());
    int64_t words = count_words(req.query());
    std::size_t index = 0;
    for (std::string_view document : req.documents()) {
      const std::vector<std::string> has = distinct_words(document);
      std::size_t shared = 0;
      for (const std::string &w : query) shared += std::binary_search(has.begin(), has.end(), w) ? 1 : 0;
      out.score(index++, query.empty() ? 0.0 : static_cast<double>(shared) / static_cast<double>(query.size()));
      words += count_words(document);
    }
    out.usage(words);
  }

  void generate_images(const llmh::ImageRequest &req, llmh::Images &out) override { draw(req, out, 0); }
  void edit_images(const llmh::ImageRequest &req, llmh::Images &out) override {
    draw(req, out, fnv1a64(req.images()[0].data()));
  }

  void embed(const llmh::Request &req, llmh::Embeddings &out) override {
    const Knobs k = read_knobs(req.body_json(), pool_);
    apply_common_knobs(k, [&] { return out.cancelled(); });
    int64_t words = 0;
    std::size_t index = 0;
    float v[kEmbeddingDimensions];
    for (std::string_view input : req.inputs()) {
      words += count_words(input);
      uint64_t state = fnv1a64(input);
      double norm = 0;
      for (float &x : v) {
        // 53 random bits -> [-1, 1)
        x = static_cast<float>(static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-52 - 1.0);
        norm += static_cast<double>(x) * x;
      }
      norm = std::sqrt(norm);
      for (float &x : v) x = norm > 0 ? static_cast<float>(x / norm) : 1.0f / std::sqrt(8.0f);
      out.set(index++, v, kEmbeddingDimensions);
    }
    out.usage(words);
  }

 private:
  // n images of 8x8 pixels, each seeded by the prompt, `salt` and its number.
  void draw(const llmh::ImageRequest &req, llmh::Images &out, uint64_t salt) {
    const Knobs k = read_knobs(req.common().body_json(), pool_);
    apply_common_knobs(k, [&] { return out.cancelled(); });
    constexpr uint32_t kSide = 8;
    std::string rgb(kSide * kSide * 3, '\0');
    for (int64_t i = 0; i < req.n(); ++i) {
      uint64_t state = fnv1a64(req.prompt()) ^ salt ^ static_cast<uint64_t>(i);
      for (char &c : rgb) c = static_cast<char>(splitmix64(state) & 0xff);
      out.add_data(echo_png::encode_rgb(kSide, kSide, rgb), req.prompt());
    }
    out.usage(count_words(req.prompt()));
  }

  ScratchPool pool_;
};

}  // namespace

LLMH_PROVIDER(Echo, "echo", "1.0.0", "Deterministic echo provider for tests and benchmarks (mock_* body knobs)",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED)
