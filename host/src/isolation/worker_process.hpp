// One worker process of an isolated plugin, from the host's side: started as `llmhost
// __worker` with one end of a socketpair as its only descriptor beyond stdio, and the host's
// end of that channel. Frames go out whole, one sender at a time, from any thread; a worker
// that stops reading for `send_timeout` is killed, so no sender waits on it for longer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "isolation/frame.hpp"

namespace llmhost::isolation {

struct WorkerCommand {
  std::filesystem::path executable;  // the llmhost binary
  std::filesystem::path plugin;      // the plugin file the worker loads (a private copy)
  std::filesystem::path shown_as;    // the file its errors name (the one in the plugin folder)
  size_t max_memory_mb = 0;          // its address space cap; 0 = none
  std::chrono::milliseconds send_timeout{5000};
  std::string default_encoding = "cl100k_base";  // its llmhost.tokens.v1's for unknown models
};

// How a worker ended, as waitid reports it.
struct WorkerExit {
  bool signaled = false;
  int value = 0;  // the signal, or the exit code
  // "killed by signal 11 (SIGSEGV)" or "exited with code 3".
  std::string describe() const;
  // The metrics label: "signal" or "exit".
  const char *reason() const { return signaled ? "signal" : "exit"; }
};

class WorkerProcess {
 public:
  // Starts the worker. Throws std::system_error naming what failed.
  explicit WorkerProcess(const WorkerCommand &command);
  // Kills the worker if it still runs, reaps it, and closes the channel.
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess &) = delete;
  WorkerProcess &operator=(const WorkerProcess &) = delete;

  pid_t pid() const { return pid_; }
  int channel() const { return channel_; }  // the host's end; reads are the owner's job
  int pidfd() const { return pidfd_; }      // readable once the worker has exited

  // Sends one frame; false when the worker has gone or stopped reading (it is killed then).
  // Any thread.
  bool send(FrameType type, uint64_t call_id, std::string_view payload);
  // Ends the host's side of the channel: the worker sees it close and exits.
  void close_channel();
  // SIGKILL, unless already reaped. Any thread.
  void kill();
  // Waits until the worker has exited and reaps it. Once, from the owner.
  WorkerExit wait();

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int channel_ = -1;
  bool reaped_ = false;
  std::mutex send_mu_;
};

}  // namespace llmhost::isolation
