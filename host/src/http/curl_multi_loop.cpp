#include "http/curl_multi_loop.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "loader/plugin_reaper.hpp"

namespace llmhost::detail::http {
namespace {

using SteadyClock = std::chrono::steady_clock;
using boost::asio::posix::stream_descriptor;

// Easy handles hold no connection (the multi handle does), only their options and buffers;
// a burst's worth beyond this is freed rather than kept.
constexpr size_t kMaxIdleEasies = 256;
// Idle connections kept beyond those in use, as CurlPool keeps idle slots.
constexpr long kIdleConnections = 64;

}  // namespace

struct CurlMultiLoop::Watch {
  Watch(const boost::asio::any_io_executor &executor, curl_socket_t socket, bool ours)
      : desc(executor), fd(socket), owned(ours) {}
  stream_descriptor desc;
  curl_socket_t fd;
  bool owned;            // opened by open_socket, closed only by close_socket
  int want = 0;          // CURL_POLL_IN / CURL_POLL_OUT bits curl last asked for
  bool reading = false;  // a read wait is pending (or its handler running)
  bool writing = false;
  bool gone = false;  // closed or let go: freed once no wait is pending
};

CurlMultiLoop::CurlMultiLoop(boost::asio::any_io_executor executor, CurlPool &pool, PendingHandlers &pending,
                             FinishedFn finished, void *owner)
    : executor_(std::move(executor)),
      pool_(pool),
      pending_(pending),
      finished_(finished),
      owner_(owner),
      timer_(executor_) {
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("libcurl could not create a multi handle");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiLoop::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiLoop::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connection_cap_);
}

CurlMultiLoop::~CurlMultiLoop() {
  if (multi_) curl_multi_cleanup(multi_);  // closes cached connections through close_socket
  multi_ = nullptr;
  while (!watches_.empty()) forget(watches_.begin()->second);
  for (CURL *easy : idle_) curl_easy_cleanup(easy);
}

CURL *CurlMultiLoop::take_easy() {
  if (!idle_.empty()) {
    CURL *easy = idle_.back();
    idle_.pop_back();
    return easy;
  }
  CURL *easy = pool_.new_easy();
  // Set once: every connection this handle opens is born and dies here (see the header).
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMultiLoop::open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMultiLoop::close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  return easy;
}

void CurlMultiLoop::give_back(CURL *easy) {
  if (idle_.size() < kMaxIdleEasies) {
    try {
      idle_.push_back(easy);
      return;
    } catch (...) {}
  }
  curl_easy_cleanup(easy);
}

void CurlMultiLoop::add(CURL *easy) {
  // curl's cache limit counts connections in use too, and its default (4 per handle in the
  // multi handle at the moment a transfer ends) makes a loop whose handles come and go close
  // and reopen connections at any concurrency above a few. So the cap follows the load.
  const long wanted = static_cast<long>(active_) + 1 + kIdleConnections;
  if (wanted > connection_cap_) {
    connection_cap_ = std::max(2 * connection_cap_, wanted);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connection_cap_);
  }
  // curl answers with a zero timeout (on_timer), which gets the transfer going.
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) return finished_(owner_, easy, CURLE_FAILED_INIT);
  ++active_;
}

void CurlMultiLoop::remove(CURL *easy) {
  if (curl_multi_remove_handle(multi_, easy) == CURLM_OK) --active_;
}

curl_socket_t CurlMultiLoop::open_socket(void *self_, curlsocktype purpose, curl_sockaddr *address) {
  auto *self = static_cast<CurlMultiLoop *>(self_);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  std::unique_ptr<Watch> w;
  try {
    w = std::make_unique<Watch>(self->executor_, CURL_SOCKET_BAD, true);
  } catch (...) {
    return CURL_SOCKET_BAD;
  }
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  // A watch still filed under this number belongs to a descriptor closed behind our back; it
  // must let go of the number before the new socket registers it with the reactor.
  if (auto it = self->watches_.find(fd); it != self->watches_.end()) self->forget(it->second);
  boost::system::error_code ec;
  w->desc.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return CURL_SOCKET_BAD;
  }
  w->fd = fd;
  try {
    self->watches_.emplace(fd, w.get());
  } catch (...) {
    return CURL_SOCKET_BAD;  // the descriptor closes the socket
  }
  w.release();
  return fd;
}

int CurlMultiLoop::close_socket(void *self_, curl_socket_t fd) {
  auto *self = static_cast<CurlMultiLoop *>(self_);
  auto it = self->watches_.find(fd);
  if (it == self->watches_.end() || !it->second->owned) {
    if (it != self->watches_.end()) self->forget(it->second);
    return ::close(fd);
  }
  self->forget(it->second);  // the descriptor closes the fd, after leaving the reactor
  return 0;
}

void CurlMultiLoop::forget(Watch *w) {
  if (auto it = watches_.find(w->fd); it != watches_.end() && it->second == w) watches_.erase(it);
  boost::system::error_code ec;
  if (w->owned) {
    w->desc.close(ec);
  } else {
    w->desc.release();  // curl closes its own fd
  }
  w->gone = true;
  w->want = 0;
  if (!w->reading && !w->writing) delete w;  // else the aborted wait's handler frees it
}

CurlMultiLoop::Watch *CurlMultiLoop::watch(curl_socket_t fd) {
  if (auto it = watches_.find(fd); it != watches_.end()) return it->second;
  // Not one of ours: curl's own fd (the resolver's wake-up socket). Watched, never closed here.
  auto w = std::make_unique<Watch>(executor_, fd, false);
  boost::system::error_code ec;
  w->desc.assign(fd, ec);
  if (ec) return nullptr;
  try {
    watches_.emplace(fd, w.get());
  } catch (...) {
    w->desc.release();
    throw;
  }
  return w.release();
}

int CurlMultiLoop::on_socket(CURL *, curl_socket_t fd, int what, void *self_, void *) {
  auto *self = static_cast<CurlMultiLoop *>(self_);
  try {
    if (what == CURL_POLL_REMOVE) {
      auto it = self->watches_.find(fd);
      if (it == self->watches_.end()) return 0;
      Watch *w = it->second;
      // An owned socket stays registered (an idle keep-alive connection is watched again for
      // its next transfer); a wait still pending on it finds `want` empty and is ignored.
      w->want = 0;
      if (!w->owned) self->forget(w);  // curl is about to close it
      return 0;
    }
    Watch *w = self->watch(fd);
    if (!w) return -1;
    w->want = what;
    self->arm(w);
    return 0;
  } catch (...) {
    return -1;  // curl fails the transfers on this socket
  }
}

void CurlMultiLoop::arm(Watch *w) {
  if (closed_ || w->gone) return;
  if ((w->want & CURL_POLL_IN) && !w->reading) {
    w->reading = true;
    w->desc.async_wait(stream_descriptor::wait_read, pending_.tracked([this, w](const boost::system::error_code &ec) {
      on_ready(w, CURL_POLL_IN, ec);
    }));
  }
  if ((w->want & CURL_POLL_OUT) && !w->writing) {
    w->writing = true;
    w->desc.async_wait(stream_descriptor::wait_write, pending_.tracked([this, w](const boost::system::error_code &ec) {
      on_ready(w, CURL_POLL_OUT, ec);
    }));
  }
}

void CurlMultiLoop::on_ready(Watch *w, int direction, const boost::system::error_code &ec) {
  // The pending flag stays set while curl runs, so that a close_socket inside it cannot free w.
  if (!w->gone && ec != boost::asio::error::operation_aborted && (w->want & direction)) {
    const int mask = ec ? CURL_CSELECT_ERR : direction == CURL_POLL_IN ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
    act(w->fd, mask);
  }
  (direction == CURL_POLL_IN ? w->reading : w->writing) = false;
  if (w->gone) {
    if (!w->reading && !w->writing) delete w;
    return;
  }
  arm(w);  // curl calls on_socket only when what it wants changes: keep watching
}

int CurlMultiLoop::on_timer(CURLM *, long timeout_ms, void *self_) {
  auto *self = static_cast<CurlMultiLoop *>(self_);
  if (self->closed_) return 0;
  try {
    if (timeout_ms < 0) {
      self->due_.reset();  // an armed timer finds nothing due and stays quiet
    } else if (timeout_ms == 0) {
      // "As soon as possible": a post, not a timer (no timerfd round trip). curl may not be
      // re-entered from its own callback, so never here directly.
      self->due_.reset();
      if (!self->kick_posted_) {
        self->kick_posted_ = true;
        boost::asio::post(self->executor_, self->pending_.tracked([self] {
          self->kick_posted_ = false;
          self->act(CURL_SOCKET_TIMEOUT, 0);
        }));
      }
    } else {
      const auto at = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
      self->due_ = at;
      if (!self->armed_ || at < *self->armed_) self->arm_timer(at);
    }
    return 0;
  } catch (...) {
    return -1;
  }
}

void CurlMultiLoop::arm_timer(SteadyClock::time_point at) {
  armed_ = at;
  timer_.expires_at(at);  // a wait already pending completes as aborted
  timer_.async_wait(pending_.tracked([this](const boost::system::error_code &ec) { on_timer_fired(ec); }));
}

void CurlMultiLoop::on_timer_fired(const boost::system::error_code &ec) {
  if (ec == boost::asio::error::operation_aborted || closed_) return;  // re-armed, or closing
  armed_.reset();
  if (due_ && *due_ <= SteadyClock::now()) {
    due_.reset();
    act(CURL_SOCKET_TIMEOUT, 0);
  }
  if (due_ && !armed_) arm_timer(*due_);  // curl pushed its timeout back since we armed
}

void CurlMultiLoop::act(curl_socket_t fd, int mask) {
  if (!multi_ || closed_) return;
  // curl calls the plugins' on_line from in here, and finished_ their done: a build one of them
  // releases is unloaded when this returns (see CallingPlugin). Only on the event loop: on the
  // blocking path a plugin's own frames are below the HTTP service.
  const CallingPlugin calling;
  int running = 0;
  curl_multi_socket_action(multi_, fd, mask, &running);
  int queued = 0;
  while (CURLMsg *msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    remove(easy);  // a finished transfer's connection stays cached
    finished_(owner_, easy, code);
  }
}

void CurlMultiLoop::close() {
  closed_ = true;
  if (multi_) curl_multi_cleanup(multi_);  // closes cached connections through close_socket
  multi_ = nullptr;
  while (!watches_.empty()) forget(watches_.begin()->second);
  timer_.cancel();
  for (CURL *easy : idle_) curl_easy_cleanup(easy);
  idle_.clear();
}

}  // namespace llmhost::detail::http
