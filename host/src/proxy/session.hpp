// One client connection: reads requests (HTTP/1.1, keep-alive, size limits, idle timeout),
// hands each to ServerHooks::handle as an Exchange, writes the reply or the event stream,
// watches the socket while a call runs so that a disconnect cancels it, and runs the watchdog
// that answers for a call that overstays its deadline (docs/reliability.md).
//
// Threading: every Session member is touched only on the connection's event loop, which one I/O
// thread runs. The Exchange a request gets is a separate object (Session::Call) that owns the
// request and posts whatever the API does onto that loop, tagged with the exchange's number; the Session drops what
// belongs to an exchange that is over. So a worker that comes back from a plugin after the
// watchdog answered, or after the connection moved on to its next request, changes nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <unordered_map>
#include <vector>

#include "proxy/request_reader.hpp"
#include "proxy/server_options.hpp"
#include "proxy/session_loop.hpp"

namespace llmhost::proxy {

class Session;

// What the server and its sessions share.
struct SessionShared {
  explicit SessionShared(const ServerOptions &o) : options(o) {}
  const ServerOptions &options;
  ServerHooks hooks;
  std::atomic<bool> draining{false};                // finish the current exchange, then close
  std::atomic<bool> stopped{false};                 // the I/O threads are gone: do not wait for them
  std::atomic<int64_t> open{0};                     // sessions whose socket is not closed yet
  std::atomic<int64_t> abandoned_running{0};        // see WatchdogCounts
  std::array<std::atomic<uint64_t>, 4> timeouts{};  // by Session::Timeout
  std::mutex mu;
  std::unordered_map<Session *, std::weak_ptr<Session>> sessions;
  std::vector<boost::asio::io_context::executor_type> loops;  // the I/O threads', set before any session

  // Whether this thread runs one of the I/O threads' loops (not only a given session's): there,
  // nothing may wait for a client.
  bool on_io_thread() const;
};

class Session final : public std::enable_shared_from_this<Session> {
 public:
  enum Timeout { kCall, kRequest, kStreamIdle, kStreamDuration };
  // The connection's event loop, by its concrete type: every Beast and Asio operation copies its
  // executor (work guards), and an any_io_executor allocates on each copy it makes with a new
  // property. One thread runs the loop, so no strand is needed: a strand cost 3.5% of the CPU
  // per request (measured).
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

  // `socket` runs on `loop`'s event loop.
  Session(Socket socket, SessionShared &shared, SessionLoop &loop);
  ~Session();

  void start();
  void drain();  // thread-safe: close now when idle, else after the current reply
  void abort();  // thread-safe: cancel the running call and close
  // On the session's loop (SessionLoop): while exchange `gen` is still in its call, a client that
  // leaves cancels it.
  void watch_disconnect(uint64_t gen);

 private:
  class Call;
  struct CallState;
  using Clock = std::chrono::steady_clock;

  void read_header();
  void on_header(boost::beast::error_code ec);
  void read_body();
  void on_body(boost::beast::error_code ec, size_t bytes);
  void dispatch();
  void begin_exchange(std::string method, std::string path, uint64_t bytes_in);
  void reject(int status, std::string message);
  bool current(uint64_t gen) const { return busy_ && gen == gen_; }
  // Event-stream frames may still go out: no plain reply was sent and the stream is not over.
  bool may_stream() const { return !sse_ended_ && (sse_started_ || !responded_); }

  // The exchange's side of the API, on the connection's loop (Call posts here).
  void on_stream_label();
  void take_labels();  // the API's labels into record_
  void on_call_started(double timeout_s);
  void send(Reply r);
  void flush_sse(uint64_t gen, const std::shared_ptr<CallState> &st);
  void write_sse(std::string frames, bool last, std::function<void(bool)> done);
  void write_sse_body(std::string frames, bool last, std::function<void(bool)> done);
  void after_sse_write(bool ok, bool last, std::function<void(bool)> done);
  void end_sse(bool ok);
  void drop_slow_stream();
  void exchange_done(bool keep_alive);

  void watch();  // the readiness wait of watch_disconnect
  // The watchdog: one timer for the earliest deadline that applies now; it re-checks on firing.
  Clock::time_point next_deadline() const;
  void arm_watchdog();
  void stop_watchdog();
  void io_by(std::chrono::milliseconds timeout);  // the socket must be done reading or writing by then
  void on_watchdog(bool requeued);
  void expire(Timeout kind);

  void close();  // shut down sending, read what the client still sends briefly, close
  void linger(std::shared_ptr<std::array<char, 16384>> sink, size_t budget);
  void close_now();
  void socket_closed();  // counts the session out of SessionShared::open, once

  boost::beast::basic_stream<boost::asio::ip::tcp, Executor> stream_;
  boost::beast::flat_buffer buffer_;
  SessionShared &shared_;
  SessionLoop &loop_;
  std::optional<RequestReader> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;  // an exchange is in progress
  bool closed_ = false;
  bool counted_out_ = false;
  bool watching_ = false;             // the current exchange's client is watched (watch_disconnect)
  uint64_t gen_ = 0;                  // exchanges started and finished; stale callbacks compare it
  std::shared_ptr<CallState> state_;  // the current exchange's cancel source and watchdog state
  Record record_;
  Clock::time_point t0_;
  int outcome_ = 0;

  // The response of the current exchange.
  bool responded_ = false;  // a reply or the event stream's header has been started
  bool is_stream_ = false;  // the API labelled it a stream
  bool sse_started_ = false;
  bool sse_ended_ = false;                   // the last frames are written or queued: nothing may follow
  bool writing_ = false;                     // an SSE write is in flight
  std::optional<std::string> final_frames_;  // the watchdog's closing event, after that write
  std::string head_;                         // the response's head (proxy/response_head.hpp)
  bool head_pending_ = false;                // the event stream's head goes out with its first chunk
  std::string reply_body_;                   // the reply being written, after head_
  std::string out_;                          // the SSE chunk being written

  // Watchdog.
  boost::asio::steady_timer watchdog_;
  uint64_t watchdog_seq_ = 0;  // the armed wait's number; older waits are stale
  Clock::time_point armed_until_ = Clock::time_point::max();
  Clock::time_point last_chunk_;  // the stream's last chunk (or the exchange's start)
  Clock::time_point call_deadline_ = Clock::time_point::max();
  // The current read of a request or write of a response must be done by then (--idle-timeout);
  // Beast's own stream timeouts are not used: each would cost timer updates per request.
  Clock::time_point io_deadline_ = Clock::time_point::max();
};

}  // namespace llmhost::proxy
