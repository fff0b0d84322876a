#include "isolation/isolated_plugin.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <llmhost/views.hpp>

#include "dispatch/abi_call.hpp"

namespace llmhost::isolation {
namespace {

using llmh::str;

// The stand-in's instance: what its descriptor describes, and the supervisor its calls go to.
struct StandIn {
  std::shared_ptr<Supervisor> supervisor;
  llmh_provider descriptor{};
  llmh_async_provider async{};
  llmh_text_completion_provider text{};
  llmh_rerank_provider rerank{};
  llmh_images_provider images{};
  std::vector<const char *> models;  // views into supervisor->hello().info, NULL-terminated
};

Supervisor &supervisor_of(void *instance) { return *static_cast<StandIn *>(instance)->supervisor; }

// The host checked the body is one JSON object when it listed its members for us.
bool body_checked(const llmh_request &r) {
  return LLMH_HAS_FIELD(&r, llmh_request, body_members) && r.body_members != nullptr;
}

llmh_error error_of(const DoneMessage &done) {
  llmh_error err = detail::fresh_error();
  err.status = done.status;
  const size_t n = std::min(done.message.size(), sizeof err.message - 1);
  std::memcpy(err.message, done.message.data(), n);
  err.message[n] = '\0';
  return err;
}

llmh_usage usage_of(const Usage &u) {
  return {sizeof(llmh_usage), u.prompt_tokens, u.completion_tokens, u.total_tokens};
}

void fill(const llmh_response_builder &b, const Response &r) {
  if (!r.content.empty()) b.append_content(&b, str(r.content));
  if (!r.reasoning.empty()) b.append_reasoning(&b, str(r.reasoning));
  for (const ToolCall &t : r.tool_calls) {
    const llmh_tool_call c{sizeof(llmh_tool_call), str(t.id), str(t.type), str(t.name), str(t.arguments)};
    b.add_tool_call(&b, &c);
  }
  b.set_finish_reason(&b, str(r.finish_reason));
  const llmh_usage usage = usage_of(r.usage);
  b.set_usage(&b, &usage);
  if (!r.model.empty()) b.set_model(&b, str(r.model));
  if (!r.raw_json.empty()) b.set_raw_json(&b, str(r.raw_json));
  if (r.upstream_members.handed_over) {
    const llmh_upstream_members m{sizeof(llmh_upstream_members), str(r.upstream_members.top),
                                  str(r.upstream_members.choice), str(r.upstream_members.message)};
    b.set_upstream_members(&b, &m);
  }
}

// A call whose answer goes into a builder of the host's. The supervisor's thread polls
// cancelled() while the answer may be handled on another (the I/O loop reading the channel),
// and the builder goes with the call's end: so cancelled() reads it only until on_done takes it.
template <class Builder>
class BuilderCall : public PendingCall {
 public:
  explicit BuilderCall(const Builder *out) : out_(out) {}
  void on_chunk(std::string_view) override {}  // never: the supervisor checks what a call gets
  bool cancelled() override {
    std::lock_guard lock(mu_);
    return out_ && out_->cancelled(out_) != 0;
  }

 protected:
  // The builder, once: from here on cancelled() is false.
  const Builder &take() {
    std::lock_guard lock(mu_);
    return *std::exchange(out_, nullptr);
  }

 private:
  std::mutex mu_;
  const Builder *out_;
};

// A completion in flight: its answer goes into the host's builder, then to `finish`.
class CompleteCall final : public BuilderCall<llmh_response_builder> {
 public:
  using Finish = std::function<void(const llmh_error *)>;
  CompleteCall(const llmh_response_builder *out, Finish finish) : BuilderCall(out), finish_(std::move(finish)) {}
  void on_done(DoneMessage &&done, const char *code) override {
    const llmh_response_builder &out = take();
    if (done.kind != DoneKind::kError) {
      fill(out, done.response);
      return finish_(nullptr);
    }
    if (code) detail::tag_error(out, code);
    const llmh_error err = error_of(done);
    finish_(&err);
  }

 private:
  Finish finish_;
};

// An embedding in flight; the caller waits for `result`.
class EmbedCall final : public BuilderCall<llmh_embedding_builder> {
 public:
  EmbedCall(const llmh_embedding_builder *out, size_t inputs) : BuilderCall(out), inputs_(inputs) {}
  void on_done(DoneMessage &&done, const char *code) override {
    const llmh_embedding_builder &out = take();
    if (done.kind == DoneKind::kError) {
      if (code) detail::tag_error(out, code);
      return result.set_value(error_of(done));
    }
    const EmbeddingResponse &r = done.embeddings;
    if (r.data.size() > inputs_) {
      done.status = 502;
      done.message = "the worker returned " + std::to_string(r.data.size()) + " embeddings for " +
                     std::to_string(inputs_) + " inputs";
      return result.set_value(error_of(done));
    }
    for (size_t i = 0; i < r.data.size(); ++i) out.set_embedding(&out, i, r.data[i].data(), r.data[i].size());
    const llmh_usage usage = usage_of(r.usage);
    out.set_usage(&out, &usage);
    if (!r.model.empty()) out.set_model(&out, str(r.model));
    result.set_value(std::nullopt);
  }

  std::promise<std::optional<llmh_error>> result;

 private:
  size_t inputs_;
};

// A rerank in flight; the caller waits for `result`.
class RerankCall final : public BuilderCall<llmh_rerank_builder> {
 public:
  using BuilderCall::BuilderCall;
  void on_done(DoneMessage &&done, const char *code) override {
    const llmh_rerank_builder &out = take();
    if (done.kind == DoneKind::kError) {
      if (code) detail::tag_error(out, code);
      return result.set_value(error_of(done));
    }
    const RerankResponse &r = done.ranking;
    for (const RerankResult &x : r.results) out.add_result(&out, x.index, x.relevance_score);  // the host checks them
    const llmh_usage usage = usage_of(r.usage);
    out.set_usage(&out, &usage);
    if (!r.model.empty()) out.set_model(&out, str(r.model));
    result.set_value(std::nullopt);
  }

  std::promise<std::optional<llmh_error>> result;
};

// An images call in flight; the caller waits for `result`.
class ImagesCall final : public BuilderCall<llmh_image_builder> {
 public:
  using BuilderCall::BuilderCall;
  void on_done(DoneMessage &&done, const char *code) override {
    const llmh_image_builder &out = take();
    if (done.kind == DoneKind::kError) {
      if (code) detail::tag_error(out, code);
      return result.set_value(error_of(done));
    }
    const detail::PluginImages &r = done.images;
    for (const detail::PluginImage &x : r.images) {  // the host checks them
      const llmh_image image{sizeof(llmh_image), str(x.url), str(x.b64_json), str(x.data), str(x.revised_prompt)};
      out.add_image(&out, &image);
    }
    const llmh_usage usage = usage_of(r.usage);
    out.set_usage(&out, &usage);
    if (!r.model.empty()) out.set_model(&out, str(r.model));
    result.set_value(std::nullopt);
  }

  std::promise<std::optional<llmh_error>> result;
};

// A stream in flight: the supervisor queues its chunks' payloads, and the thread running the
// host's `stream` decodes each in place and hands it to the sink, so that a slow consumer holds
// up only this stream. The queue holds at most kStreamWindow chunks: the worker sends no more
// until credited.
class StreamCall final : public PendingCall {
 public:
  void on_chunk(std::string_view payload) override {
    std::lock_guard lock(mu);
    const uint32_t size = static_cast<uint32_t>(payload.size());  // a frame's payload fits (frame.hpp)
    queue.append(reinterpret_cast<const char *>(&size), sizeof size).append(payload);
    if (queue.size() == sizeof size + payload.size()) ready.notify_one();  // it waits only on an empty queue
  }
  void on_done(DoneMessage &&d, const char *c) override {
    std::lock_guard lock(mu);
    done = std::move(d);
    code = c;
    ready.notify_one();
  }
  bool cancelled() override { return false; }  // the stream's own thread watches its sink

  std::mutex mu;
  std::condition_variable ready;
  std::string queue;  // payloads, each behind its size (host byte order)
  std::optional<DoneMessage> done;
  const char *code = nullptr;
};

// Calls `fn` with each payload of a batch StreamCall::queue built.
template <class Fn>
void for_each_payload(std::string_view batch, Fn fn) {
  while (!batch.empty()) {
    uint32_t size;
    std::memcpy(&size, batch.data(), sizeof size);
    fn(batch.substr(sizeof size, size));
    batch.remove_prefix(sizeof size + size);
  }
}

// A chunk as the C views a sink takes; reused from chunk to chunk.
class CChunk {
 public:
  const llmh_chunk *of(const Chunk &c) {
    chunk_ = {};
    chunk_.struct_size = sizeof chunk_;
    chunk_.content = str(c.content);
    chunk_.reasoning = str(c.reasoning);
    chunk_.finish_reason = str(c.finish_reason);
    chunk_.raw_json = str(c.raw_json);
    deltas_.clear();
    for (const ToolCallDelta &t : c.tool_calls)
      deltas_.push_back({sizeof(llmh_tool_call_delta), t.index, str(t.id), str(t.name), str(t.arguments)});
    chunk_.tool_calls = deltas_.empty() ? nullptr : deltas_.data();
    chunk_.tool_call_count = deltas_.size();
    if (c.usage) {
      usage_ = usage_of(*c.usage);
      chunk_.usage = &usage_;
    }
    if (c.upstream_members.handed_over) {
      members_ = {sizeof(llmh_upstream_members), str(c.upstream_members.top), str(c.upstream_members.choice),
                  str(c.upstream_members.message)};
      chunk_.upstream_members = &members_;
    }
    return &chunk_;
  }

 private:
  llmh_chunk chunk_{};
  std::vector<llmh_tool_call_delta> deltas_;
  llmh_usage usage_{};
  llmh_upstream_members members_{};
};

int fail_with(llmh_error *err, const llmh_error &e) {
  err->status = e.status;
  std::memcpy(err->message, e.message, sizeof err->message);
  return 1;
}

// ---- The descriptor's functions ----

int create_refused(const llmh_host_api *, const llmh_config *, void **, llmh_error *err) {
  return llmh_error_set(err, 500, "an isolated plugin's stand-in is created by the host");
}

void complete_async(void *instance, const llmh_request *req, const llmh_response_builder *out,
                    const llmh_call_done *done) {
  auto call = std::make_shared<CompleteCall>(out, [done](const llmh_error *err) { done->finish(done, err); });
  supervisor_of(instance).begin(std::move(call), CallKind::kComplete, *req, body_checked(*req));
}

// `complete`, and the text completion's complete_text (kCompleteText).
template <CallKind kKind>
int complete(void *instance, const llmh_request *req, const llmh_response_builder *out, llmh_error *err) {
  std::promise<std::optional<llmh_error>> result;
  auto call = std::make_shared<CompleteCall>(
      out, [&result](const llmh_error *e) { result.set_value(e ? std::optional<llmh_error>(*e) : std::nullopt); });
  std::future<std::optional<llmh_error>> ended = result.get_future();
  supervisor_of(instance).begin(std::move(call), kKind, *req, body_checked(*req));
  const std::optional<llmh_error> e = ended.get();
  return e ? fail_with(err, *e) : 0;
}

int embed(void *instance, const llmh_request *req, const llmh_embedding_builder *out, llmh_error *err) {
  auto call = std::make_shared<EmbedCall>(out, req->input_count);
  std::future<std::optional<llmh_error>> ended = call->result.get_future();
  supervisor_of(instance).begin(std::move(call), CallKind::kEmbed, *req, body_checked(*req));
  const std::optional<llmh_error> e = ended.get();
  return e ? fail_with(err, *e) : 0;
}

int rerank(void *instance, const llmh_rerank_request *req, const llmh_rerank_builder *out, llmh_error *err) {
  auto call = std::make_shared<RerankCall>(out);
  std::future<std::optional<llmh_error>> ended = call->result.get_future();
  supervisor_of(instance).begin(std::move(call), CallKind::kRerank, *req->common, body_checked(*req->common),
                                {.rerank = req});
  const std::optional<llmh_error> e = ended.get();
  return e ? fail_with(err, *e) : 0;
}

// The images table's generate (kGenerateImages) and edit (kEditImages).
template <CallKind kKind>
int images(void *instance, const llmh_image_request *req, const llmh_image_builder *out, llmh_error *err) {
  auto call = std::make_shared<ImagesCall>(out);
  std::future<std::optional<llmh_error>> ended = call->result.get_future();
  supervisor_of(instance).begin(std::move(call), kKind, *req->common, body_checked(*req->common), {.image = req});
  const std::optional<llmh_error> e = ended.get();
  return e ? fail_with(err, *e) : 0;
}

// `stream`, and the text completion's stream_text (kStreamText).
template <CallKind kKind>
int stream(void *instance, const llmh_request *req, const llmh_stream_sink *sink, llmh_error *err) {
  Supervisor &supervisor = supervisor_of(instance);
  // As for the other calls (Supervisor::watch_calls), the worker keeps the deadline itself:
  // from a little before it on, a cancelled() sink is not taken for the caller's cancel.
  const auto deadline = req->timeout_s > 0 ? std::chrono::steady_clock::now() + detail::timeout_of(req->timeout_s) -
                                                 std::chrono::milliseconds(100)
                                           : std::chrono::steady_clock::time_point::max();
  auto call = std::make_shared<StreamCall>();
  const uint64_t id = supervisor.begin(call, kKind, *req, body_checked(*req));
  bool stopped = false;  // the consumer gave up: the rest of the stream is dropped
  uint32_t taken = 0;    // chunks delivered since the last credit
  std::string batch;     // swapped with the queue: the two keep their room
  ChunkView decoded;
  CChunk c_chunk;
  std::unique_lock lock(call->mu);
  for (;;) {
    // The timeout: a consumer that cancels between chunks is heard within it.
    call->ready.wait_for(lock, std::chrono::milliseconds(10), [&] { return !call->queue.empty() || call->done; });
    if (call->queue.empty() && call->done) break;
    batch.swap(call->queue);  // every chunk that has come, in one go
    lock.unlock();
    if (!stopped && std::chrono::steady_clock::now() < deadline && sink->cancelled(sink)) {
      stopped = true;
      supervisor.cancel(id);
    }
    for_each_payload(batch, [&](std::string_view payload) {
      if (stopped) return;
      decode_chunk(payload, decoded);  // the supervisor checked it
      if (sink->emit(sink, c_chunk.of(decoded.chunk)) != 0) {
        stopped = true;
        supervisor.cancel(id);
      } else if (++taken >= kStreamWindow / 2) {
        supervisor.credit(id, taken);
        taken = 0;
      }
    });
    batch.clear();
    lock.lock();
  }
  if (call->done->kind != DoneKind::kError) return 0;
  if (call->code) detail::tag_error(*sink, call->code);
  return fail_with(err, error_of(*call->done));
}

const void *get_extension(void *instance, const char *id) {
  auto *s = static_cast<StandIn *>(instance);
  if (std::strcmp(id, LLMH_ASYNC_EXTENSION_ID) == 0 && (s->descriptor.capabilities & LLMH_CAP_COMPLETE))
    return &s->async;
  if (std::strcmp(id, LLMH_TEXT_COMPLETION_EXTENSION_ID) == 0 && s->text.complete_text) return &s->text;
  if (std::strcmp(id, LLMH_RERANK_EXTENSION_ID) == 0 && s->rerank.rerank) return &s->rerank;
  if (std::strcmp(id, LLMH_IMAGES_EXTENSION_ID) == 0 && s->images.generate) return &s->images;
  return nullptr;
}

}  // namespace

std::shared_ptr<detail::Plugin> load_isolated(const std::filesystem::path &file, const std::filesystem::path &copy,
                                              std::shared_ptr<const detail::HostServices> services,
                                              const SupervisorSettings &settings) {
  // The worker restarts from a copy of its own: `copy` goes once the host has loaded it.
  std::filesystem::path own = copy;
  own += ".worker";
  std::error_code ec;
  std::filesystem::create_hard_link(copy, own, ec);
  if (ec) std::filesystem::copy_file(copy, own, std::filesystem::copy_options::overwrite_existing);

  auto in = std::make_shared<StandIn>();
  in->supervisor = std::make_shared<Supervisor>(file, own, services->config_for, settings, services->log);
  const HelloMessage &hello = in->supervisor->hello();
  for (const std::string &m : hello.info.models) in->models.push_back(m.c_str());
  in->models.push_back(nullptr);

  llmh_provider &d = in->descriptor;
  d.struct_size = sizeof d;
  d.abi_major = LLMH_ABI_VERSION_MAJOR;
  d.abi_minor = LLMH_ABI_VERSION_MINOR;
  d.name = hello.info.name.c_str();
  d.version = hello.info.version.c_str();
  d.description = hello.info.description.c_str();
  const uint64_t caps = hello.info.capabilities;
  d.capabilities = (caps & (LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED)) |
                   (hello.reads_body_members ? LLMH_CAP_BODY_MEMBERS : 0);
  d.models = in->models.data();
  d.create = &create_refused;
  d.complete = (d.capabilities & LLMH_CAP_COMPLETE) ? &complete<CallKind::kComplete> : nullptr;
  d.stream = (d.capabilities & LLMH_CAP_STREAM) ? &stream<CallKind::kStream> : nullptr;
  d.embed = (d.capabilities & LLMH_CAP_EMBED) ? &embed : nullptr;
  d.get_extension = &get_extension;
  in->async.struct_size = sizeof in->async;
  in->async.complete_async = &complete_async;
  in->text.struct_size = sizeof in->text;
  in->text.complete_text = (caps & kCompleteText) ? &complete<CallKind::kCompleteText> : nullptr;
  in->text.stream_text = (caps & kStreamText) ? &stream<CallKind::kStreamText> : nullptr;
  in->rerank.struct_size = sizeof in->rerank;
  in->rerank.rerank = (caps & kRerank) ? &rerank : nullptr;
  in->images.struct_size = sizeof in->images;
  in->images.generate = (caps & kGenerateImages) ? &images<CallKind::kGenerateImages> : nullptr;
  in->images.edit = (caps & kEditImages) ? &images<CallKind::kEditImages> : nullptr;

  ProviderInfo info = hello.info;
  info.file = file.string();
  info.isolation = Isolation::kProcess;
  std::shared_ptr<const detail::PluginWorker> worker = in->supervisor;
  const llmh_provider *descriptor = &in->descriptor;
  void *instance = in.get();
  return detail::Plugin::host_implemented(file, descriptor, instance, std::move(info), std::move(worker), std::move(in),
                                          std::move(services));
}

}  // namespace llmhost::isolation
