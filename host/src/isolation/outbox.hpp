// The worker's sending end of its channel. Frames go out whole and in the order they were
// sent, from any thread. A stream's chunks are batched: a writer thread takes every chunk sent
// since its last write in one write, so a plugin streaming fast costs a system call per batch,
// not per chunk, and a chunk waits at most for the write before it. Other frames (an answer, a
// log line) are written by the sending thread at once when nothing is queued.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "isolation/frame.hpp"

namespace llmhost::isolation {

class Outbox {
 public:
  // Writes to `fd`, which the caller keeps open until this is destroyed.
  explicit Outbox(int fd);
  // Writes what is queued, then stops the writer thread.
  ~Outbox();
  Outbox(const Outbox &) = delete;
  Outbox &operator=(const Outbox &) = delete;

  // False once a write has failed: the host has gone, and every later send says so too.
  bool send(FrameType type, uint64_t call_id, std::string_view payload);
  // A chunk: queued for the writer thread.
  bool send_batched(FrameType type, uint64_t call_id, std::string_view payload);

 private:
  bool write_all(std::string_view bytes);
  void run();

  const int fd_;
  std::mutex mu_;
  std::condition_variable queued_;
  std::string queue_;     // frames waiting for the writer thread
  bool writing_ = false;  // a thread is writing now: what is sent meanwhile must queue behind it
  bool failed_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace llmhost::isolation
