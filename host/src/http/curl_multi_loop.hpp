// One curl multi handle driven by an Asio executor through the multi socket API: curl says
// which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
// Asio waits; curl_multi_socket_action does the work. One multi handle is one connection
// cache: a transfer reuses a connection a finished one left idle, and concurrent transfers
// each open their own (HTTP/1.1).
//
// Sockets: curl opens its connections through CURLOPT_OPENSOCKETFUNCTION and closes them
// through CURLOPT_CLOSESOCKETFUNCTION, both of which land here, so an Asio descriptor owns every
// connection socket from birth to close and no fd is closed behind the reactor's back (a closed
// fd number that curl reopens while epoll still holds the old registration is the classic bug
// of this pairing). The few fds curl opens itself (the threaded resolver's wake-up socket) are
// watched without being owned, and let go when curl says CURL_POLL_REMOVE, which it does before
// closing them.
//
// Thread rules: everything here runs on the executor's handlers, one at a time ("loop only"):
// the executor must not run two of them at once (a single-threaded io_context or a strand).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/asio.hpp"
#include "http/curl_pool.hpp"
#include "http/pending_handlers.hpp"

namespace llmhost::detail::http {

class CurlMultiLoop {
 public:
  // Called (loop only) for each transfer curl finished, once its handle has left the multi
  // handle; the handle then belongs to the caller again.
  using FinishedFn = void (*)(void *owner, CURL *easy, CURLcode code);

  // Easy handles come from `pool` (its DNS cache and shared options); every wait is tracked in
  // `pending` (which must outlive the loop's waits: see close()). Throws std::runtime_error when
  // curl cannot make the multi handle. Any thread.
  CurlMultiLoop(boost::asio::any_io_executor executor, CurlPool &pool, PendingHandlers &pending, FinishedFn finished,
                void *owner);
  // After close() and the pending handlers' drain, or when nothing ever ran. Any thread then.
  ~CurlMultiLoop();
  CurlMultiLoop(const CurlMultiLoop &) = delete;
  CurlMultiLoop &operator=(const CurlMultiLoop &) = delete;

  const boost::asio::any_io_executor &executor() const { return executor_; }

  // An idle easy handle (or a new one); throws std::runtime_error. Loop only.
  CURL *take_easy();
  // Returns a handle that is not in the multi handle. Loop only.
  void give_back(CURL *easy);
  // Starts the transfer configured on `easy`. Loop only.
  void add(CURL *easy);
  // Abandons an unfinished transfer: it leaves the multi handle and its connection is closed
  // (never reused half-read). Loop only.
  void remove(CURL *easy);

  // Closes every connection and stops the timer; the multi handle is cleaned up, so every
  // transfer must have been removed first. Loop only.
  void close();

 private:
  struct Watch;

  static curl_socket_t open_socket(void *self, curlsocktype purpose, curl_sockaddr *address);
  static int close_socket(void *self, curl_socket_t fd);
  static int on_socket(CURL *easy, curl_socket_t fd, int what, void *self, void *socketp);
  static int on_timer(CURLM *multi, long timeout_ms, void *self);

  Watch *watch(curl_socket_t fd);
  void forget(Watch *w);
  void arm(Watch *w);
  void on_ready(Watch *w, int direction, const boost::system::error_code &ec);
  void arm_timer(std::chrono::steady_clock::time_point at);
  void on_timer_fired(const boost::system::error_code &ec);
  void act(curl_socket_t fd, int mask);

  boost::asio::any_io_executor executor_;
  CurlPool &pool_;
  PendingHandlers &pending_;
  FinishedFn finished_;
  void *owner_;
  CURLM *multi_ = nullptr;
  std::vector<CURL *> idle_;
  size_t active_ = 0;         // transfers in the multi handle
  long connection_cap_ = 64;  // CURLMOPT_MAXCONNECTS: grows with active_
  std::unordered_map<curl_socket_t, Watch *> watches_;

  // curl wants one timer; Asio's is re-armed only when curl's comes earlier than the armed one,
  // so the deadlines curl keeps pushing back cost nothing until they are due.
  boost::asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> due_;    // what curl asked for
  std::optional<std::chrono::steady_clock::time_point> armed_;  // what the Asio timer waits for
  bool kick_posted_ = false;                                    // a "time out now" is already on its way

  bool closed_ = false;
};

}  // namespace llmhost::detail::http
