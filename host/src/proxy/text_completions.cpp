// POST /v1/completions, OpenAI's legacy text completions (llmhost/text_completion.h), JSON or
// SSE, on a worker: Host::complete_text and Host::stream_text block, one plugin call per prompt.
// Fallbacks, limits and metrics apply as for chat: a stream moves on to another deployment only
// while nothing has been sent.
#include <vector>

#include "openai/request.hpp"
#include "openai/response.hpp"
#include "openai/sse_framer.hpp"
#include "proxy/api.hpp"
#include "proxy/attempts.hpp"
#include "proxy/error_reply.hpp"

namespace llmhost::proxy {
namespace {

constexpr std::string_view kRoute = "/v1/completions";

// Frames one stream attempt's chunks as OpenAI does: a text_completion object per chunk, each
// choice (prompt) ended by a chunk with its finish_reason ("stop" when the plugin gave none),
// the usage of every prompt together last (include_usage), then [DONE].
class TextFrames {
 public:
  TextFrames(const openai::StreamMeta &meta, size_t prompts) : meta_(meta), usage_(prompts), finished_(prompts) {}

  // The frames for chunk `c` of prompt `index` (nothing for a usage-only chunk).
  std::string chunk(size_t index, const Chunk &c) {
    std::string out;
    close_before(out, index);
    if (c.usage) usage_[index] = *c.usage;
    if (c.content.empty() && c.finish_reason.empty()) return out;
    Chunk text = c;
    text.usage.reset();
    frame(out, index, text);
    if (!c.finish_reason.empty()) finished_[index] = true;
    return out;
  }
  // The closing frames.
  std::string finish(bool include_usage) {
    std::string out;
    close_before(out, finished_.size());
    if (include_usage) {
      Chunk u;
      u.usage = total();
      frame(out, 0, u);
    }
    out += "data: [DONE]\n\n";
    return out;
  }
  Usage total() const {
    Usage sum;
    for (const Usage &u : usage_) {
      sum.prompt_tokens += u.prompt_tokens;
      sum.completion_tokens += u.completion_tokens;
      sum.total_tokens += u.total_tokens;
      sum.estimated = sum.estimated || u.estimated;
    }
    return sum;
  }
  bool started() const { return started_; }

 private:
  void frame(std::string &out, size_t index, const Chunk &c) {
    out += "data: ";
    openai::write_text_chunk(out, meta_, index, c);
    out += "\n\n";
    started_ = true;
  }
  // The prompts are streamed in turn: those before `index` have ended.
  void close_before(std::string &out, size_t index) {
    for (; closed_ < index; ++closed_) {
      if (finished_[closed_]) continue;
      Chunk last;
      last.finish_reason = "stop";
      frame(out, closed_, last);
    }
  }

  const openai::StreamMeta &meta_;
  std::vector<Usage> usage_;  // the last each prompt reported
  std::vector<bool> finished_;
  size_t closed_ = 0;
  bool started_ = false;
};

}  // namespace

void Api::text_completions(std::shared_ptr<Exchange> ex) {
  std::optional<openai::TextCompletionRequest> text =
      parsed<openai::TextCompletionRequest>(*ex, kRoute, openai::parse_text_completion_request);
  if (!text) return;
  Request &req = text->request;
  std::optional<Attempts> attempts = attempts_for(*ex, kRoute, req, text->stream);
  if (!attempts) return;
  if (!text->stream)
    return attempt_in_turn(*attempts, limiter_, metrics_, *ex, req, host_, [&](const Target &target) {
      TextCompletion r = host_.complete_text(target, req, ex->cancelled());
      r.id = openai::new_id("cmpl");
      r.created = openai::unix_now();
      r.model = attempts->reported(r.model, req.model);
      ex->usage(r.usage);
      attempts->succeeded(r.usage);
      Reply reply;
      if (r.usage.estimated) reply.headers.emplace_back("x-llmhost-usage", "estimated");
      openai::write_text_completion(reply.body, r);
      ex->reply(std::move(reply));
    });
  const openai::StreamMeta meta(openai::new_id("cmpl"), openai::unix_now(), attempts->asked(), "text_completion");
  attempt_in_turn(*attempts, limiter_, metrics_, *ex, req, host_, [&](const Target &target) {
    TextFrames frames(meta, req.input.size());
    try {
      host_.stream_text(
          target, req,
          [&](size_t index, const Chunk &c) {
            std::string out = frames.chunk(index, c);
            return out.empty() || ex->stream(std::move(out));
          },
          ex->cancelled());
    } catch (const Error &e) {
      if (!frames.started()) throw;  // nothing sent: the next attempt may answer
      ex->outcome(e.status());
      std::string out;
      openai::write_sse_error(out, e.status(), e.what(), e.code());
      return ex->end_stream(std::move(out));
    }
    const Usage usage = frames.total();
    ex->usage(usage);
    attempts->succeeded(usage);
    ex->end_stream(frames.finish(text->include_usage));
  });
}

}  // namespace llmhost::proxy
