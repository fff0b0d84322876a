#include "isolation/worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
// glibc 2.36 declares these without C linkage for C++.
extern "C" {
#include <sys/pidfd.h>
}

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

extern char **environ;

namespace llmhost::isolation {
namespace {

[[noreturn]] void fail(int err, const std::string &what) {
  throw std::system_error(err, std::generic_category(), what);
}

// The fd the worker finds its channel on (`--fd 3`).
constexpr int kWorkerChannelFd = 3;

}  // namespace

std::string WorkerExit::describe() const {
  if (!signaled) return "exited with code " + std::to_string(value);
  const char *name = ::sigabbrev_np(value);
  return "was killed by signal " + std::to_string(value) + (name ? std::string(" (SIG") + name + ")" : std::string());
}

WorkerProcess::WorkerProcess(const WorkerCommand &command) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail(errno, "socketpair");
  channel_ = sv[0];
  int child_end = sv[1];
  // dup2 onto its own number would keep close-on-exec: move the child's end out of the way.
  if (child_end <= kWorkerChannelFd) {
    const int moved = ::fcntl(child_end, F_DUPFD_CLOEXEC, kWorkerChannelFd + 1);
    ::close(child_end);
    child_end = moved;
    if (child_end < 0) {
      ::close(channel_);
      fail(errno, "fcntl(F_DUPFD_CLOEXEC)");
    }
  }
  const timeval tv{static_cast<time_t>(command.send_timeout.count() / 1000),
                   static_cast<suseconds_t>(command.send_timeout.count() % 1000 * 1000)};
  ::setsockopt(channel_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  const std::string exe = command.executable.string(), plugin = command.plugin.string(),
                    shown_as = command.shown_as.string(), fd = std::to_string(kWorkerChannelFd),
                    memory = std::to_string(command.max_memory_mb);
  std::vector<char *> argv{const_cast<char *>(exe.c_str()),
                           const_cast<char *>("__worker"),
                           const_cast<char *>("--fd"),
                           const_cast<char *>(fd.c_str()),
                           const_cast<char *>("--shown-as"),
                           const_cast<char *>(shown_as.c_str()),
                           const_cast<char *>("--default-encoding"),
                           const_cast<char *>(command.default_encoding.c_str())};
  if (command.max_memory_mb) {
    argv.push_back(const_cast<char *>("--max-memory-mb"));
    argv.push_back(const_cast<char *>(memory.c_str()));
  }
  argv.push_back(const_cast<char *>(plugin.c_str()));
  argv.push_back(nullptr);

  // Nothing of the host's is inherited but the channel (fd 3) and stderr, where a plugin's own
  // prints land; stdin and stdout are /dev/null.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, child_end, kWorkerChannelFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kWorkerChannelFd + 1);
  // The host may block or ignore signals the plugin relies on; the worker starts clean.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int rc = ::posix_spawn(&pid_, exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(child_end);
  if (rc != 0) {
    ::close(channel_);
    fail(rc, "cannot start the worker " + exe);
  }
  pidfd_ = ::pidfd_open(pid_, 0);
  if (pidfd_ < 0) {
    const int err = errno;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(channel_);
    fail(err, "pidfd_open");
  }
}

WorkerProcess::~WorkerProcess() {
  if (!reaped_) {
    kill();
    wait();
  }
  ::close(pidfd_);
  ::close(channel_);
}

bool WorkerProcess::send(FrameType type, uint64_t call_id, std::string_view payload) {
  std::string frame;
  append_frame(frame, type, call_id, payload);
  std::lock_guard lock(send_mu_);
  for (size_t sent = 0; sent < frame.size();) {
    // MSG_NOSIGNAL: a worker that has gone is an error here, not a SIGPIPE for the host.
    const ssize_t n = ::send(channel_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Gone, or not reading for send_timeout (EAGAIN), or a frame left half written: in each
      // case this channel cannot carry another frame.
      kill();
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

void WorkerProcess::close_channel() { ::shutdown(channel_, SHUT_WR); }

void WorkerProcess::kill() {
  // Through the pidfd: the pid may already belong to another process once reaped, the pidfd not.
  ::pidfd_send_signal(pidfd_, SIGKILL, nullptr, 0);
}

WorkerExit WorkerProcess::wait() {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED) != 0 && errno == EINTR) {}
  reaped_ = true;
  WorkerExit exit;
  exit.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  exit.value = info.si_status;
  return exit;
}

}  // namespace llmhost::isolation
