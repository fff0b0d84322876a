// The bridge from C++ calls to the C ABI: lays a Request out as llmh_* views, hands the plugin
// host-implemented builders and sinks, and turns the plugin's results and errors into C++.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/request_body.hpp"
#include "dispatch/usage_fill.hpp"
#include "llmhost/host.hpp"
#include "llmhost/provider.h"
#include "loader/plugin.hpp"

namespace llmhost::detail {

// A Request as C views. Owns only the arrays of views; the strings stay in the Request and
// `body`, which must outlive it. With `list_members` (the plugin reads them), a checked body's
// members are listed (llmh_request.body_members) by walking its text, not by parsing it.
class CRequest {
 public:
  CRequest(const Request &request, std::string_view model, Body body, bool list_members);
  CRequest(const CRequest &) = delete;
  CRequest &operator=(const CRequest &) = delete;
  const llmh_request *get() const { return &req_; }

 private:
  llmh_request req_{};
  llmh_params params_{};
  std::vector<llmh_message> messages_;
  std::vector<llmh_tool_call> tool_calls_;  // all messages' calls, back to back
  std::vector<llmh_str> stops_;
  std::vector<llmh_str> inputs_;
  // Room for the members of a usual body without an allocation.
  std::array<llmh_json_member, 16> members_{};
  std::vector<llmh_json_member> more_members_;
};

// A plugin's usage (zeros when it gave none, or a struct too small to trust).
Usage usage_of(const llmh_usage *u);

// Throws 501 naming the provider when it lacks capability `cap` (LLMH_CAP_*) for `call`.
void require(const Plugin &plugin, uint64_t cap, const char *call);

// The coarse monotonic clock in ns. Deadlines are read per chunk: a few ns per read instead of
// ~20, at a resolution (1-4 ms) far finer than any sensible timeout.
int64_t coarse_now_ns();

// A request's timeout_s as a duration; zero when it sets none (<= 0). At most 1e7 s (115 days):
// a bigger double would overflow int64 nanoseconds (UB).
std::chrono::nanoseconds timeout_of(double timeout_s);

// What ends a call early: the caller's stop token, and the request's timeout as a deadline.
struct CallControl {
  CallControl(std::stop_token token, double timeout_s);
  bool expired() const { return deadline_ns != kNoDeadline && coarse_now_ns() >= deadline_ns; }
  bool cancelled() const { return cancel.stop_requested() || expired(); }

  static constexpr int64_t kNoDeadline = INT64_MAX;
  std::stop_token cancel;
  int64_t deadline_ns = kNoDeadline;
  // The OpenAI error code the call's error carries (Error::code()), a static string; set only
  // by a provider the host implements itself (tag_error).
  mutable const char *error_code = nullptr;
};

// For providers the host implements itself (an isolated plugin's stand-in, isolation/): gives
// the error the call is about to end with an OpenAI error code ("plugin_crashed"), which the
// C ABI has no field for. `code` must be a static string. Not for plugins: they never see it.
void tag_error(const llmh_response_builder &builder, const char *code);
void tag_error(const llmh_stream_sink &sink, const char *code);
void tag_error(const llmh_embedding_builder &builder, const char *code);
void tag_error(const llmh_rerank_builder &builder, const char *code);

// The error a failed call ends with, naming the provider: 499 when the caller cancelled, 408
// past the deadline, else the plugin's own status (400-599; anything else becomes 500).
Error call_failure(const Plugin &plugin, llmh_error &err, const CallControl &control, const llmh_request &req,
                   const char *call);

// The exception being handled as a call's Error: itself, or 500 for any other exception. Call
// only inside a catch block.
Error current_error();

// Fills what a plugin may leave out of a response: the model (the one asked for) and the
// provider that answered.
void fill_defaults(Response &response, const Request &request, const Plugin &plugin);

// A zeroed error for a plugin to fill.
llmh_error fresh_error();

// What a response builder writes into; must outlive the builder.
struct CompleteState {
  Response *response;
  const CallControl *control;
  const char *bad_members = nullptr;  // which upstream_members text was not a JSON object
};
// The error for a completion whose plugin reported success: 500 when it handed over upstream
// members that are not JSON objects (they would corrupt the answer), else nothing.
std::optional<Error> response_failure(const Plugin &plugin, const CompleteState &st);
// The host's llmh_response_builder writing into `st`. Its functions may be called from any
// thread, one at a time.
llmh_response_builder response_builder(CompleteState &st);

// What a stream sink delivers to; must outlive the sink.
// The upstream member texts (top, choice, message) of the last chunk that passed the check, up
// to 64 bytes each: a stream's chunks mostly repeat them (a system_fingerprint), and a text
// equal to one already checked needs no second check.
class CheckedMembers {
 public:
  bool seen(int level, std::string_view text) const {
    return text.size() == len_[level] && std::memcmp(text_[level], text.data(), text.size()) == 0;
  }
  void remember(int level, std::string_view text) {
    len_[level] = text.size() <= kMax ? text.size() : kNone;
    if (len_[level] != kNone) std::memcpy(text_[level], text.data(), text.size());
  }

 private:
  static constexpr size_t kMax = 64, kNone = SIZE_MAX;
  char text_[3][kMax];
  size_t len_[3] = {kNone, kNone, kNone};
};

struct StreamState {
  StreamState(const ChunkCallback *c, const CallControl *ctl) : on_chunk(c), control(ctl) {}
  const ChunkCallback *on_chunk;
  const CallControl *control;
  bool stopped = false;               // the consumer said stop, or the call was cancelled; latched
  bool bad_chunk = false;             // the plugin sent a chunk too small to read
  const char *bad_members = nullptr;  // or one whose upstream_members text was no JSON object
  CheckedMembers checked;
  StreamTally *tally = nullptr;  // sees every chunk delivered, when usage may need counting
};
// After a stream that ended well: its estimated usage chunk to `st`'s consumer, when the
// provider reported none (and st.tally is set).
void close_stream_usage(StreamState &st, const Request &request);
// The host's llmh_stream_sink delivering to `st`. Its functions may be called from any thread,
// one at a time.
llmh_stream_sink stream_sink(StreamState &st);
// How a stream that has ended went: nothing when it finished or its consumer stopped it, else
// the error (`failed`: the plugin reported `err`).
std::optional<Error> stream_failure(const Plugin &plugin, bool failed, llmh_error &err, const StreamState &st,
                                    const CallControl &control, const llmh_request &req, const char *call = "stream");

// Which of a plugin's calls answers: its chat call, or its text completion
// (llmhost/text_completion.h), which takes and gives the same types.
enum class Form { kChat, kText };

// Throw 501 naming the provider when it lacks the call in `form`.
Response call_complete(const Plugin &plugin, const llmh_request &req, std::stop_token cancel, Form form = Form::kChat);
// `request`: the call's request, whose usage the host counts when the provider reports none;
// null (a worker process) to count none.
void call_stream(const Plugin &plugin, const llmh_request &req, const ChunkCallback &on_chunk, std::stop_token cancel,
                 const Request *request = nullptr, Form form = Form::kChat);
EmbeddingResponse call_embed(const Plugin &plugin, const llmh_request &req, std::stop_token cancel);
// The scores the plugin gives, checked (each document at most once, in range), sorted best
// first and cut to req.top_n. 501 when the provider does not rerank.
RerankResponse call_rerank(const Plugin &plugin, const llmh_rerank_request &req, std::stop_token cancel);

}  // namespace llmhost::detail
