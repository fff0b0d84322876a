// The value types of the embeddable C++ API: requests, responses, chunks, provider listings.
// Plain data; no type here touches a plugin.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost {

struct ToolCall {
  std::string id;
  std::string type = "function";
  std::string name;
  std::string arguments;  // JSON text as the model produced it
};

struct Message {
  std::string role;
  std::string content;
  std::string name;          // optional
  std::string tool_call_id;  // role "tool"
  std::vector<ToolCall> tool_calls;
};

// Common parameters; std::nullopt means "not sent".
struct Params {
  std::optional<double> temperature, top_p, presence_penalty, frequency_penalty;
  std::optional<int64_t> max_tokens, n, seed;
  std::vector<std::string> stop;  // empty = not sent
  std::optional<std::string> user;
};

// One call. `model` is "provider/model"; the provider part is everything before the first '/'.
struct Request {
  std::string model;
  std::vector<Message> messages;   // chat calls
  std::vector<std::string> input;  // embed calls: the texts; text completions: the prompts
  Params params;
  std::string api_key;
  std::string api_base;
  double timeout_s = 0;  // 0 = the provider's default
  uint32_t num_retries = 2;
  // The full request body as a JSON object (every key the caller sent). Empty means the host
  // builds one from the fields above; when set, `extra_json` keys are still merged into it.
  std::string body_json;
  // Extra keys (a JSON object text, e.g. {"mock_response":"x"}) merged into the body the
  // plugin sees; how the CLI's --param and config params reach a plugin.
  std::string extra_json;
  // True when body_json is known to be one valid JSON object: set by the host's own request
  // parser, so that the host hands a plugin the body's members without parsing it again.
  // Leave it false unless you have validated body_json yourself (a wrong true hands the plugin
  // members cut from invalid text).
  bool body_json_checked = false;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  // Counted by the host with the model's tiktoken encoding, because the provider reported no
  // usage (HostOptions::estimate_usage, docs/tokens.md).
  bool estimated = false;
};

// A token count and the tiktoken encoding that made it ("o200k_base", "cl100k_base").
struct TokenCount {
  int64_t tokens = 0;
  std::string encoding;
};

// Members of the upstream's answer that llmhost does not model (system_fingerprint, logprobs,
// refusal, ...), as JSON object texts, one per level of the OpenAI object the front ends write;
// each object's members are appended there verbatim. Empty: none.
template <class Text>
struct UpstreamMembers {
  Text top;      // the chat.completion(.chunk) object
  Text choice;   // choices[0]
  Text message;  // choices[0].message, or choices[0].delta in a chunk
  // The plugin said what passes through (ABI 1.3), if only that nothing does; without it the
  // front ends look for these members in raw_json.
  bool handed_over = false;
};

struct Response {
  std::string id;       // "chatcmpl-..." made by the host
  int64_t created = 0;  // unix seconds
  std::string model;
  std::string provider;
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason = "stop";
  Usage usage;
  std::string raw_json;                           // the upstream's JSON, when the plugin handed it over
  UpstreamMembers<std::string> upstream_members;  // what to pass through, when the plugin said
};

struct ToolCallDelta {
  uint32_t index = 0;
  std::string_view id, name, arguments;
};

// One streamed chunk. Every view is valid only during the callback that receives it.
struct Chunk {
  std::string_view content;
  std::string_view reasoning;
  std::span<const ToolCallDelta> tool_calls;
  std::string_view finish_reason;
  std::optional<Usage> usage;
  std::string_view raw_json;
  UpstreamMembers<std::string_view> upstream_members;
};

// A text completion (OpenAI's legacy /v1/completions): one choice per prompt, in order.
struct TextChoice {
  std::string text;
  std::string finish_reason = "stop";
};
struct TextCompletion {
  std::string id;       // "cmpl-..." made by the front end; empty from Host
  int64_t created = 0;  // unix seconds; 0 from Host
  std::string model;
  std::string provider;
  std::vector<TextChoice> choices;
  Usage usage;  // of every prompt together; estimated when any part was
};

// A rerank call (Cohere's and Jina's /v1/rerank): `request` carries the model, the key and base
// URL, the body, and the documents in `input`.
struct RerankRequest {
  Request request;
  std::string query;
  std::optional<size_t> top_n;  // how many results; nullopt: one per document
};
struct RerankResult {
  size_t index = 0;  // the document's, in request.input
  double relevance_score = 0;
};
struct RerankResponse {
  std::string id;  // made by the front end; empty from Host
  std::string model;
  std::string provider;
  std::vector<RerankResult> results;  // best first, at most top_n
  Usage usage;
};

// One file of an image edit: an image to change, or the mask.
struct ImageFile {
  std::string filename;      // as the caller named it; may be empty
  std::string content_type;  // as the caller declared it ("image/png"); may be empty
  std::string data;          // the file's bytes
};
// An images call (OpenAI's /v1/images/generations and /v1/images/edits): `request` carries the
// model, the key and base URL, the timeout and the body (every key the caller sent).
struct ImageRequest {
  Request request;
  std::string prompt;
  int64_t n = 1;                        // 1..10
  std::string size, quality, style;     // empty: not given
  std::string response_format = "url";  // or "b64_json"
  std::vector<ImageFile> images;        // edits: the images to change
  std::optional<ImageFile> mask;        // edits: where to change them
};
// One image of an answer, in the format asked: `url` (a data: URL when the provider handed over
// the image itself), or `b64_json`.
struct Image {
  std::string url;
  std::string b64_json;
  std::string revised_prompt;
};
struct ImageResponse {
  int64_t created = 0;  // unix seconds; 0 from Host
  std::string model;
  std::string provider;
  std::vector<Image> data;
  Usage usage;
};

struct EmbeddingResponse {
  std::string model;
  std::string provider;
  std::vector<std::vector<float>> data;  // one vector per input, in order
  Usage usage;
};

// What a provider serves (ProviderInfo::capabilities). The first three are the descriptor's
// LLMH_CAP_* bits; the others come from the extension tables the plugin offers.
enum Capability : uint64_t {
  kComplete = 1u << 0,
  kStream = 1u << 1,
  kEmbed = 1u << 2,
  kCompleteText = 1u << 8,     // text completions ("llmhost.text_completion.v1")
  kStreamText = 1u << 9,       // streamed text completions (the table's stream_text)
  kRerank = 1u << 10,          // reranking ("llmhost.rerank.v1")
  kGenerateImages = 1u << 11,  // image generation ("llmhost.images.v1")
  kEditImages = 1u << 12,      // image edits (the table's edit)
};
// Every capability, with its name as listings print it ("complete_text"), in listing order.
struct CapabilityName {
  Capability bit;
  std::string_view name;
};
inline constexpr CapabilityName kCapabilityNames[] = {
    {kComplete, "complete"},
    {kStream, "stream"},
    {kEmbed, "embed"},
    {kCompleteText, "complete_text"},
    {kStreamText, "stream_text"},
    {kRerank, "rerank"},
    {kGenerateImages, "generate_images"},
    {kEditImages, "edit_images"},
};
inline constexpr uint64_t kAllCapabilities =
    kComplete | kStream | kEmbed | kCompleteText | kStreamText | kRerank | kGenerateImages | kEditImages;

// Where a plugin's code runs (docs/isolation.md): in the host's process, or in a worker process
// of its own, where a crash or a hang takes down only that plugin's calls.
enum class Isolation { kInProcess, kProcess };

// "in_process" or "process", as config and the CLI spell them.
constexpr std::string_view to_string(Isolation isolation) noexcept {
  return isolation == Isolation::kProcess ? "process" : "in_process";
}
// The isolation a name spells; false for any other text.
constexpr bool parse_isolation(std::string_view name, Isolation &out) noexcept {
  if (name == "process") return out = Isolation::kProcess, true;
  if (name == "in_process") return out = Isolation::kInProcess, true;
  return false;
}

struct ProviderInfo {
  std::string name;
  std::string version;
  std::string description;
  uint32_t abi_major = 0, abi_minor = 0;
  std::string file;  // the plugin file as found in the plugin folder
  uint64_t capabilities = 0;
  bool async_complete = false;  // complete has the asynchronous call form (llmhost/async.h)
  bool async_stream = false;    // so has stream (ABI 1.2)
  std::vector<std::string> models;
  Isolation isolation = Isolation::kInProcess;
};

// The worker process of an isolated plugin, as Host::workers() reports it.
struct WorkerStatus {
  std::string provider;  // as the plugin declares it
  std::string file;      // the plugin file in its folder
  // "starting" (a worker is loading the plugin; calls wait for it), "running", "restarting"
  // (after a crash, until the backoff elapses; calls get 503) or "unavailable" (crashing in a
  // loop: calls get 503 until a new build arrives or the longest backoff elapses).
  std::string state;
  long pid = 0;                             // the worker running now; 0 when none is
  uint64_t starts = 0;                      // workers started for this build, the first included
  std::map<std::string, uint64_t> crashes;  // by reason: signal, exit, hang, protocol, start
  std::string last_crash;                   // what ended the last worker that crashed; empty if none
};

}  // namespace llmhost
