#include "dispatch/abi_call.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <llmhost/json_text.hpp>
#include <llmhost/views.hpp>

#include "json/locate.hpp"

namespace llmhost::detail {
namespace {

using llmh::str;
using llmh::sv;

ToolCall tool_call_of(const llmh_tool_call *c) {
  ToolCall t;
  t.id = sv(c->id);
  if (c->type.len) t.type = sv(c->type);
  t.name = sv(c->name);
  t.arguments = sv(c->arguments);
  return t;
}

CompleteState &state(const llmh_response_builder *b) { return *static_cast<CompleteState *>(b->host_data); }

// Copies the plugin's upstream members into `out` after checking each is a JSON object (or
// empty); returns the name of the first that is not, and copies nothing then. The check scans
// these few members only, never the upstream's whole answer, and skips a text `checked` has
// seen pass (a stream's chunks).
template <class Text>
const char *take_upstream_members(const llmh_upstream_members *m, UpstreamMembers<Text> &out,
                                  CheckedMembers *checked = nullptr) {
  if (!m || !LLMH_HAS_FIELD(m, llmh_upstream_members, message))
    return m ? "upstream_members (struct too small)" : nullptr;
  const std::string_view top = sv(m->top), choice = sv(m->choice), message = sv(m->message);
  static constexpr const char *kNames[] = {"upstream_members.top", "upstream_members.choice",
                                           "upstream_members.message"};
  const std::string_view texts[] = {top, choice, message};
  for (int level = 0; level < 3; ++level) {
    const std::string_view text = texts[level];
    if (text.empty() || (checked && checked->seen(level, text))) continue;
    if (!json::is_object(text)) return kNames[level];
    if (checked) checked->remember(level, text);
  }
  out.top = top;
  out.choice = choice;
  out.message = message;
  out.handed_over = true;
  return nullptr;
}

const llmh_response_builder kResponseBuilderTemplate = {
    sizeof(llmh_response_builder),
    nullptr,
    [](const llmh_response_builder *b, llmh_str t) { state(b).response->content.append(sv(t)); },
    [](const llmh_response_builder *b, llmh_str t) { state(b).response->reasoning.append(sv(t)); },
    [](const llmh_response_builder *b, const llmh_tool_call *c) {
      if (c) state(b).response->tool_calls.push_back(tool_call_of(c));
    },
    [](const llmh_response_builder *b, llmh_str r) { state(b).response->finish_reason = sv(r); },
    [](const llmh_response_builder *b, const llmh_usage *u) { state(b).response->usage = usage_of(u); },
    [](const llmh_response_builder *b, llmh_str m) { state(b).response->model = sv(m); },
    [](const llmh_response_builder *b, llmh_str j) { state(b).response->raw_json = sv(j); },
    [](const llmh_response_builder *b) -> int { return state(b).control->cancelled() ? 1 : 0; },
    [](const llmh_response_builder *b, const llmh_upstream_members *m) {
      CompleteState &st = state(b);
      if (const char *bad = take_upstream_members(m, st.response->upstream_members)) st.bad_members = bad;
    },
};

StreamState &state(const llmh_stream_sink *s) { return *static_cast<StreamState *>(s->host_data); }

// The rare chunk with tool calls: lays its deltas out (on the stack up to 8) and hands the chunk
// on. Kept out of line: with the array in stream_emit, the compiler zeroed it on every text
// chunk, which cost more than the rest of the crossing.
bool deliver(StreamState &st, const Chunk &chunk) {
  if (st.tally) st.tally->add(chunk);
  return (*st.on_chunk)(chunk);
}

[[gnu::noinline]] bool deliver_with_tool_calls(StreamState &st, Chunk &chunk, const llmh_chunk &c) {
  std::array<ToolCallDelta, 8> small;
  std::vector<ToolCallDelta> large;
  ToolCallDelta *out = small.data();
  if (c.tool_call_count > small.size()) {
    large.resize(c.tool_call_count);
    out = large.data();
  }
  for (size_t i = 0; i < c.tool_call_count; ++i) {
    const llmh_tool_call_delta &d = c.tool_calls[i];
    out[i] = ToolCallDelta{d.index, sv(d.id), sv(d.name), sv(d.arguments)};
  }
  chunk.tool_calls = std::span<const ToolCallDelta>(out, c.tool_call_count);
  return deliver(st, chunk);
}

// A chunk as ABI 1.0 laid it out: anything smaller leaves fields unknowable.
constexpr size_t kChunkV1Size = offsetof(llmh_chunk, raw_json) + sizeof(llmh_str);

int stream_emit(const llmh_stream_sink *s, const llmh_chunk *c) {
  StreamState &st = state(s);
  if (st.stopped || st.control->cancelled()) return st.stopped = true, 1;
  if (!c) return 0;
  if (c->struct_size < kChunkV1Size) return st.bad_chunk = st.stopped = true, 1;
  Chunk chunk;
  chunk.content = sv(c->content);
  chunk.reasoning = sv(c->reasoning);
  chunk.finish_reason = sv(c->finish_reason);
  chunk.raw_json = sv(c->raw_json);
  if (c->usage) chunk.usage = usage_of(c->usage);
  if (LLMH_HAS_FIELD(c, llmh_chunk, upstream_members) && c->upstream_members)
    if (const char *bad = take_upstream_members(c->upstream_members, chunk.upstream_members, &st.checked))
      return st.bad_members = bad, st.stopped = true, 1;
  const bool go_on = c->tool_calls && c->tool_call_count ? deliver_with_tool_calls(st, chunk, *c) : deliver(st, chunk);
  if (!go_on) return st.stopped = true, 1;
  return 0;
}

const llmh_stream_sink kStreamSinkTemplate = {
    sizeof(llmh_stream_sink),
    nullptr,
    &stream_emit,
    [](const llmh_stream_sink *s) -> int {
      StreamState &st = state(s);
      return st.stopped || st.control->cancelled() ? 1 : 0;
    },
};

struct EmbedState {
  EmbeddingResponse *response;
  const CallControl *control;
  size_t inputs;
};

EmbedState &state(const llmh_embedding_builder *b) { return *static_cast<EmbedState *>(b->host_data); }

const llmh_embedding_builder kEmbeddingBuilderTemplate = {
    sizeof(llmh_embedding_builder),
    nullptr,
    [](const llmh_embedding_builder *b, size_t index, const float *values, size_t n) {
      EmbedState &st = state(b);
      if (index >= st.inputs || (!values && n)) return;  // out of range: ignored, caught by the check after
      st.response->data[index].assign(values, values + n);
    },
    [](const llmh_embedding_builder *b, const llmh_usage *u) { state(b).response->usage = usage_of(u); },
    [](const llmh_embedding_builder *b, llmh_str m) { state(b).response->model = sv(m); },
    [](const llmh_embedding_builder *b) -> int { return state(b).control->cancelled() ? 1 : 0; },
};

struct RerankState {
  RerankResponse *response;
  const CallControl *control;
  size_t documents;
  std::vector<bool> scored;   // by document
  const char *bad = nullptr;  // what the plugin got wrong, if it did
  size_t bad_index = 0;
};

RerankState &state(const llmh_rerank_builder *b) { return *static_cast<RerankState *>(b->host_data); }

const llmh_rerank_builder kRerankBuilderTemplate = {
    sizeof(llmh_rerank_builder),
    nullptr,
    [](const llmh_rerank_builder *b, size_t index, double score) {
      RerankState &st = state(b);
      if (st.bad) return;
      if (index >= st.documents || st.scored[index] || !std::isfinite(score)) {
        st.bad = index >= st.documents ? "a result for document"
                 : st.scored[index]    ? "two results for document"
                                       : "a score that is no finite number for document";
        st.bad_index = index;
        return;
      }
      st.scored[index] = true;
      st.response->results.push_back({index, score});
    },
    [](const llmh_rerank_builder *b, const llmh_usage *u) { state(b).response->usage = usage_of(u); },
    [](const llmh_rerank_builder *b, llmh_str m) { state(b).response->model = sv(m); },
    [](const llmh_rerank_builder *b) -> int { return state(b).control->cancelled() ? 1 : 0; },
};

}  // namespace

Usage usage_of(const llmh_usage *u) {
  Usage out;
  if (!u || !LLMH_HAS_FIELD(u, llmh_usage, completion_tokens)) return out;  // absent, or too small to trust
  out.prompt_tokens = u->prompt_tokens;
  out.completion_tokens = u->completion_tokens;
  out.total_tokens = u->total_tokens;
  if (!LLMH_HAS_FIELD(u, llmh_usage, total_tokens)) out.total_tokens = out.prompt_tokens + out.completion_tokens;
  return out;
}

void require(const Plugin &plugin, uint64_t cap, const char *call) {
  if (!(plugin.info().capabilities & cap))
    throw Error(501, "provider " + plugin.name() + " does not implement " + call);
}

int64_t coarse_now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::chrono::nanoseconds timeout_of(double timeout_s) {
  return timeout_s > 0 ? std::chrono::nanoseconds(static_cast<int64_t>(std::min(timeout_s, 1e7) * 1e9))
                       : std::chrono::nanoseconds(0);
}

CallControl::CallControl(std::stop_token token, double timeout_s) : cancel(std::move(token)) {
  if (timeout_s > 0) deadline_ns = coarse_now_ns() + timeout_of(timeout_s).count();
}

Error call_failure(const Plugin &plugin, llmh_error &err, const CallControl &control, const llmh_request &req,
                   const char *call) {
  if (control.cancel.stop_requested())
    return Error(499, "call to provider " + plugin.name() + " (" + call + ") was cancelled");
  // Past the deadline, a plugin that said why (its own 408, an upstream error) is believed;
  // one that just gave up (no status, or 499 because cancelled() turned true) gets ours.
  if (control.expired() && (err.status == 0 || err.status == 499))
    return Error(408, "provider " + plugin.name() + " did not finish " + call + " within the timeout of " +
                          std::to_string(req.timeout_s) + " s");
  err.message[LLMH_ERROR_MESSAGE_MAX - 1] = '\0';
  std::string msg = err.message[0] ? std::string(err.message)
                                   : "provider " + plugin.name() + " failed in " + call + " without a message";
  if (err.status >= 400 && err.status <= 599)
    return Error(err.status, msg, control.error_code ? control.error_code : std::string());
  if (err.status != 0)
    msg += " (provider " + plugin.name() + " returned invalid status " + std::to_string(err.status) + ")";
  return Error(500, msg);
}

Error current_error() {
  try {
    throw;
  } catch (Error &e) {
    return std::move(e);
  } catch (const std::exception &e) {
    return Error(500, std::string("llmhost: ") + e.what());
  } catch (...) {
    return Error(500, "llmhost: unknown exception");
  }
}

void fill_defaults(Response &response, const Request &request, const Plugin &plugin) {
  if (response.model.empty()) response.model = request.model;
  response.provider = plugin.name();
  fill_usage(response, request, plugin);
}

void close_stream_usage(StreamState &st, const Request &request) {
  if (!st.tally || st.stopped) return;
  if (std::optional<Chunk> last = st.tally->closing_chunk(request)) (*st.on_chunk)(*last);
}

llmh_error fresh_error() {
  llmh_error e;
  e.struct_size = sizeof e;
  e.status = 0;
  e.message[0] = '\0';
  return e;
}

void tag_error(const llmh_response_builder &builder, const char *code) { state(&builder).control->error_code = code; }
void tag_error(const llmh_stream_sink &sink, const char *code) {
  static_cast<StreamState *>(sink.host_data)->control->error_code = code;
}
void tag_error(const llmh_embedding_builder &builder, const char *code) {
  static_cast<EmbedState *>(builder.host_data)->control->error_code = code;
}
void tag_error(const llmh_rerank_builder &builder, const char *code) { state(&builder).control->error_code = code; }

llmh_stream_sink stream_sink(StreamState &st) {
  llmh_stream_sink sink = kStreamSinkTemplate;
  sink.host_data = &st;
  return sink;
}

llmh_response_builder response_builder(CompleteState &st) {
  llmh_response_builder builder = kResponseBuilderTemplate;
  builder.host_data = &st;
  return builder;
}

CRequest::CRequest(const Request &r, std::string_view model, Body body, bool list_members) {
  size_t calls = 0;
  for (const Message &m : r.messages) calls += m.tool_calls.size();
  tool_calls_.reserve(calls);
  messages_.reserve(r.messages.size());
  for (const Message &m : r.messages) {
    llmh_message cm{};
    cm.struct_size = sizeof cm;
    cm.role = str(m.role);
    cm.content = str(m.content);
    cm.name = str(m.name);
    cm.tool_call_id = str(m.tool_call_id);
    if (!m.tool_calls.empty()) {
      cm.tool_calls = tool_calls_.data() + tool_calls_.size();
      cm.tool_call_count = m.tool_calls.size();
      for (const ToolCall &t : m.tool_calls)
        tool_calls_.push_back({sizeof(llmh_tool_call), str(t.id), str(t.type), str(t.name), str(t.arguments)});
    }
    messages_.push_back(cm);
  }
  const Params &p = r.params;
  params_.struct_size = sizeof params_;
  auto set = [&](auto &field, const auto &opt, uint64_t bit) {
    if (opt) field = *opt, params_.present |= bit;
  };
  set(params_.temperature, p.temperature, LLMH_PARAM_TEMPERATURE);
  set(params_.top_p, p.top_p, LLMH_PARAM_TOP_P);
  set(params_.presence_penalty, p.presence_penalty, LLMH_PARAM_PRESENCE_PENALTY);
  set(params_.frequency_penalty, p.frequency_penalty, LLMH_PARAM_FREQUENCY_PENALTY);
  set(params_.max_tokens, p.max_tokens, LLMH_PARAM_MAX_TOKENS);
  set(params_.n, p.n, LLMH_PARAM_N);
  set(params_.seed, p.seed, LLMH_PARAM_SEED);
  if (p.user) params_.user = str(*p.user), params_.present |= LLMH_PARAM_USER;
  if (!p.stop.empty()) {
    for (const std::string &s : p.stop) stops_.push_back(str(s));
    params_.stop = stops_.data();
    params_.stop_count = stops_.size();
    params_.present |= LLMH_PARAM_STOP;
  }
  for (const std::string &s : r.input) inputs_.push_back(str(s));

  req_.struct_size = sizeof req_;
  req_.model = str(model);
  req_.messages = messages_.data();
  req_.message_count = messages_.size();
  req_.params = &params_;
  req_.inputs = inputs_.data();
  req_.input_count = inputs_.size();
  req_.api_key = str(r.api_key);
  req_.api_base = str(r.api_base);
  req_.timeout_s = r.timeout_s;
  req_.num_retries = r.num_retries;
  req_.body_json = str(body.text);
  if (body.checked && list_members) {
    llmh::JsonMembers walk(body.text);
    std::string_view key, value;
    size_t n = 0;
    while (walk.next(key, value)) {
      const llmh_json_member m{str(key), str(value)};
      if (n < members_.size())
        members_[n] = m;
      else
        more_members_.push_back(m);
      ++n;
    }
    if (!more_members_.empty()) more_members_.insert(more_members_.begin(), members_.begin(), members_.end());
    req_.body_members = more_members_.empty() ? members_.data() : more_members_.data();
    req_.body_member_count = n;
  }
}

namespace {

// The plugin's function answering a completion, or a stream, in `form`, and its name; throws
// 501 when it has none.
struct CompleteFn {
  decltype(llmh_provider::complete) fn;
  const char *name;
};
CompleteFn complete_fn(const Plugin &plugin, Form form) {
  if (form == Form::kChat) {
    require(plugin, LLMH_CAP_COMPLETE, "complete");
    return {plugin.descriptor().complete, "complete"};
  }
  require(plugin, kCompleteText, "text completions (complete_text)");
  return {plugin.text_completion()->complete_text, "complete_text"};
}
struct StreamFn {
  decltype(llmh_provider::stream) fn;
  const char *name;
};
StreamFn stream_fn(const Plugin &plugin, Form form) {
  if (form == Form::kChat) {
    require(plugin, LLMH_CAP_STREAM, "stream");
    return {plugin.descriptor().stream, "stream"};
  }
  require(plugin, kStreamText, "streamed text completions (stream_text)");
  return {plugin.text_completion()->stream_text, "stream_text"};
}

}  // namespace

Response call_complete(const Plugin &plugin, const llmh_request &req, std::stop_token cancel, Form form) {
  const CompleteFn complete = complete_fn(plugin, form);
  Response response;
  const CallControl control(std::move(cancel), req.timeout_s);
  CompleteState st{&response, &control};
  const llmh_response_builder builder = response_builder(st);
  llmh_error err = fresh_error();
  // A plugin that succeeded keeps its answer even when a cancel raced it.
  if (complete.fn(plugin.instance(), &req, &builder, &err) != 0)
    throw call_failure(plugin, err, control, req, complete.name);
  if (std::optional<Error> e = response_failure(plugin, st)) throw std::move(*e);
  return response;
}

std::optional<Error> response_failure(const Plugin &plugin, const CompleteState &st) {
  if (!st.bad_members) return std::nullopt;
  return Error(500, "provider " + plugin.name() + " handed over " + st.bad_members + " that is not a JSON object");
}

void call_stream(const Plugin &plugin, const llmh_request &req, const ChunkCallback &on_chunk, std::stop_token cancel,
                 const Request *request, Form form) {
  const StreamFn stream = stream_fn(plugin, form);
  const CallControl control(std::move(cancel), req.timeout_s);
  StreamState st{&on_chunk, &control};
  const std::unique_ptr<StreamTally> tally = request ? StreamTally::for_call(plugin) : nullptr;
  st.tally = tally.get();
  const llmh_stream_sink sink = stream_sink(st);
  llmh_error err = fresh_error();
  const int rc = stream.fn(plugin.instance(), &req, &sink, &err);
  if (std::optional<Error> e = stream_failure(plugin, rc != 0, err, st, control, req, stream.name)) throw std::move(*e);
  if (request) close_stream_usage(st, *request);
}

std::optional<Error> stream_failure(const Plugin &plugin, bool failed, llmh_error &err, const StreamState &st,
                                    const CallControl &control, const llmh_request &req, const char *call) {
  if (st.bad_chunk)
    return Error(500, "provider " + plugin.name() + " sent a stream chunk with struct_size smaller than " +
                          std::to_string(kChunkV1Size));
  if (st.bad_members)
    return Error(
        500, "provider " + plugin.name() + " sent a stream chunk whose " + st.bad_members + " is not a JSON object");
  // The consumer stopping the stream itself (its callback returned false) is not an error for
  // it; a cancel from outside, or the deadline, is.
  if (st.stopped && !control.cancelled()) return std::nullopt;
  if (failed || st.stopped) return call_failure(plugin, err, control, req, call);
  return std::nullopt;
}

EmbeddingResponse call_embed(const Plugin &plugin, const llmh_request &req, std::stop_token cancel) {
  require(plugin, LLMH_CAP_EMBED, "embed");
  EmbeddingResponse response;
  response.data.resize(req.input_count);
  const CallControl control(std::move(cancel), req.timeout_s);
  EmbedState st{&response, &control, req.input_count};
  llmh_embedding_builder builder = kEmbeddingBuilderTemplate;
  builder.host_data = &st;
  llmh_error err = fresh_error();
  if (plugin.descriptor().embed(plugin.instance(), &req, &builder, &err) != 0)
    throw call_failure(plugin, err, control, req, "embed");
  for (size_t i = 0; i < response.data.size(); ++i)
    if (response.data[i].empty())
      throw Error(502, "provider " + plugin.name() + " returned no embedding for input " + std::to_string(i));
  return response;
}

RerankResponse call_rerank(const Plugin &plugin, const llmh_rerank_request &req, std::stop_token cancel) {
  require(plugin, kRerank, "rerank");
  RerankResponse response;
  const llmh_request &common = *req.common;
  const CallControl control(std::move(cancel), common.timeout_s);
  RerankState st{&response, &control, common.input_count, std::vector<bool>(common.input_count)};
  llmh_rerank_builder builder = kRerankBuilderTemplate;
  builder.host_data = &st;
  llmh_error err = fresh_error();
  if (plugin.rerank()->rerank(plugin.instance(), &req, &builder, &err) != 0)
    throw call_failure(plugin, err, control, common, "rerank");
  if (st.bad)
    throw Error(502, "provider " + plugin.name() + " reported " + st.bad + " " + std::to_string(st.bad_index) + " of " +
                         std::to_string(st.documents));
  std::stable_sort(response.results.begin(), response.results.end(),
                   [](const RerankResult &a, const RerankResult &b) { return a.relevance_score > b.relevance_score; });
  if (response.results.size() > req.top_n) response.results.resize(req.top_n);
  return response;
}

}  // namespace llmhost::detail
