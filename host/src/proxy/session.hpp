// One client connection: reads requests (HTTP/1.1, keep-alive, size limits, idle timeout),
// hands each to ServerHooks::handle as an Exchange, writes the reply or the event stream, and
// watches the socket while a call runs so that a disconnect cancels it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <unordered_map>

#include "proxy/server_options.hpp"

namespace llmhost::proxy {

class Session;

// What the server and its sessions share.
struct SessionShared {
  explicit SessionShared(const ServerOptions &o) : options(o) {}
  const ServerOptions &options;
  ServerHooks hooks;
  std::atomic<bool> draining{false};  // finish the current exchange, then close
  std::atomic<bool> stopped{false};   // the I/O threads are gone: do not wait for them
  std::mutex mu;
  std::unordered_map<Session *, std::weak_ptr<Session>> sessions;
};

class Session final : public Exchange, public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, SessionShared &shared);
  ~Session() override;

  void start();
  void drain();  // thread-safe: close now when idle, else after the current reply
  void abort();  // thread-safe: cancel the running call and close

  const Incoming &request() const override { return in_; }
  void label(std::string route, std::string model, std::string provider, bool stream) override;
  void outcome(int status) override { outcome_ = status; }
  void reply(Reply r) override;
  bool stream(std::string frames) override;
  void end_stream(std::string frames) override;
  std::stop_token cancelled() const override { return stop_.get_token(); }

 private:
  void read_header();
  void on_header(boost::beast::error_code ec);
  void on_body(boost::beast::error_code ec, size_t bytes);
  void dispatch();
  void reject(int status, std::string message);
  void send(Reply r);
  void write_sse(std::string frames, bool last, std::function<void(bool)> done);
  void exchange_done(bool keep_alive);
  void watch_disconnect();
  void close();       // shut down sending, read what the client still sends briefly, close
  void linger(std::shared_ptr<std::array<char, 16384>> sink, size_t budget);
  void close_now();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  SessionShared &shared_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Incoming in_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;    // an exchange is in progress
  bool closed_ = false;
  uint64_t gen_ = 0;     // exchanges started; stale disconnect watches compare it
  std::stop_source stop_;
  Record record_;
  std::chrono::steady_clock::time_point t0_;
  std::atomic<int> outcome_{0};
  std::string out_;      // the SSE bytes being written
  bool sse_started_ = false;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> sse_head_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>> sse_sr_;
};

}  // namespace llmhost::proxy
