#include "http/async_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>

#include "http/http_call.hpp"
#include "http/response.hpp"
#include "http/transfer.hpp"
#include "http/wire_exchange.hpp"
#include "loader/plugin_reaper.hpp"

namespace llmhost::detail::http {
namespace {

// The contract says "at least every 50 ms"; a timer that fires a little late still makes it.
constexpr Millis kPollEvery{40};
constexpr const char *kShuttingDown = "the HTTP service is shutting down";

}  // namespace

// One request from perform_async to its done call. Allocated once per request, at a fixed
// address (curl's private pointer and the attempt's callbacks point at it); loop only after
// start().
struct AsyncClient::Call {
  Call(AsyncClient *owner, llmh_http_done_fn fn, void *user_data) : client(owner), done(fn), user(user_data) {
    err.struct_size = sizeof err;
  }
  AsyncClient *client;
  HttpCall call;
  Attempt attempt;
  llmh_http_done_fn done;
  void *user;
  llmh_error err{};
  bool malformed = false;              // err already says why; no attempt is made
  bool polled = false;                 // counted in polled_
  CURL *easy = nullptr;                // during an attempt on curl
  std::shared_ptr<WireExchange> wire;  // made at the first attempt on the Asio client
  uint32_t number = 0;                 // of the current attempt, 0 = first
  Clock::time_point started;
  std::optional<boost::asio::steady_timer> backoff;  // made at the first retry
  // A backoff wait is pending: its handler will run (even after a cancel, and possibly with
  // success if it was already queued), so a call finished meanwhile is freed by that handler.
  bool waiting = false;
  bool finished = false;  // done has run; only the pending backoff handler still holds `c`
  Call *prev = nullptr;
  Call *next = nullptr;
};

AsyncClient::AsyncClient(boost::asio::any_io_executor executor, CurlPool &pool, CallPolicy &policy, WireRoutes routes)
    : policy_(policy),
      routes_(routes),
      multi_(executor, pool, pending_, &AsyncClient::on_finished, this),
      wire_pool_(executor),
      poll_timer_(std::move(executor)) {}

AsyncClient::~AsyncClient() { shutdown(); }

void AsyncClient::start(const llmh_http_request &request, llmh_http_done_fn done) {
  auto c = std::make_unique<Call>(this, done, request.user);
  c->malformed = !c->call.prepare(request, /*own_body=*/true, c->err);
  Call *raw = c.get();
  boost::asio::post(multi_.executor(), pending_.tracked([this, raw] { begin(raw); }));
  c.release();
}

void AsyncClient::reject(void *user, llmh_http_done_fn done, int32_t status, const char *message) {
  auto c = std::make_unique<Call>(this, done, user);
  c->malformed = true;
  llmh_error_set(&c->err, status, message);
  Call *raw = c.get();
  boost::asio::post(multi_.executor(), pending_.tracked([this, raw] { begin(raw); }));
  c.release();
}

void AsyncClient::begin(Call *c) {
  c->next = head_;
  if (head_) head_->prev = c;
  head_ = c;
  if (stopping_) return fail(c, 499, kShuttingDown);  // started from a done during shutdown
  if (c->malformed) return finish(c, nullptr);
  if (c->call.spec().cancelled) {
    c->polled = true;
    ++polled_;
    arm_poll();
  }
  next_attempt(c);
}

void AsyncClient::next_attempt(Call *c) {
  if (!c->call.next_attempt(c->err)) return finish(c, nullptr);  // 408
  c->started = Clock::now();
  if (const auto &t = c->call.wire_target(); t && (t->tls ? routes_.https : routes_.http)) {
    try {
      if (!c->wire) c->wire = std::make_shared<WireExchange>(wire_pool_, pending_, &AsyncClient::on_wire_done, c);
    } catch (const std::exception &e) {
      return fail(c, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
    }
    return c->wire->start(c->call.spec(), *t);
  }
  try {
    c->easy = multi_.take_easy();
  } catch (const std::exception &e) {
    return fail(c, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
  }
  c->attempt.begin(c->easy, c->call.spec());
  curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
  multi_.add(c->easy);
}

void AsyncClient::on_finished(void *self, CURL *easy, CURLcode code) {
  char *call = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &call);
  static_cast<AsyncClient *>(self)->settle_curl(reinterpret_cast<Call *>(call), code);
}

void AsyncClient::on_wire_done(void *call, TransferResult &t) {
  Call *c = static_cast<Call *>(call);
  c->client->settle(c, t);
}

// The attempt's transfer is over (finished, failed, or abandoned by cancel()) and its handle
// out of the multi handle.
void AsyncClient::settle_curl(Call *c, CURLcode code) {
  TransferResult &t = c->attempt.finish(code);
  multi_.give_back(c->easy);
  c->easy = nullptr;
  settle(c, t);
}

void AsyncClient::settle(Call *c, TransferResult &t) {
  try {
    const Verdict v = policy_.judge(c->call, c->number, t, c->started, c->err);
    switch (v.kind) {
      case Verdict::kAnswer: return finish(c, make_response(std::move(t)).release());
      case Verdict::kFail: return finish(c, nullptr);
      case Verdict::kRetry: ++c->number; return back_off(c, v.delay);
    }
  } catch (const std::exception &e) {
    fail(c, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
  }
}

void AsyncClient::back_off(Call *c, Millis delay) {
  if (!c->backoff) c->backoff.emplace(multi_.executor());
  c->backoff->expires_after(delay);
  c->waiting = true;
  c->backoff->async_wait(pending_.tracked([this, c](const boost::system::error_code &ec) {
    c->waiting = false;
    // A cancel or shutdown may have finished the call after this handler was already queued
    // with success: the call is then ours to free, whatever `ec` says.
    if (c->finished) return delete c;
    if (!ec) next_attempt(c);
  }));
}

void AsyncClient::finish(Call *c, llmh_http_response *response) {
  (c->prev ? c->prev->next : head_) = c->next;
  if (c->next) c->next->prev = c->prev;
  if (c->polled) --polled_;
  if (c->easy) {  // shutdown in the middle of an attempt
    multi_.remove(c->easy);
    multi_.give_back(c->easy);
    c->easy = nullptr;
  }
  if (c->wire) c->wire->abandon();  // same; its handlers hold the exchange, never `c`
  const CallingPlugin calling;      // done may release the plugin's build: unload it after done
  c->finished = true;
  std::unique_ptr<Call> own(c);
  if (c->waiting) {
    c->backoff->cancel();
    own.release();  // the pending backoff handler frees it
  }
  c->done(c->user, response, response ? nullptr : &c->err);
}

void AsyncClient::fail(Call *c, int32_t status, const char *message) {
  llmh_error_set(&c->err, status, message);
  finish(c, nullptr);
}

void AsyncClient::arm_poll() {
  if (poll_armed_ || polled_ == 0 || stopping_) return;
  poll_armed_ = true;
  poll_timer_.expires_after(kPollEvery);
  poll_timer_.async_wait(pending_.tracked([this](const boost::system::error_code &ec) {
    poll_armed_ = false;
    if (ec || stopping_) return;
    poll();
    arm_poll();  // stays quiet once no polled request is left
  }));
}

void AsyncClient::poll() {
  const CallingPlugin calling;  // `cancelled` is plugin code: see finish
  for (Call *c = head_; c;) {
    Call *next = c->next;  // cancel(c) frees c, and only c
    if (c->polled && c->call.spec().cancelled(c->call.spec().user) != 0) cancel(c);
    c = next;
  }
}

void AsyncClient::cancel(Call *c) {
  if (c->easy) {
    multi_.remove(c->easy);  // closes the connection: it is mid-exchange
    c->attempt.mark_cancelled();
    return settle_curl(c, CURLE_OK);  // 499, logged like the blocking path's
  }
  if (c->wire && c->wire->in_flight()) return c->wire->cancel();  // settles from its handler
  c->call.fail_cancelled(c->err);                                 // waiting between attempts
  finish(c, nullptr);
}

void AsyncClient::stop_all() {
  stopping_ = true;
  while (head_) fail(head_, 499, kShuttingDown);
  poll_timer_.cancel();
  multi_.close();
  wire_pool_.close();
}

bool AsyncClient::on_loop() const {
  const boost::asio::any_io_executor &ex = multi_.executor();
  if (auto *strand = ex.target<boost::asio::strand<boost::asio::any_io_executor>>())
    return strand->running_in_this_thread();
  if (auto *own = ex.target<boost::asio::io_context::executor_type>()) return own->running_in_this_thread();
  return false;
}

void AsyncClient::shutdown() {
  if (shut_) return;
  shut_ = true;
  if (on_loop()) {
    // Waiting here for the loop to drain would wait for ourselves, forever; a hang with no
    // word is worse than this.
    std::fputs("llmhost: the HTTP service was destroyed on its own event loop thread\n", stderr);
    std::abort();
  }
  auto drained = std::make_shared<std::promise<void>>();
  std::future<void> done = drained->get_future();
  boost::asio::post(multi_.executor(), [this, drained] {
    stop_all();
    pending_.drain([drained] { drained->set_value(); });
  });
  done.wait();
}

}  // namespace llmhost::detail::http
