#include "isolation/messages.hpp"

#include <cstring>

#include <llmhost/views.hpp>

namespace llmhost::isolation {
namespace {

// The smallest encodings, so that a count can be checked against what is left before anything
// is reserved for it (Decoder::count).
constexpr size_t kMinString = 4;
constexpr size_t kMinToolCall = 4 * kMinString;
constexpr size_t kMinMessage = 4 * kMinString + 4;
constexpr size_t kMinDelta = 4 + 3 * kMinString;

// Bits of the params presence mask, in the order the values follow.
constexpr uint32_t kTemperature = 1u << 0, kTopP = 1u << 1, kPresencePenalty = 1u << 2, kFrequencyPenalty = 1u << 3,
                   kMaxTokens = 1u << 4, kN = 1u << 5, kSeed = 1u << 6, kUser = 1u << 7, kAllParams = (1u << 8) - 1;

void put_tool_calls(Encoder &e, const std::vector<ToolCall> &calls) {
  e.u32(static_cast<uint32_t>(calls.size()));
  for (const ToolCall &t : calls) e.str(t.id).str(t.type).str(t.name).str(t.arguments);
}

std::vector<ToolCall> get_tool_calls(Decoder &d) {
  std::vector<ToolCall> out(d.count(kMinToolCall));
  for (ToolCall &t : out) {
    t.id = d.str();
    t.type = d.str();
    t.name = d.str();
    t.arguments = d.str();
  }
  return out;
}

void put_strings(Encoder &e, const std::vector<std::string> &list) {
  e.u32(static_cast<uint32_t>(list.size()));
  for (const std::string &s : list) e.str(s);
}

std::vector<std::string> get_strings(Decoder &d) {
  std::vector<std::string> out(d.count(kMinString));
  for (std::string &s : out) s = d.str();
  return out;
}

void put_usage(Encoder &e, const Usage &u) { e.i64(u.prompt_tokens).i64(u.completion_tokens).i64(u.total_tokens); }

Usage get_usage(Decoder &d) {
  Usage u;
  u.prompt_tokens = d.i64();
  u.completion_tokens = d.i64();
  u.total_tokens = d.i64();
  return u;
}

template <class Text>
void put_members(Encoder &e, const UpstreamMembers<Text> &m) {
  e.u8(m.handed_over ? 1 : 0).str(m.top).str(m.choice).str(m.message);
}

// A flag byte that is neither 0 nor 1 is as malformed as a short payload.
bool get_flag(Decoder &d, bool &ok) {
  const uint8_t v = d.u8();
  ok = ok && v <= 1;
  return v == 1;
}

template <class Text>
void get_members(Decoder &d, UpstreamMembers<Text> &m, bool &ok) {
  m.handed_over = get_flag(d, ok);
  m.top = d.str();
  m.choice = d.str();
  m.message = d.str();
}

void put_params(Encoder &e, const llmh_params &p) {
  const auto has = [&](uint64_t bit) { return (p.present & bit) != 0; };
  uint32_t present = 0;
  present |= has(LLMH_PARAM_TEMPERATURE) ? kTemperature : 0;
  present |= has(LLMH_PARAM_TOP_P) ? kTopP : 0;
  present |= has(LLMH_PARAM_PRESENCE_PENALTY) ? kPresencePenalty : 0;
  present |= has(LLMH_PARAM_FREQUENCY_PENALTY) ? kFrequencyPenalty : 0;
  present |= has(LLMH_PARAM_MAX_TOKENS) ? kMaxTokens : 0;
  present |= has(LLMH_PARAM_N) ? kN : 0;
  present |= has(LLMH_PARAM_SEED) ? kSeed : 0;
  present |= has(LLMH_PARAM_USER) ? kUser : 0;
  e.u32(present);
  if (present & kTemperature) e.f64(p.temperature);
  if (present & kTopP) e.f64(p.top_p);
  if (present & kPresencePenalty) e.f64(p.presence_penalty);
  if (present & kFrequencyPenalty) e.f64(p.frequency_penalty);
  if (present & kMaxTokens) e.i64(p.max_tokens);
  if (present & kN) e.i64(p.n);
  if (present & kSeed) e.i64(p.seed);
  if (present & kUser) e.str(llmh::sv(p.user));
  const size_t stops = has(LLMH_PARAM_STOP) ? p.stop_count : 0;
  e.u32(static_cast<uint32_t>(stops));
  for (size_t i = 0; i < stops; ++i) e.str(llmh::sv(p.stop[i]));
}

void get_params(Decoder &d, Params &p, bool &ok) {
  const uint32_t present = d.u32();
  ok = ok && (present & ~kAllParams) == 0;
  if (present & kTemperature) p.temperature = d.f64();
  if (present & kTopP) p.top_p = d.f64();
  if (present & kPresencePenalty) p.presence_penalty = d.f64();
  if (present & kFrequencyPenalty) p.frequency_penalty = d.f64();
  if (present & kMaxTokens) p.max_tokens = d.i64();
  if (present & kN) p.n = d.i64();
  if (present & kSeed) p.seed = d.i64();
  if (present & kUser) p.user = std::string(d.str());
  p.stop = get_strings(d);
}

void put_file(Encoder &e, const llmh_image_file &f) {
  e.str(llmh::sv(f.filename)).str(llmh::sv(f.content_type)).str(llmh::sv(f.data));
}

ImageFile get_file(Decoder &d) {
  ImageFile f;
  f.filename = d.str();
  f.content_type = d.str();
  f.data = d.str();
  return f;
}

}  // namespace

void encode_call(std::string &out, CallKind kind, const llmh_request &r, bool body_checked, CallParts parts) {
  using llmh::sv;
  Encoder e(out);
  e.u8(static_cast<uint8_t>(kind)).str(sv(r.model));
  e.u32(static_cast<uint32_t>(r.message_count));
  for (size_t i = 0; i < r.message_count; ++i) {
    const llmh_message &m = r.messages[i];
    e.str(sv(m.role)).str(sv(m.content)).str(sv(m.name)).str(sv(m.tool_call_id));
    e.u32(static_cast<uint32_t>(m.tool_call_count));
    for (size_t k = 0; k < m.tool_call_count; ++k) {
      const llmh_tool_call &t = m.tool_calls[k];
      e.str(sv(t.id)).str(sv(t.type)).str(sv(t.name)).str(sv(t.arguments));
    }
  }
  e.u32(static_cast<uint32_t>(r.input_count));
  for (size_t i = 0; i < r.input_count; ++i) e.str(sv(r.inputs[i]));
  put_params(e, *r.params);
  e.str(sv(r.api_key)).str(sv(r.api_base)).f64(r.timeout_s).u32(r.num_retries);
  e.str(sv(r.body_json)).u8(body_checked ? 1 : 0);
  const llmh_rerank_request *rerank = parts.rerank;
  if (kind == CallKind::kRerank) e.str(rerank ? sv(rerank->query) : std::string_view()).u64(rerank ? rerank->top_n : 0);
  if (kind != CallKind::kGenerateImages && kind != CallKind::kEditImages) return;
  const llmh_image_request empty{};
  const llmh_image_request &i = parts.image ? *parts.image : empty;
  e.str(sv(i.prompt)).i64(i.n).str(sv(i.size)).str(sv(i.quality)).str(sv(i.style)).str(sv(i.response_format));
  e.u32(static_cast<uint32_t>(i.image_count));
  for (size_t k = 0; k < i.image_count; ++k) put_file(e, i.images[k]);
  e.u8(i.mask ? 1 : 0);
  if (i.mask) put_file(e, *i.mask);
}

bool decode_call(std::string_view payload, CallMessage &call) {
  Decoder d(payload);
  bool ok = true;
  const uint8_t kind = d.u8();
  ok = kind >= static_cast<uint8_t>(CallKind::kComplete) && kind <= static_cast<uint8_t>(CallKind::kEditImages);
  call.kind = static_cast<CallKind>(kind);
  call.model = d.str();
  Request &r = call.request;
  r.messages.resize(d.count(kMinMessage));
  for (Message &m : r.messages) {
    m.role = d.str();
    m.content = d.str();
    m.name = d.str();
    m.tool_call_id = d.str();
    m.tool_calls = get_tool_calls(d);
  }
  r.input = get_strings(d);
  get_params(d, r.params, ok);
  r.api_key = d.str();
  r.api_base = d.str();
  r.timeout_s = d.f64();
  r.num_retries = d.u32();
  r.body_json = d.str();
  r.body_json_checked = get_flag(d, ok);
  if (call.kind == CallKind::kRerank) {
    call.query = d.str();
    call.top_n = d.u64();
  }
  if (call.kind == CallKind::kGenerateImages || call.kind == CallKind::kEditImages) {
    ImageRequest &i = call.image;
    i.prompt = d.str();
    i.n = d.i64();
    i.size = d.str();
    i.quality = d.str();
    i.style = d.str();
    i.response_format = d.str();
    i.images.resize(d.count(12));
    for (ImageFile &f : i.images) f = get_file(d);
    if (get_flag(d, ok)) i.mask = get_file(d);
  }
  return ok && d.done();
}

void encode_chunk(std::string &out, const Chunk &c) {
  Encoder e(out);
  e.str(c.content).str(c.reasoning).str(c.finish_reason).str(c.raw_json);
  e.u32(static_cast<uint32_t>(c.tool_calls.size()));
  for (const ToolCallDelta &t : c.tool_calls) e.u32(t.index).str(t.id).str(t.name).str(t.arguments);
  e.u8(c.usage ? 1 : 0);
  if (c.usage) put_usage(e, *c.usage);
  put_members(e, c.upstream_members);
}

bool decode_chunk(std::string_view payload, ChunkView &v) {
  Decoder d(payload);
  bool ok = true;
  Chunk &c = v.chunk;
  c.content = d.str();
  c.reasoning = d.str();
  c.finish_reason = d.str();
  c.raw_json = d.str();
  v.deltas.resize(d.count(kMinDelta));
  for (ToolCallDelta &t : v.deltas) {
    t.index = d.u32();
    t.id = d.str();
    t.name = d.str();
    t.arguments = d.str();
  }
  c.tool_calls = v.deltas;
  c.usage.reset();
  if (get_flag(d, ok)) c.usage = get_usage(d);
  get_members(d, c.upstream_members, ok);
  return ok && d.done();
}

void encode_done_error(std::string &out, int status, std::string_view message) {
  Encoder(out).u8(static_cast<uint8_t>(DoneKind::kError)).u32(static_cast<uint32_t>(status)).str(message);
}

void encode_done_response(std::string &out, const Response &r) {
  Encoder e(out);
  e.u8(static_cast<uint8_t>(DoneKind::kResponse));
  e.str(r.model).str(r.content).str(r.reasoning).str(r.finish_reason).str(r.raw_json);
  put_tool_calls(e, r.tool_calls);
  put_usage(e, r.usage);
  put_members(e, r.upstream_members);
}

void encode_done_embeddings(std::string &out, const EmbeddingResponse &r) {
  Encoder e(out);
  e.u8(static_cast<uint8_t>(DoneKind::kEmbeddings)).str(r.model);
  e.u32(static_cast<uint32_t>(r.data.size()));
  for (const std::vector<float> &v : r.data) {
    e.u32(static_cast<uint32_t>(v.size()));
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      e.u32(bits);
    }
  }
  put_usage(e, r.usage);
}

void encode_done_stream(std::string &out) { Encoder(out).u8(static_cast<uint8_t>(DoneKind::kStream)); }

bool decode_done(std::string_view payload, DoneMessage &done) {
  Decoder d(payload);
  bool ok = true;
  done.kind = static_cast<DoneKind>(d.u8());
  switch (done.kind) {
    case DoneKind::kError:
      done.status = static_cast<int>(d.u32());
      done.message = d.str();
      ok = done.status >= 400 && done.status <= 599;
      break;
    case DoneKind::kResponse: {
      Response &r = done.response;
      r.model = d.str();
      r.content = d.str();
      r.reasoning = d.str();
      r.finish_reason = d.str();
      r.raw_json = d.str();
      r.tool_calls = get_tool_calls(d);
      r.usage = get_usage(d);
      get_members(d, r.upstream_members, ok);
      break;
    }
    case DoneKind::kEmbeddings: {
      EmbeddingResponse &r = done.embeddings;
      r.model = d.str();
      r.data.resize(d.count(4));
      for (std::vector<float> &v : r.data) {
        v.resize(d.count(4));
        for (float &f : v) {
          const uint32_t bits = d.u32();
          std::memcpy(&f, &bits, sizeof f);
        }
      }
      r.usage = get_usage(d);
      break;
    }
    case DoneKind::kStream: break;
    case DoneKind::kRanking: {
      RerankResponse &r = done.ranking;
      r.model = d.str();
      r.results.resize(d.count(16));
      for (RerankResult &x : r.results) {
        x.index = static_cast<size_t>(d.u64());
        x.relevance_score = d.f64();
      }
      r.usage = get_usage(d);
      break;
    }
    case DoneKind::kImages: {
      detail::PluginImages &r = done.images;
      r.model = d.str();
      r.images.resize(d.count(16));
      for (detail::PluginImage &x : r.images) {
        x.url = d.str();
        x.b64_json = d.str();
        x.data = d.str();
        x.revised_prompt = d.str();
      }
      r.usage = get_usage(d);
      break;
    }
    default: ok = false;
  }
  return ok && d.done();
}

void encode_done_ranking(std::string &out, const RerankResponse &r) {
  Encoder e(out);
  e.u8(static_cast<uint8_t>(DoneKind::kRanking)).str(r.model);
  e.u32(static_cast<uint32_t>(r.results.size()));
  for (const RerankResult &x : r.results) e.u64(x.index).f64(x.relevance_score);
  put_usage(e, r.usage);
}

void encode_done_images(std::string &out, const detail::PluginImages &r) {
  Encoder e(out);
  e.u8(static_cast<uint8_t>(DoneKind::kImages)).str(r.model);
  e.u32(static_cast<uint32_t>(r.images.size()));
  for (const detail::PluginImage &x : r.images) e.str(x.url).str(x.b64_json).str(x.data).str(x.revised_prompt);
  put_usage(e, r.usage);
}

void encode_hello(std::string &out, const ProviderInfo &info, bool reads_body_members) {
  Encoder e(out);
  e.u8(1).str(info.name).str(info.version).str(info.description).u32(info.abi_major).u32(info.abi_minor);
  e.u64(info.capabilities).u8(info.async_complete ? 1 : 0).u8(info.async_stream ? 1 : 0);
  put_strings(e, info.models);
  e.u8(reads_body_members ? 1 : 0);
}

void encode_hello_error(std::string &out, std::string_view kind, std::string_view message) {
  Encoder(out).u8(0).str(kind).str(message);
}

void encode_config_request(std::string &out, std::string_view provider) { Encoder(out).u8(2).str(provider); }

bool decode_hello(std::string_view payload, HelloMessage &hello) {
  Decoder d(payload);
  const uint8_t tag = d.u8();
  bool ok = tag <= 2;
  hello.ok = tag == 1;
  hello.needs_config = tag == 2;
  if (hello.needs_config) {
    hello.info.name = d.str();
    return ok && d.done();
  }
  if (!hello.ok) {
    hello.error_kind = d.str();
    hello.error_message = d.str();
    return ok && d.done();
  }
  ProviderInfo &i = hello.info;
  i.name = d.str();
  i.version = d.str();
  i.description = d.str();
  i.abi_major = d.u32();
  i.abi_minor = d.u32();
  i.capabilities = d.u64();
  i.async_complete = get_flag(d, ok);
  i.async_stream = get_flag(d, ok);
  i.models = get_strings(d);
  hello.reads_body_members = get_flag(d, ok);
  return ok && d.done();
}

void encode_setup(std::string &out, std::string_view config_json) { Encoder(out).str(config_json); }

bool decode_setup(std::string_view payload, std::string &config_json) {
  Decoder d(payload);
  config_json = d.str();
  return d.done();
}

void encode_log(std::string &out, int level, std::string_view message) {
  Encoder(out).u8(static_cast<uint8_t>(level)).str(message);
}

bool decode_log(std::string_view payload, int &level, std::string_view &message) {
  Decoder d(payload);
  level = d.u8();
  message = d.str();
  return d.done() && level <= LLMH_LOG_ERROR;
}

void encode_credit(std::string &out, uint32_t chunks) { Encoder(out).u32(chunks); }

bool decode_credit(std::string_view payload, uint32_t &chunks) {
  Decoder d(payload);
  chunks = d.u32();
  return d.done() && chunks > 0;
}

}  // namespace llmhost::isolation
