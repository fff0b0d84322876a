#include "proxy/session_loop.hpp"

#include "proxy/session.hpp"

namespace llmhost::proxy {

void SessionLoop::watch_later(std::weak_ptr<Session> session, uint64_t gen) {
  fresh_.emplace_back(std::move(session), gen);
  if (!armed_) arm();
}

void SessionLoop::arm() {
  armed_ = true;
  timer_.expires_after(kSweep);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // the server is shutting down
    armed_ = false;
    sweep();
  });
}

// The vectors keep their capacity: after the first sweeps under load, adding allocates nothing.
void SessionLoop::sweep() {
  for (auto &[weak, gen] : aging_)
    if (const std::shared_ptr<Session> s = weak.lock()) s->watch_disconnect(gen);
  aging_.clear();
  std::swap(aging_, fresh_);
  if (!aging_.empty()) arm();
}

}  // namespace llmhost::proxy
