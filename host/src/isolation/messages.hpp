// What the frames between the host and a worker carry (isolation/frame.hpp): a call's request,
// a stream chunk, an answer, an error, the loaded plugin's description. Each decode_* reads the
// whole payload and returns false, having filled nothing to rely on, for any payload that is not
// exactly what the matching encode_* writes: the host kills a worker that sends one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/image_call.hpp"
#include "isolation/frame.hpp"
#include "llmhost/provider.h"
#include "llmhost/rerank.h"
#include "llmhost/types.hpp"

namespace llmhost::isolation {

// kCompleteText, kStreamText: the text completion of llmhost/text_completion.h, which takes and
// gives what kComplete and kStream do.
// kRerank: llmhost/rerank.h's call, whose request carries a query and a top_n too; kGenerateImages
// and kEditImages: llmhost/images.h's, whose request carries the image options and files.
enum class CallKind : uint8_t {
  kComplete = 1,
  kStream = 2,
  kEmbed = 3,
  kCompleteText = 4,
  kStreamText = 5,
  kRerank = 6,
  kGenerateImages = 7,
  kEditImages = 8
};
constexpr bool is_stream(CallKind kind) { return kind == CallKind::kStream || kind == CallKind::kStreamText; }
// The answer a call of `kind` ends with, when it does not fail.
enum class DoneKind : uint8_t;
constexpr DoneKind answer_of(CallKind kind);

// kCall: the kind, and the request as the host lays it out for a plugin (the model as the
// plugin sees it, the body it is handed; `body_checked`: the host knows the body is one valid
// JSON object, so the worker lists its members without parsing it).
struct CallMessage {
  CallKind kind = CallKind::kComplete;
  std::string model;
  Request request;     // body_json is the whole body; body_json_checked as sent
  std::string query;   // kRerank
  uint64_t top_n = 0;  // kRerank
  ImageRequest image;  // kGenerateImages, kEditImages: all but image.request (that is `request`)
};
// What a call carries beside its llmh_request, for the kinds that carry more: the call whose
// common part the request is.
struct CallParts {
  const llmh_rerank_request *rerank = nullptr;  // kRerank
  const llmh_image_request *image = nullptr;    // kGenerateImages, kEditImages
};
void encode_call(std::string &out, CallKind kind, const llmh_request &request, bool body_checked, CallParts parts = {});
bool decode_call(std::string_view payload, CallMessage &call);

// kChunk: one chunk, decoded in place: its views point into the payload it came from, and
// are valid while that lives unchanged. Reused from chunk to chunk, so that decoding a stream
// allocates nothing once `deltas` has room; not copyable, since `chunk` views `deltas`.
struct ChunkView {
  Chunk chunk;
  std::vector<ToolCallDelta> deltas;  // chunk.tool_calls

  ChunkView() = default;
  ChunkView(const ChunkView &) = delete;
  ChunkView &operator=(const ChunkView &) = delete;
};
void encode_chunk(std::string &out, const Chunk &chunk);
bool decode_chunk(std::string_view payload, ChunkView &chunk);

// kDone: a call's end: an error (status and message), or the answer of a completion
// (`response`), of an embedding (`embeddings`), or of a stream (nothing: its chunks came before).
enum class DoneKind : uint8_t { kError = 1, kResponse = 2, kEmbeddings = 3, kStream = 4, kRanking = 5, kImages = 6 };
constexpr DoneKind answer_of(CallKind kind) {
  if (kind == CallKind::kEmbed) return DoneKind::kEmbeddings;
  if (kind == CallKind::kRerank) return DoneKind::kRanking;
  if (kind == CallKind::kGenerateImages || kind == CallKind::kEditImages) return DoneKind::kImages;
  return is_stream(kind) ? DoneKind::kStream : DoneKind::kResponse;
}
struct DoneMessage {
  DoneKind kind = DoneKind::kError;
  int status = 0;
  std::string message;
  Response response;
  EmbeddingResponse embeddings;
  RerankResponse ranking;
  detail::PluginImages images;  // as the plugin handed them over: the host answers in the format asked
};
void encode_done_error(std::string &out, int status, std::string_view message);
void encode_done_response(std::string &out, const Response &response);
void encode_done_embeddings(std::string &out, const EmbeddingResponse &embeddings);
void encode_done_stream(std::string &out);
void encode_done_ranking(std::string &out, const RerankResponse &ranking);
void encode_done_images(std::string &out, const detail::PluginImages &images);
bool decode_done(std::string_view payload, DoneMessage &done);

// kHello, worker -> host: the plugin the worker loaded, or the load error (`ok` false), or,
// before either, a request for the config of the provider it found (`needs_config`, the name in
// info.name), which the host answers with encode_setup.
struct HelloMessage {
  bool ok = false;
  bool needs_config = false;
  ProviderInfo info;
  bool reads_body_members = false;  // the plugin declares LLMH_CAP_BODY_MEMBERS
  std::string error_kind, error_message;
};
void encode_hello(std::string &out, const ProviderInfo &info, bool reads_body_members);
void encode_hello_error(std::string &out, std::string_view kind, std::string_view message);
void encode_config_request(std::string &out, std::string_view provider);
bool decode_hello(std::string_view payload, HelloMessage &hello);

// kHello, host -> worker, the answer to a config request: the JSON object handed to the
// plugin's create(). Not on the command line, where other users could read its secrets; and
// only once the worker names its provider, so that no plugin sees another's config.
void encode_setup(std::string &out, std::string_view config_json);
bool decode_setup(std::string_view payload, std::string &config_json);

// kLog: a log line of the plugin, at an llmh_log_level (the host names the provider itself).
void encode_log(std::string &out, int level, std::string_view message);
bool decode_log(std::string_view payload, int &level, std::string_view &message);

// kCredit: how many more chunks a stream may send (frame.hpp, kStreamWindow).
void encode_credit(std::string &out, uint32_t chunks);
bool decode_credit(std::string_view payload, uint32_t &chunks);

}  // namespace llmhost::isolation
