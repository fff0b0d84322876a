// The endpoints that call a plugin: chat completions (JSON or SSE), embeddings and rerank (text
// completions: text_completions.cpp). A chat request is parsed on the I/O thread; a completion
// or a stream then goes through the callback form of Host::complete or Host::stream,
// embeddings and rerank run on a worker. The client's disconnect arrives as a stop on ex->cancelled().
#include "openai/request.hpp"
#include "openai/response.hpp"
#include "openai/sse_framer.hpp"
#include "proxy/api.hpp"
#include "proxy/attempts.hpp"
#include "proxy/error_reply.hpp"

namespace llmhost::proxy {

// A chat completion (not streamed) on its way through its route, one attempt per callback.
struct Api::Completion {
  // Routes `r` first: throws Error 404 for a name that is neither configured nor loaded.
  Completion(std::shared_ptr<Exchange> e, Request r, const routing::ModelTable &models, const Host &host)
      : ex(std::move(e)), attempts(models, host, r, "/v1/chat/completions", false), req(std::move(r)) {}
  std::shared_ptr<Exchange> ex;
  Attempts attempts;
  Request req;         // moved into the last attempt
  std::string routed;  // the current attempt's "provider/model"
};

// Starts the next attempt with the callback form, once admitted: an asynchronous plugin runs
// right here (an I/O thread) with no worker; a blocking one runs on a worker through post_work_.
void Api::complete(std::shared_ptr<Completion> c) {
  c->attempts.admit(limiter_, [this, c] { complete_admitted(c); });
}

void Api::complete_admitted(const std::shared_ptr<Completion> &c) {
  Target target;
  try {
    target = c->attempts.start(*c->ex, c->req, host_);
  } catch (const Error &e) {
    CompleteResult failed = e;
    return on_completed(c, failed);
  }
  c->routed = c->req.model;
  std::stop_token cancel = c->ex->cancelled();
  host_.complete(
      std::move(target), c->attempts.last() ? std::move(c->req) : c->req,  // kept only for a next attempt
      [this, c](CompleteResult result) {
        // Runs inside the plugin's finish (or a worker's job): nothing may escape.
        try {
          on_completed(c, result);
        } catch (const std::exception &e) {
          c->ex->reply(error_reply(500, std::string("llmhost: ") + e.what()));
        }
      },
      std::move(cancel), post_work_);
}

// A streamed chat completion on its way through its route, one attempt per callback. It moves
// on to another deployment only while nothing has been sent; once the 200 and a first chunk are
// out, a failure ends the stream with an error event. The chunks of one attempt arrive one at a
// time, and its end after them.
struct Api::StreamCall {
  // Routes the request first: throws Error 404 for a name that is neither configured nor loaded.
  StreamCall(std::shared_ptr<Exchange> e, openai::ChatRequest chat, const routing::ModelTable &models, const Host &host)
      : ex(std::move(e)),
        attempts(models, host, chat.request, "/v1/chat/completions", true),
        framer({openai::new_id("chatcmpl"), openai::unix_now(), chat.request.model}, chat.include_usage),
        req(std::move(chat.request)) {}
  std::shared_ptr<Exchange> ex;
  Attempts attempts;
  openai::SseFramer framer;
  Request req;         // moved into the last attempt
  std::string frames;  // the SSE text of one chunk
  Usage usage;         // the last the stream reported
};

// Starts the next attempt with the callback form, once admitted: an asynchronous plugin streams
// from the HTTP event loop or its own threads; a blocking one on a worker through post_work_.
void Api::stream(std::shared_ptr<StreamCall> s) {
  s->attempts.admit(limiter_, [this, s] { stream_admitted(s); });
}

void Api::stream_admitted(const std::shared_ptr<StreamCall> &s) {
  Target target;
  try {
    target = s->attempts.start(*s->ex, s->req, host_);
  } catch (const Error &e) {
    std::optional<Error> failed = e;
    return on_streamed(s, failed);
  }
  std::stop_token cancel = s->ex->cancelled();
  host_.stream(
      std::move(target), s->attempts.last() ? std::move(s->req) : s->req,  // kept only for a next attempt
      [s](const Chunk &c) {
        if (c.usage) {
          s->ex->usage(*c.usage);
          s->usage = *c.usage;
        }
        s->frames.clear();
        s->framer.chunk(s->frames, c);
        return s->frames.empty() || s->ex->stream(std::move(s->frames));
      },
      [this, s](std::optional<Error> error) {
        // Runs inside the plugin's finish (or a worker's job): nothing may escape.
        try {
          on_streamed(s, error);
        } catch (const std::exception &e) {
          if (!s->framer.started()) return s->ex->reply(error_reply(500, std::string("llmhost: ") + e.what()));
          s->ex->outcome(500);
          s->ex->end_stream({});
        }
      },
      std::move(cancel), post_work_);
}

void Api::on_streamed(const std::shared_ptr<StreamCall> &s, std::optional<Error> &error) {
  s->frames.clear();
  if (!error) {
    s->attempts.succeeded(s->usage);
    s->framer.finish(s->frames);
    return s->ex->end_stream(std::move(s->frames));
  }
  if (s->framer.started()) {
    s->ex->outcome(error->status());
    s->framer.error(s->frames, error->status(), error->what(), error->code());
    return s->ex->end_stream(std::move(s->frames));
  }
  if (std::optional<Error> final = s->attempts.failed(*error, *s->ex, metrics_))
    return s->ex->reply(s->attempts.reply(*final));
  stream(s);
}

void Api::on_completed(const std::shared_ptr<Completion> &c, CompleteResult &result) {
  if (Response *r = std::get_if<Response>(&result)) {
    r->id = openai::new_id("chatcmpl");
    r->created = openai::unix_now();
    r->model = c->attempts.reported(r->model, c->routed);
    c->ex->usage(r->usage);
    c->attempts.succeeded(r->usage);
    Reply reply;
    if (r->usage.estimated) reply.headers.emplace_back("x-llmhost-usage", "estimated");
    openai::write_completion(reply.body, *r);
    return c->ex->reply(std::move(reply));
  }
  if (std::optional<Error> final = c->attempts.failed(std::get<Error>(result), *c->ex, metrics_))
    return c->ex->reply(c->attempts.reply(*final));
  complete(c);
}

// On the I/O thread: nothing may escape into the event loop.
void Api::chat(std::shared_ptr<Exchange> ex) {
  try {
    start_chat(ex);
  } catch (const std::exception &e) {
    ex->reply(error_reply(500, std::string("llmhost: ") + e.what()));
  }
}

// A request refused before any attempt: labelled here, since no attempt will label it.
void Api::refuse(Exchange &ex, std::string_view route, std::string model, bool stream, Reply reply) {
  ex.label(std::string(route), std::move(model), {}, stream);
  ex.reply(std::move(reply));
}

void Api::start_chat(const std::shared_ptr<Exchange> &ex) {
  constexpr std::string_view kRoute = "/v1/chat/completions";
  openai::ChatParse parsed = openai::parse_chat_request(ex->request().body);
  if (auto *err = std::get_if<openai::RequestError>(&parsed))
    return refuse(*ex, kRoute, {}, false, error_reply(400, err->message, err->param));
  openai::ChatRequest &chat = std::get<openai::ChatRequest>(parsed);
  Request &req = chat.request;
  if (auto over = ex->check_messages(req.messages.size()))
    return refuse(*ex, kRoute, req.model, chat.stream, std::move(*over));
  try {
    if (chat.stream) return stream(std::make_shared<StreamCall>(ex, std::move(chat), models_, host_));
    complete(std::make_shared<Completion>(ex, std::move(req), models_, host_));
  } catch (const Error &e) {  // from routing, before any plugin call (the request was not moved)
    refuse(*ex, kRoute, req.model, chat.stream, error_reply(e));
  }
}

std::optional<Attempts> Api::attempts_for(Exchange &ex, std::string_view route, const Request &req, bool stream) const {
  try {
    return std::optional<Attempts>(std::in_place, models_, host_, req, route, stream);
  } catch (const Error &e) {  // from routing, before any attempt
    refuse(ex, route, req.model, stream, error_reply(e));
    return std::nullopt;
  }
}

void Api::embeddings(std::shared_ptr<Exchange> ex) {
  constexpr std::string_view kRoute = "/v1/embeddings";
  std::optional<openai::EmbeddingsRequest> emb =
      parsed<openai::EmbeddingsRequest>(*ex, kRoute, openai::parse_embeddings_request);
  if (!emb) return;
  Request &req = emb->request;
  std::optional<Attempts> attempts = attempts_for(*ex, kRoute, req, false);
  if (!attempts) return;
  attempt_in_turn(*attempts, limiter_, metrics_, *ex, req, host_, [&](const Target &target) {
    EmbeddingResponse r = host_.embed(target, req, ex->cancelled());
    r.model = attempts->reported(r.model, req.model);
    attempts->succeeded(r.usage);
    Reply reply;
    openai::write_embeddings(reply.body, r,
                             emb->base64 ? openai::EmbeddingEncoding::kBase64 : openai::EmbeddingEncoding::kFloat);
    ex->reply(std::move(reply));
  });
}

void Api::rerank(std::shared_ptr<Exchange> ex) {
  constexpr std::string_view kRoute = "/v1/rerank";
  std::optional<openai::RerankRequestParse> call =
      parsed<openai::RerankRequestParse>(*ex, kRoute, openai::parse_rerank_request);
  if (!call) return;
  Request &req = call->rerank.request;
  std::optional<Attempts> attempts = attempts_for(*ex, kRoute, req, false);
  if (!attempts) return;
  attempt_in_turn(*attempts, limiter_, metrics_, *ex, req, host_, [&](const Target &target) {
    RerankResponse r = host_.rerank(target, call->rerank, ex->cancelled());
    r.id = openai::new_id("rerank");
    r.model = attempts->reported(r.model, req.model);
    ex->usage(r.usage);
    attempts->succeeded(r.usage);
    Reply reply;
    openai::write_rerank(reply.body, r, call->return_documents ? &req.input : nullptr);
    ex->reply(std::move(reply));
  });
}

void Api::images(std::shared_ptr<Exchange> ex, bool edit) {
  const std::string_view route = edit ? "/v1/images/edits" : "/v1/images/generations";
  std::optional<ImageRequest> call =
      edit ? parsed<ImageRequest>(*ex, route,
                                  [&](std::string_view body) {
                                    return openai::parse_image_edit_request(ex->request().content_type, body);
                                  })
           : parsed<ImageRequest>(*ex, route, openai::parse_image_request);
  if (!call) return;
  Request &req = call->request;
  std::optional<Attempts> attempts = attempts_for(*ex, route, req, false);
  if (!attempts) return;
  attempt_in_turn(*attempts, limiter_, metrics_, *ex, req, host_, [&](const Target &target) {
    ImageResponse r = edit ? host_.edit_images(target, *call, ex->cancelled())
                           : host_.generate_images(target, *call, ex->cancelled());
    r.created = openai::unix_now();
    ex->usage(r.usage);
    attempts->succeeded(r.usage);
    Reply reply;
    openai::write_images(reply.body, r);
    ex->reply(std::move(reply));
  });
}

}  // namespace llmhost::proxy
