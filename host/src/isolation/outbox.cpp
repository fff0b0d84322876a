#include "isolation/outbox.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace llmhost::isolation {

Outbox::Outbox(int fd) : fd_(fd), writer_([this] { run(); }) {}

Outbox::~Outbox() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_one();
  writer_.join();
}

bool Outbox::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a host that has gone is an error here, not a SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Outbox::send(FrameType type, uint64_t call_id, std::string_view payload) {
  std::unique_lock lock(mu_);
  if (failed_) return false;
  if (writing_ || !queue_.empty()) {  // behind what is queued, to keep the order
    append_frame(queue_, type, call_id, payload);
    queued_.notify_one();
    return true;
  }
  writing_ = true;
  lock.unlock();
  std::string frame;
  append_frame(frame, type, call_id, payload);
  const bool ok = write_all(frame);
  lock.lock();
  writing_ = false;
  failed_ = failed_ || !ok;
  if (!queue_.empty()) queued_.notify_one();
  return ok;
}

bool Outbox::send_batched(FrameType type, uint64_t call_id, std::string_view payload) {
  std::lock_guard lock(mu_);
  if (failed_) return false;
  const bool wake = queue_.empty();
  append_frame(queue_, type, call_id, payload);
  if (wake) queued_.notify_one();
  return true;
}

void Outbox::run() {
  std::string batch;
  std::unique_lock lock(mu_);
  for (;;) {
    queued_.wait(lock, [&] { return (!queue_.empty() && !writing_) || (stopping_ && !writing_); });
    if (queue_.empty()) return;  // stopping, and all written
    batch.swap(queue_);
    writing_ = true;
    const bool failed = failed_;
    lock.unlock();
    const bool ok = !failed && write_all(batch);
    batch.clear();
    lock.lock();
    writing_ = false;
    failed_ = failed_ || !ok;
    if (failed_) queue_.clear();
  }
}

}  // namespace llmhost::isolation
