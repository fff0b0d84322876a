#include "redis/client.hpp"

#include <hiredis/async.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>

#include "redis/asio_link.hpp"

namespace llmhost::redis {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr Clock::duration kFirstRetry = 50ms, kLastRetry = 1s;

std::string reply_text(const redisReply *r) { return std::string(r->str, r->len); }

}  // namespace

struct Client::State : std::enable_shared_from_this<State> {
  // A command sent and not yet answered. hiredis answers in order, so `pending` is oldest first
  // and a reply always belongs to its front.
  struct Pending {
    std::function<void(redisReply *)> on_reply;  // nullptr: the connection went first
    Clock::time_point deadline;
  };

  State(net::io_context &ioc, config::RedisSettings s, std::vector<std::string> sc, Notice n)
      : strand(net::make_strand(ioc)),
        settings(std::move(s)),
        scripts(std::move(sc)),
        notice(std::move(n)),
        timeout(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settings.timeout_s))),
        tick(strand),
        retry(strand),
        resolver(strand) {}

  Strand strand;
  const config::RedisSettings settings;
  const std::vector<std::string> scripts;
  const Notice notice;
  const Clock::duration timeout;
  std::vector<std::string> shas;  // of `scripts`, as this connection loaded them
  redisAsyncContext *ac = nullptr;
  std::atomic<bool> up{false};
  bool ever_up = false, said_down = false, said_error = false, ticking = false, closing = false;
  std::deque<Pending *> pending;
  net::steady_timer tick, retry;
  net::ip::tcp::resolver resolver;
  Clock::duration backoff = kFirstRetry;

  void connect() {
    resolver.async_resolve(
        settings.host, std::to_string(settings.port),
        [self = shared_from_this()](boost::system::error_code ec, net::ip::tcp::resolver::results_type found) {
          if (self->closing) return;
          if (ec) return self->lost("cannot resolve " + self->settings.host + ": " + ec.message());
          self->open(found.begin()->endpoint().address().to_string());
        });
  }

  // hiredis resolves names with a blocking getaddrinfo: it only ever gets the address.
  void open(const std::string &address) {
    redisAsyncContext *c = redisAsyncConnect(address.c_str(), settings.port);
    if (!c) return lost("out of memory");
    if (c->err) {
      const std::string why = c->errstr;
      redisAsyncFree(c);
      return lost(why);
    }
    c->data = this;
    attach(c, strand);
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
    ac = c;
    // Sent at once and answered in order once connected: AUTH, SELECT, then the scripts.
    const Clock::duration setup = std::max<Clock::duration>(1s, 10 * timeout);
    auto must_succeed = [this](const char *what) {
      return [this, what](redisReply *r) {
        if (r && r->type == REDIS_REPLY_ERROR) drop(std::string(what) + " failed: " + reply_text(r));
      };
    };
    if (!settings.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!settings.username.empty()) auth.push_back(settings.username);
      auth.push_back(settings.password);
      send(auth, must_succeed("AUTH"), setup);
    }
    if (settings.db) send({"SELECT", std::to_string(settings.db)}, must_succeed("SELECT"), setup);
    shas.assign(scripts.size(), {});
    for (size_t i = 0; i < scripts.size(); ++i)
      send(
          {"SCRIPT", "LOAD", scripts[i]},
          [this, i](redisReply *r) {
            if (!r || !ac) return;
            if (r->type != REDIS_REPLY_STRING) return drop("SCRIPT LOAD failed: " + std::string(r->str ? r->str : ""));
            shas[i] = reply_text(r);
            if (i + 1 == scripts.size()) ready();
          },
          setup);
  }

  void ready() {
    up = true;
    backoff = kFirstRetry;
    said_error = false;
    if (!ever_up || said_down)
      notice("redis at " + settings.where() + (ever_up ? " is back" : " is up") + ": limits and cooldowns are shared");
    ever_up = true;
    said_down = false;
  }

  // The connection is gone (ac already freed or being freed): count in process, retry later.
  void lost(const std::string &why) {
    up = false;
    if (!said_down)
      notice("warning: redis at " + settings.where() + " is unreachable (" + why +
             "): limits and cooldowns count in this process until it answers; reconnecting in the background");
    said_down = true;
    retry.expires_after(backoff);
    backoff = std::min(backoff * 2, kLastRetry);
    retry.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->closing) self->connect();
    });
  }

  // Gives the connection up; every pending command is answered "down".
  void drop(const std::string &why) {
    if (!ac) return;
    up = false;  // before the pending commands hear of it
    redisAsyncContext *c = std::exchange(ac, nullptr);
    redisAsyncFree(c);  // in a reply callback, hiredis frees it once the callback returns
    lost(why);
  }

  void send(const std::vector<std::string> &argv, std::function<void(redisReply *)> on_reply, Clock::duration within) {
    std::vector<const char *> args;
    std::vector<size_t> lens;
    for (const std::string &a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto *p = new Pending{std::move(on_reply), Clock::now() + within};
    if (redisAsyncCommandArgv(ac, on_command_reply, p, static_cast<int>(args.size()), args.data(), lens.data()) !=
        REDIS_OK) {
      std::unique_ptr<Pending> gone(p);
      return gone->on_reply(nullptr);
    }
    pending.push_back(p);
    arm_tick();
  }

  // Checks, twice per redis_timeout while commands are pending, that the oldest is not late.
  void arm_tick() {
    if (ticking || pending.empty()) return;
    ticking = true;
    tick.expires_after(std::max<Clock::duration>(timeout / 2, 1ms));
    tick.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      self->ticking = false;
      if (ec || self->closing) return;
      if (!self->pending.empty() && self->pending.front()->deadline <= Clock::now())
        return self->drop("no reply within " + std::to_string(self->settings.timeout_s) + " s (redis_timeout)");
      self->arm_tick();
    });
  }

  void eval(size_t script, std::vector<std::string> keys, std::vector<std::string> args, const Done &done) {
    if (!up || !ac) return done(std::nullopt);
    std::vector<std::string> argv{"EVALSHA", shas[script], std::to_string(keys.size())};
    argv.insert(argv.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
    argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    send(
        argv,
        [this, done](redisReply *r) {
          if (!r) return done(std::nullopt);
          if (r->type == REDIS_REPLY_ERROR) {
            const std::string text = reply_text(r);
            if (text.rfind("NOSCRIPT", 0) == 0) {
              drop("its scripts were flushed; reloading them");
            } else if (!said_error) {
              said_error = true;
              notice("warning: redis at " + settings.where() + " answered an error (" + text +
                     "): such requests count in this process");
            }
            return done(std::nullopt);
          }
          std::vector<int64_t> values;
          if (r->type == REDIS_REPLY_INTEGER) values.push_back(r->integer);
          for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i)
            values.push_back(r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0);
          done(std::move(values));
        },
        timeout);
  }

  static void on_command_reply(redisAsyncContext *c, void *reply, void *privdata) {
    State &s = *static_cast<State *>(c->data);
    std::unique_ptr<Pending> p(static_cast<Pending *>(privdata));
    s.pending.pop_front();     // replies come in order: this is p
    if (!reply) s.up = false;  // the connection is going: callers learn it before its end
    p->on_reply(static_cast<redisReply *>(reply));
  }

  static void on_connect(const redisAsyncContext *c, int status) {
    if (status == REDIS_OK) return;
    State &s = *static_cast<State *>(c->data);
    if (s.ac != c) return;
    s.ac = nullptr;  // hiredis frees it after this callback
    s.lost(c->errstr);
  }

  static void on_disconnect(const redisAsyncContext *c, int status) {
    State &s = *static_cast<State *>(c->data);
    if (s.ac != c) return;  // drop() freed it: already handled
    s.ac = nullptr;
    s.lost(status == REDIS_OK ? "it closed the connection" : c->errstr);
  }
};

Client::Client(boost::asio::io_context &ioc, config::RedisSettings settings, std::vector<std::string> scripts,
               Notice notice)
    : state_(std::make_shared<State>(ioc, std::move(settings), std::move(scripts), std::move(notice))) {
  net::post(state_->strand, [s = state_] { s->connect(); });
}

Client::~Client() {
  state_->closing = true;
  state_->up = false;
  if (redisAsyncContext *c = std::exchange(state_->ac, nullptr)) redisAsyncFree(c);
  state_->tick.cancel();
  state_->retry.cancel();
  state_->resolver.cancel();
}

bool Client::up() const { return state_->up.load(std::memory_order_relaxed); }

void Client::eval(size_t script, std::vector<std::string> keys, std::vector<std::string> args, Done done) {
  net::post(state_->strand,
            [s = state_, script, keys = std::move(keys), args = std::move(args), done = std::move(done)]() mutable {
              if (s->closing) return done(std::nullopt);
              s->eval(script, std::move(keys), std::move(args), done);
            });
}

}  // namespace llmhost::redis
